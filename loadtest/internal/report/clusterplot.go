package report

import (
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// PlotClusterTimeline draws a target's run over time into a PNG: open
// connections above, memory below (server processes' RSS, the kernel's
// socket memory, the load generator's RSS, Redis), with the phases marked.
func PlotClusterTimeline(path, title string, t *ClusterTarget) error {
	if len(t.Series) < 2 {
		return errors.New("report: too few samples to plot")
	}
	conns := plot.New()
	conns.Title.Text = title
	conns.Y.Label.Text = "connections"
	conns.Y.Min = 0
	conns.Y.Tick.Marker = thousands{}
	mem := plot.New()
	mem.X.Label.Text = "seconds since the servers started"
	mem.Y.Label.Text = "memory (GiB)"
	mem.Y.Min = 0
	conns.X.Tick.Marker, mem.X.Tick.Marker = wholeTicks{}, wholeTicks{}
	lines := []struct {
		p    *plot.Plot
		name string
		get  func(s SeriesPoint) float64
	}{
		{conns, "open", func(s SeriesPoint) float64 { return float64(s.Open) }},
		{mem, "server RSS (all processes)", func(s SeriesPoint) float64 { return gib(s.ServerRSS) }},
		{mem, "kernel: slab + TCP buffers (growth)", func(s SeriesPoint) float64 { return gib(s.KernelMem) }},
		{mem, "load generator RSS", func(s SeriesPoint) float64 { return gib(s.ClientRSS) }},
		{mem, "Redis used_memory (growth)", func(s SeriesPoint) float64 { return gib(s.Redis) }},
	}
	top := map[*plot.Plot]float64{}
	for i, l := range lines {
		pts := make(plotter.XYs, len(t.Series))
		for j, s := range t.Series {
			pts[j] = plotter.XY{X: s.T, Y: l.get(s)}
			top[l.p] = max(top[l.p], pts[j].Y)
		}
		ln, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		ln.Color = plotutil.Color(i)
		ln.Width = vg.Points(1.5)
		l.p.Add(ln)
		l.p.Legend.Add(l.name, ln)
	}
	for _, p := range []*plot.Plot{conns, mem} {
		p.Legend.Top, p.Legend.Left = true, true
		p.Add(plotter.NewGrid())
		p.X.Min, p.X.Max = t.Series[0].T, t.Series[len(t.Series)-1].T
		p.Y.Max = top[p] * 1.25 // room for the legend and the phase names
	}
	// Phase boundaries: a grey line in both panels, the name in the top one.
	var labels plotter.XYLabels
	for _, m := range t.Phases {
		for _, p := range []*plot.Plot{conns, mem} {
			ln, err := plotter.NewLine(plotter.XYs{{X: m.T, Y: 0}, {X: m.T, Y: p.Y.Max}})
			if err != nil {
				return err
			}
			ln.Color = color.Gray{Y: 160}
			ln.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
			p.Add(ln)
		}
		labels.XYs = append(labels.XYs, plotter.XY{X: m.T, Y: conns.Y.Max * 0.02})
		labels.Labels = append(labels.Labels, " "+m.Name)
	}
	if len(labels.XYs) > 0 {
		lb, err := plotter.NewLabels(labels)
		if err != nil {
			return err
		}
		for i := range lb.TextStyle {
			lb.TextStyle[i].Rotation = 1.5708 // upwards
			lb.TextStyle[i].Font.Size = vg.Points(8)
		}
		conns.Add(lb)
	}

	img := vgimg.New(8*vg.Inch, 7*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8), PadY: vg.Points(6)}
	grid := [][]*plot.Plot{{conns}, {mem}}
	cv := plot.Align(grid, tiles, dc)
	conns.Draw(cv[0][0])
	mem.Draw(cv[1][0])
	f, err := os.Create(filepath.Clean(path))
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func gib(b int64) float64 { return float64(b) / (1 << 30) }

// thousands labels a count axis 0, 250k, 500k, ... instead of 2.5e+05.
type thousands struct{}

func (thousands) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label == "" {
			continue
		}
		v := ticks[i].Value
		switch {
		case v >= 1e6:
			ticks[i].Label = trimZeros(v/1e6) + "M"
		case v >= 1e3:
			ticks[i].Label = trimZeros(v/1e3) + "k"
		default:
			ticks[i].Label = trimZeros(v)
		}
	}
	return ticks
}

// wholeTicks labels an axis of seconds without decimals.
type wholeTicks struct{}

func (wholeTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', 0, 64)
		}
	}
	return ticks
}

func trimZeros(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
