package hub

import (
	"context"
	"sync"
	"time"
)

// lazyDeadline is a context with a deadline whose timer is made only when
// somebody asks for Done. Every Presence call is bounded by WriteTimeout, yet
// the Presences that come with the hub (in memory, Redis) only change memory
// and never wait: with context.WithTimeout each connect and disconnect paid
// for two timers and their allocations, the largest allocation of a connect
// (docs/benchmarks.md). Err reads the clock, so the deadline holds for a
// caller that checks Err without ever waiting on Done.
//
// Like every context it may be used from any goroutine; cancel (a method,
// not a returned func: one allocation less) releases the timer, if one was
// made.
type lazyDeadline struct {
	deadline time.Time

	mu    sync.Mutex
	done  chan struct{} // made by the first Done
	timer *time.Timer   // made with done, when the deadline is still ahead
	err   error         // Canceled or DeadlineExceeded, once over
}

func withLazyDeadline(d time.Duration) *lazyDeadline {
	return &lazyDeadline{deadline: time.Now().Add(d)}
}

// cancel ends the context with context.Canceled (if it is not over yet) and
// stops its timer.
func (c *lazyDeadline) cancel() { c.end(context.Canceled) }

func (c *lazyDeadline) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *lazyDeadline) Value(any) any { return nil }

func (c *lazyDeadline) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		c.expireLocked()
		if c.err != nil {
			close(c.done)
		} else {
			c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.end(context.DeadlineExceeded) })
		}
	}
	return c.done
}

func (c *lazyDeadline) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.expireLocked()
		if c.err != nil && c.done != nil {
			close(c.done)
		}
	}
	return c.err
}

// expireLocked sets err when the deadline has passed (the timer may not
// have fired yet, or not exist).
func (c *lazyDeadline) expireLocked() {
	if c.err == nil && !time.Now().Before(c.deadline) {
		c.err = context.DeadlineExceeded
	}
}

// end makes the context over with err, unless it already is.
func (c *lazyDeadline) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
}
