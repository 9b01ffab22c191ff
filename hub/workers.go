package hub

import (
	"sync"
	"time"
)

// workerPool runs client mailboxes on goroutines that outlive one batch of
// work. A goroutine per message would pay for its creation and, worse, for
// growing its stack through the handler's call chain every time; a pooled
// worker keeps its grown stack. Idle workers wait up to workerIdle for more
// work and then exit, so an idle hub holds no goroutine.
type workerPool struct {
	mu   sync.Mutex
	idle []*worker
}

type worker struct {
	jobs chan func()
}

// A busy hub keeps up to maxIdleWorker goroutines warm between messages
// (fewer made a hub with thousands of active clients keep creating workers
// and regrowing their stacks: +3 us of user CPU per echo round trip in the
// load generator); each exits after workerIdle without work.
const (
	workerIdle    = time.Second
	maxIdleWorker = 4096
)

// run calls f on an idle worker, or on a new one.
func (p *workerPool) run(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.jobs <- f // buffered: never blocks
		return
	}
	p.mu.Unlock()
	w := &worker{jobs: make(chan func(), 1)}
	go w.loop(p, f)
}

func (w *worker) loop(p *workerPool, f func()) {
	var idle *time.Timer
	for {
		f()
		f = nil
		p.mu.Lock()
		if len(p.idle) >= maxIdleWorker {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		if idle == nil {
			idle = time.NewTimer(workerIdle)
		} else {
			idle.Reset(workerIdle)
		}
		select {
		case f = <-w.jobs:
			idle.Stop()
		case <-idle.C:
			if p.remove(w) {
				return
			}
			f = <-w.jobs // run took w off the list just now: its job is on the way
		}
	}
}

// remove takes w off the idle list; false means run already took it.
func (p *workerPool) remove(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.idle {
		if x == w {
			last := len(p.idle) - 1
			p.idle[i] = p.idle[last]
			p.idle[last] = nil
			p.idle = p.idle[:last]
			return true
		}
	}
	return false
}
