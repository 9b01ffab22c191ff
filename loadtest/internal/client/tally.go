package client

import "sync"

// maxKinds bounds the distinct error messages kept: a run with 20,000
// identical failures reports one line with a count, and a run with wildly
// varying errors cannot grow memory without bound.
const maxKinds = 32

// Tally counts errors by message.
type Tally struct {
	mu sync.Mutex
	m  map[string]int64
}

// Add counts one occurrence of msg.
func (t *Tally) Add(msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]int64{}
	}
	if _, ok := t.m[msg]; !ok && len(t.m) >= maxKinds {
		msg = "(other errors)"
	}
	t.m[msg]++
}

// Snapshot returns a copy of the counts (nil when there were none).
func (t *Tally) Snapshot() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(t.m))
	for k, v := range t.m {
		out[k] = v
	}
	return out
}

// MergeErrors adds the counts of src into dst, creating it if needed.
func MergeErrors(dst map[string]int64, src map[string]int64) map[string]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]int64{}
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}
