package conn

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/surge-ws/ws/poller"
)

// engine is what every connection of one Server or Dialer shares.
type engine struct {
	cfg     Config
	handler Handler
	wheel   *poller.Wheel
	flush   *flusher

	// Deadlines in wheel ticks.
	handshakeTicks, readTicks, pingTicks, pongTicks, closeTicks, lingerTicks poller.Tick
	// pingPhase is where this engine's ping grid starts (see pingDue): drawn
	// at random so that processes started together do not all send their
	// pings in the same second.
	pingPhase poller.Tick
}

// The wheel and the flusher pool are per process: one goroutine ticks every
// connection's deadlines, and GOMAXPROCS goroutines write every connection's
// queued frames.
var (
	sharedOnce    sync.Once
	sharedWheel   *poller.Wheel
	sharedFlusher *flusher
)

const wheelTick = 100 * time.Millisecond

func newEngine(cfg Config, h Handler, client bool) (*engine, error) {
	if err := poller.Setup(poller.Options{}); err != nil {
		return nil, err
	}
	sharedOnce.Do(func() {
		sharedWheel = poller.NewWheel(wheelTick, 1024)
		sharedFlusher = newFlusher(runtime.GOMAXPROCS(0))
	})
	if h == nil {
		h = HandlerFuncs{}
	}
	e := &engine{cfg: cfg.withDefaults(client), handler: h, wheel: sharedWheel, flush: sharedFlusher}
	w := e.wheel
	e.handshakeTicks = w.Ticks(e.cfg.HandshakeTimeout)
	e.readTicks = w.Ticks(e.cfg.ReadTimeout)
	e.pingTicks = w.Ticks(e.cfg.PingInterval)
	e.pingPhase = poller.Tick(rand.Int64N(int64(pingGrid(e.pingTicks))))
	e.pongTicks = w.Ticks(e.cfg.PongTimeout)
	e.closeTicks = w.Ticks(e.cfg.CloseTimeout)
	e.lingerTicks = w.Ticks(min(e.cfg.CloseTimeout, time.Second))
	return e, nil
}

// flusher is a pool of goroutines that write out connections whose queues
// were filled from outside their own input goroutine (a publish, a timer).
// A connection is queued here once however many frames it gets meanwhile, so
// a burst to one connection leaves in one system call.
type flusher struct {
	mu      sync.Mutex
	cond    *sync.Cond
	ready   []*Conn
	head    int // ready[:head] are taken
	waiting int
}

func newFlusher(n int) *flusher {
	f := &flusher{}
	f.cond = sync.NewCond(&f.mu)
	for range n {
		go f.run()
	}
	return f
}

func (f *flusher) submit(c *Conn) {
	f.mu.Lock()
	f.ready = append(f.ready, c)
	if f.waiting > 0 {
		f.cond.Signal()
	}
	f.mu.Unlock()
}

// submitMany queues every connection of cs (each already marked scheduled)
// under one lock.
func (f *flusher) submitMany(cs []*Conn) {
	f.mu.Lock()
	f.ready = append(f.ready, cs...)
	if f.waiting > 0 {
		f.cond.Broadcast()
	}
	f.mu.Unlock()
}

func (f *flusher) run() {
	var batch []*Conn
	var iov iovecs
	for {
		f.mu.Lock()
		for f.head == len(f.ready) {
			f.waiting++
			f.cond.Wait()
			f.waiting--
		}
		// Take a slice of the queue, not all of it, so the other flushers get work.
		n := min(len(f.ready)-f.head, 128)
		batch = append(batch[:0], f.ready[f.head:f.head+n]...)
		clear(f.ready[f.head : f.head+n])
		f.head += n
		if f.head == len(f.ready) {
			f.ready, f.head = f.ready[:0], 0
		} else if f.waiting > 0 {
			f.cond.Signal()
		}
		f.mu.Unlock()
		for i, c := range batch {
			batch[i] = nil
			c.flushScheduled(&iov)
		}
	}
}

// RunInline implements poller.Inliner: an open connection whose callbacks
// promise not to block (Config.NonBlocking) has its input handled right on
// the poller goroutine — no hand-off to a pooled goroutine per burst of input.
// Everything else — handshakes, whose Upgrade hook may block, ordinary
// handlers — goes to the pool.
//
// The work done inline is bounded: f handles only the bytes netpoll holds
// when it starts (no more arrive while the poller runs f, because the poller
// is what reads them), and a connection with more than inlineMaxInput bytes
// waiting — a client flooding — goes to the pool, so no single connection
// holds up the reads of the others on its poller for longer than it takes
// to handle 16 KiB.
//
// netpoll's task f ends in the connection's close path when the connection
// was closed while f ran, and that path waits until the poller is done with
// the descriptor: on the poller goroutine it would wait forever. So f runs
// inline only while nobody closes the connection (gate), and a close asked
// for meanwhile (closeSocket) is carried out here, on a pooled goroutine,
// once f has returned. netpoll's other closer, its hang-up handler, never
// overlaps an inline f: it runs after the poll round that detached the
// descriptor, and a detached descriptor gets no more input.
func (lc *loopCtx) RunInline(f func()) bool {
	c := lc.c
	if !c.eng.cfg.NonBlocking || c.state.Load() != stateOpen || c.np.Reader().Len() > inlineMaxInput ||
		!c.gate.CompareAndSwap(0, gateInline) {
		return false
	}
	f()
	if c.gate.And(^gateInline)&gateClosing != 0 {
		closeLater(c.np)
	}
	return true
}

// inlineMaxInput is the most input a connection may have waiting for its
// task to run on the poller goroutine (a few hundred small messages).
const inlineMaxInput = 16 << 10

// gate bits: the poller runs the connection's input inline; the connection
// is being closed (from then on its input always goes to the pool).
const (
	gateInline uint32 = 1 << iota
	gateClosing
)
