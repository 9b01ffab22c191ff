package report

import (
	"errors"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/surge-ws/ws/loadtest/internal/hist"
)

// Series is one named latency histogram to draw.
type Series struct {
	Name string
	Hist *hist.Hist
}

// percentileTicks label the x axis of a latency plot, which is drawn against
// 1/(1-p) on a log scale so the tail gets the room it deserves.
var percentileTicks = plot.ConstantTicks{
	{Value: 2, Label: "50%"}, {Value: 10, Label: "90%"}, {Value: 100, Label: "99%"},
	{Value: 1000, Label: "99.9%"}, {Value: 10000, Label: "99.99%"}, {Value: 100000, Label: "99.999%"},
}

// PlotLatency draws the percentile distributions of the series into a PNG
// (or SVG, by path's extension).
func PlotLatency(path, title string, series []Series) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "percentile"
	p.Y.Label.Text = "latency (ms)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = percentileTicks
	// Lines rise to the right: the bottom right corner is free for the legend.
	p.Legend.Top, p.Legend.Left = false, false
	p.Y.Min = 0
	drawn := 0
	for i, s := range series {
		if s.Hist == nil || s.Hist.Count() == 0 {
			continue
		}
		var pts plotter.XYs
		// The maximum (q = 1) would sit at infinity: draw it where the
		// one-in-count value lies, the farthest percentile the data resolves.
		top := max(float64(s.Hist.Count()), 2)
		for _, pt := range s.Hist.Distribution() {
			q := pt.Percentile / 100
			if q < 0.5 {
				continue
			}
			x := 1 / (1 - q)
			if math.IsInf(x, 0) || x > top {
				x = top
			}
			pts = append(pts, plotter.XY{X: x, Y: hist.Ms(pt.Value)})
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.Name, l)
		drawn++
	}
	if drawn == 0 {
		return errors.New("report: no latency to plot")
	}
	p.Add(plotter.NewGrid())
	return p.Save(7*vg.Inch, 4*vg.Inch, path)
}

// Bar is one bar of a memory chart, in bytes.
type Bar struct {
	Label string
	Bytes float64
}

// PlotMemory draws bytes per connection as bars.
func PlotMemory(path, title string, groups []string, bars [][]Bar) error {
	if len(bars) == 0 || len(bars[0]) == 0 {
		return errors.New("report: no memory figures to plot")
	}
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "KiB per connection"
	labels := make([]string, len(bars[0]))
	for i, b := range bars[0] {
		labels[i] = b.Label
	}
	w := vg.Points(18)
	for g, set := range bars {
		vals := make(plotter.Values, len(set))
		for i, b := range set {
			vals[i] = b.Bytes / 1024
		}
		bc, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return err
		}
		bc.Color = plotutil.Color(g)
		bc.LineStyle.Color = color.Black
		bc.Offset = w * vg.Length(float64(g)-float64(len(bars)-1)/2)
		p.Add(bc)
		if g < len(groups) && len(bars) > 1 {
			p.Legend.Add(groups[g], bc)
		}
	}
	p.Legend.Top = true
	p.NominalX(labels...)
	p.Add(plotter.NewGrid())
	return p.Save(7*vg.Inch, 4*vg.Inch, path)
}
