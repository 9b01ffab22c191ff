package agent

import (
	"context"
	"sync"

	"github.com/surge-ws/ws/loadtest/internal/client"
)

// Fleet runs each step on all its agents at once.
type Fleet struct {
	Agents []Agent

	mu       sync.Mutex
	failed   map[int]bool
	failures []string
}

// Each runs the step build(i) on every live agent in parallel and returns the
// reports by agent index; an agent whose step failed gets nil and its error
// is recorded (once per agent) in Failures. A nil Cmd from build skips that
// agent.
func (f *Fleet) Each(ctx context.Context, build func(i int) *Cmd) []*Report {
	out := make([]*Report, len(f.Agents))
	var wg sync.WaitGroup
	for i, a := range f.Agents {
		// A dead agent that has not failed a step yet still gets this one:
		// Do returns its obituary at once, and Failures records it.
		if f.isFailed(i) {
			continue
		}
		cmd := build(i)
		if cmd == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := a.Do(ctx, *cmd)
			if err != nil {
				f.fail(i, err)
				return
			}
			out[i] = &rep
		}()
	}
	wg.Wait()
	return out
}

// All runs the same step on every live agent.
func (f *Fleet) All(ctx context.Context, cmd Cmd) []*Report {
	return f.Each(ctx, func(int) *Cmd { return &cmd })
}

func (f *Fleet) fail(i int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed == nil {
		f.failed = map[int]bool{}
	}
	if f.failed[i] {
		return
	}
	f.failed[i] = true
	f.failures = append(f.failures, err.Error())
}

func (f *Fleet) isFailed(i int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed[i]
}

// Alive reports whether agent i has not failed and is not dead.
func (f *Fleet) Alive(i int) bool {
	f.mu.Lock()
	failed := f.failed[i]
	f.mu.Unlock()
	if failed {
		return false
	}
	select {
	case <-f.Agents[i].Dead():
		return false
	default:
		return true
	}
}

// Failures returns the recorded agent failures, in order.
func (f *Fleet) Failures() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.failures...)
}

// Counters sums the agents' latest running totals.
func (f *Fleet) Counters() client.Counters {
	var c client.Counters
	for _, a := range f.Agents {
		c.Add(a.Counters())
	}
	return c
}

// Close ends every agent, in parallel.
func (f *Fleet) Close() {
	var wg sync.WaitGroup
	for _, a := range f.Agents {
		wg.Add(1)
		go func() { defer wg.Done(); _ = a.Close() }()
	}
	wg.Wait()
}
