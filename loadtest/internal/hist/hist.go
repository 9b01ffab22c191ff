package hist

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

const (
	lowest  = 1                                          // µs
	highest = int64(10 * time.Minute / time.Microsecond) // µs
	digits  = 3
)

// Hist is one latency histogram. It is not safe for concurrent use; see
// Recorder for that.
type Hist struct {
	h       *hdrhistogram.Histogram
	clamped int64
}

// New returns an empty histogram.
func New() *Hist { return &Hist{h: hdrhistogram.New(lowest, highest, digits)} }

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < lowest {
		us = lowest
	}
	if us > highest {
		us = highest
		h.clamped++
	}
	_ = h.h.RecordValue(us) // in range by construction
}

// Merge adds every value of o.
func (h *Hist) Merge(o *Hist) {
	if o == nil {
		return
	}
	h.h.Merge(o.h)
	h.clamped += o.clamped
}

// Reset empties h, keeping its memory.
func (h *Hist) Reset() {
	h.h.Reset()
	h.clamped = 0
}

// Count is the number of values recorded.
func (h *Hist) Count() int64 { return h.h.TotalCount() }

// Clamped is the number of values larger than the histogram's range.
func (h *Hist) Clamped() int64 { return h.clamped }

// Quantile returns the value at quantile q (0..1), as a duration.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.h.ValueAtPercentile(q*100)) * time.Microsecond
}

// Max returns the largest value recorded (to the histogram's precision).
func (h *Hist) Max() time.Duration { return time.Duration(h.h.Max()) * time.Microsecond }

// Ms converts a duration to float milliseconds, the unit of every report.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Point is one step of a percentile distribution: the latency below which
// Percentile percent of the values lie.
type Point struct {
	Percentile float64
	Value      time.Duration
}

// Distribution returns the percentile curve, from the median to the maximum,
// with points closer together in the tail where they matter.
func (h *Hist) Distribution() []Point {
	if h.Count() == 0 {
		return nil
	}
	var pts []Point
	for _, b := range h.h.CumulativeDistribution() {
		pts = append(pts, Point{Percentile: b.Quantile, Value: time.Duration(b.ValueAt) * time.Microsecond})
	}
	return pts
}

// Snapshot is a histogram encoded for transport: the base64 compressed V2
// encoding of HdrHistogram, prefixed by the clamped count. It is a plain
// string so it travels inside JSON.
type Snapshot string

// Snapshot encodes h.
func (h *Hist) Snapshot() (Snapshot, error) {
	b, err := h.h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", err
	}
	return Snapshot(fmt.Sprintf("%d:%s", h.clamped, b)), nil
}

// Decode turns a Snapshot back into a histogram. The empty Snapshot decodes
// to an empty histogram.
func Decode(s Snapshot) (*Hist, error) {
	if s == "" {
		return New(), nil
	}
	var clamped int64
	var enc string
	if _, err := fmt.Sscanf(string(s), "%d:%s", &clamped, &enc); err != nil {
		return nil, fmt.Errorf("hist: bad snapshot: %w", err)
	}
	h, err := hdrhistogram.Decode([]byte(enc))
	if err != nil {
		return nil, fmt.Errorf("hist: bad snapshot: %w", err)
	}
	return &Hist{h: h, clamped: clamped}, nil
}

// MergeSnapshots decodes and merges snapshots (from several workers).
func MergeSnapshots(snaps ...Snapshot) (*Hist, error) {
	out := New()
	for _, s := range snaps {
		h, err := Decode(s)
		if err != nil {
			return nil, err
		}
		out.Merge(h)
	}
	return out, nil
}
