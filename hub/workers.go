package hub

import (
	"sync"
	"time"
)

// workerPool runs client mailboxes on goroutines that outlive one batch of
// work. A goroutine per message would pay for its creation and, worse, for
// growing its stack through the handler's call chain every time; a pooled
// worker keeps its grown stack. Workers idle for workerIdle exit (a reaper
// goroutine, alive only while workers are idle, sends them home), so an idle
// hub holds no goroutine.
type workerPool struct {
	mu      sync.Mutex
	idle    []*worker // most recently idle last
	reaping bool
}

type worker struct {
	jobs      chan *Client // the client whose mailbox to drain; nil: exit
	idleSince time.Time
}

// A busy hub keeps up to maxIdleWorker goroutines warm between messages
// (fewer made a hub with thousands of active clients keep creating workers
// and regrowing their stacks: +3 us of user CPU per echo round trip in the
// load generator).
const (
	workerIdle    = time.Second
	maxIdleWorker = 4096
)

// run drains c's mailbox (c.work) on an idle worker, or on a new one. It
// takes the client, not a func: a method value would be an allocation per
// message.
func (p *workerPool) run(c *Client) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.jobs <- c // buffered: never blocks
		return
	}
	p.mu.Unlock()
	w := &worker{jobs: make(chan *Client, 1)}
	go w.loop(p, c)
}

func (w *worker) loop(p *workerPool, c *Client) {
	for c != nil {
		c.work()
		p.mu.Lock()
		if len(p.idle) >= maxIdleWorker {
			p.mu.Unlock()
			return
		}
		w.idleSince = time.Now()
		p.idle = append(p.idle, w)
		if !p.reaping {
			p.reaping = true
			go p.reap()
		}
		p.mu.Unlock()
		c = <-w.jobs
	}
}

// reap sends home the workers idle for workerIdle, and exits when none is
// idle any more.
func (p *workerPool) reap() {
	var victims []*worker
	for {
		time.Sleep(workerIdle / 2)
		p.mu.Lock()
		cutoff := time.Now().Add(-workerIdle)
		n := 0
		for n < len(p.idle) && p.idle[n].idleSince.Before(cutoff) {
			n++ // the oldest idle workers are at the front
		}
		victims = append(victims[:0], p.idle[:n]...)
		rest := copy(p.idle, p.idle[n:])
		clear(p.idle[rest:])
		p.idle = p.idle[:rest]
		done := len(p.idle) == 0
		if done {
			p.reaping = false
		}
		p.mu.Unlock()
		for i, w := range victims {
			w.jobs <- nil
			victims[i] = nil
		}
		if done {
			return
		}
	}
}
