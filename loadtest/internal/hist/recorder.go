package hist

import (
	"sync"
	"time"
)

const shards = 8

// Recorder is a histogram that many goroutines record into at once (the
// event loop delivers messages on several goroutines). Recordings are spread
// over a few independently locked shards by a caller-chosen key, such as a
// connection's index, so recorders rarely wait for each other.
type Recorder struct {
	sh [shards]struct {
		mu sync.Mutex
		h  *Hist
		_  [40]byte // keep shards on separate cache lines
	}
}

// Record adds one latency to the shard of key.
func (r *Recorder) Record(key int, d time.Duration) {
	s := &r.sh[uint(key)%shards]
	s.mu.Lock()
	if s.h == nil {
		s.h = New()
	}
	s.h.Record(d)
	s.mu.Unlock()
}

// Hist returns a merged copy of everything recorded so far.
func (r *Recorder) Hist() *Hist {
	out := New()
	for i := range r.sh {
		s := &r.sh[i]
		s.mu.Lock()
		out.Merge(s.h)
		s.mu.Unlock()
	}
	return out
}

// Reset forgets everything recorded. The histograms' memory is kept, so
// that a measurement of this process's memory is not disturbed by their
// allocation.
func (r *Recorder) Reset() {
	for i := range r.sh {
		s := &r.sh[i]
		s.mu.Lock()
		if s.h != nil {
			s.h.Reset()
		}
		s.mu.Unlock()
	}
}
