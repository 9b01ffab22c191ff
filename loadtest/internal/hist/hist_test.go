package hist

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestMergeAcrossWorkers records the same values once into one histogram and
// once spread over three "workers" whose snapshots travel as strings; the
// merged percentiles must equal the single histogram's exactly.
func TestMergeAcrossWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := New()
	workers := []*Hist{New(), New(), New()}
	for i := range 30000 {
		// A long-tailed mix: mostly ~1 ms, some ~50 ms, a few seconds.
		d := time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
		if i%100 == 0 {
			d += 50 * time.Millisecond
		}
		if i%5000 == 0 {
			d += 3 * time.Second
		}
		all.Record(d)
		workers[i%3].Record(d)
	}
	var snaps []Snapshot
	for _, w := range workers {
		s, err := w.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, s)
	}
	merged, err := MergeSnapshots(snaps...)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Count() != all.Count() {
		t.Fatalf("count %d, want %d", merged.Count(), all.Count())
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		if got, want := merged.Quantile(q), all.Quantile(q); got != want {
			t.Errorf("q%v = %v, want %v", q, got, want)
		}
	}
	if merged.Max() != all.Max() {
		t.Errorf("max %v, want %v", merged.Max(), all.Max())
	}
	// The shortcut this package exists to avoid: averaging per-worker p99s
	// is not the p99 of the whole (here the tail sits in one worker only).
	tail := []*Hist{New(), New()}
	for range 990 {
		tail[0].Record(time.Millisecond)
	}
	for range 10 {
		tail[1].Record(time.Second)
	}
	m := New()
	m.Merge(tail[0])
	m.Merge(tail[1])
	if got := m.Quantile(0.995); got < 900*time.Millisecond {
		t.Errorf("merged p99.5 = %v, want about 1s", got)
	}
}

func TestClampAndEmpty(t *testing.T) {
	h := New()
	if h.Quantile(0.99) != 0 || h.Distribution() != nil {
		t.Fatal("empty histogram should report zero")
	}
	h.Record(time.Hour)
	h.Record(0)
	if h.Clamped() != 1 || h.Count() != 2 {
		t.Fatalf("clamped %d count %d", h.Clamped(), h.Count())
	}
	s, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(s)
	if err != nil || back.Clamped() != 1 || back.Count() != 2 {
		t.Fatalf("decode: %v clamped %d count %d", err, back.Clamped(), back.Count())
	}
	if e, err := Decode(""); err != nil || e.Count() != 0 {
		t.Fatalf("empty snapshot: %v", err)
	}
	if _, err := Decode("garbage"); err == nil {
		t.Fatal("garbage decoded")
	}
}

func TestRecorderConcurrent(t *testing.T) {
	var r Recorder
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				r.Record(g*1000+i, time.Duration(i)*time.Microsecond)
			}
		}()
	}
	wg.Wait()
	if n := r.Hist().Count(); n != 8000 {
		t.Fatalf("count %d", n)
	}
	r.Reset()
	if n := r.Hist().Count(); n != 0 {
		t.Fatalf("after reset %d", n)
	}
}

func TestDistributionIsMonotonic(t *testing.T) {
	h := New()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	pts := h.Distribution()
	if len(pts) < 5 {
		t.Fatalf("%d points", len(pts))
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].Percentile < pts[i-1].Percentile || pts[i].Value < pts[i-1].Value {
			t.Fatalf("not monotonic at %d: %+v %+v", i, pts[i-1], pts[i])
		}
	}
}
