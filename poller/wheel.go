package poller

import (
	"sync"
	"sync/atomic"
	"time"
)

// Expirer is what a Timer calls when it fires. Expire runs on the wheel's
// goroutine: it must not block (queue work, close a socket, reschedule).
type Expirer interface {
	Expire(now Tick)
}

// Tick is a point on a wheel's clock, counted in ticks since the wheel started.
type Tick int64

// Timer is one pending deadline. It is meant to be embedded in the object it
// belongs to, so that scheduling allocates nothing; its fields belong to the
// wheel. A Timer is scheduled on at most one wheel at a time.
type Timer struct {
	next, prev *Timer // nil while not armed
	at         Tick
	target     Expirer
}

// Init sets what the timer calls. Call it once, before the first Schedule.
func (t *Timer) Init(target Expirer) { t.target = target }

// Wheel is a hashed timing wheel: one goroutine and one ticker carry every
// deadline of every connection, so idle connections hold no runtime timer.
// Deadlines fire up to one tick late, never early. All methods are safe for
// concurrent use.
type Wheel struct {
	tick  time.Duration
	mu    sync.Mutex
	slots []Timer // sentinel heads of circular lists
	mask  Tick
	now   atomic.Int64
	count int

	stop chan struct{}
	done chan struct{}
	fire []*Timer // reused by the wheel goroutine
}

// NewWheel starts a wheel with the given resolution. slots is rounded up to a
// power of two; deadlines further away than slots ticks simply wait for their
// slot to come round again.
func NewWheel(tick time.Duration, slots int) *Wheel {
	n := 1
	for n < slots {
		n <<= 1
	}
	w := &Wheel{tick: tick, slots: make([]Timer, n), mask: Tick(n - 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	for i := range w.slots {
		h := &w.slots[i]
		h.next, h.prev = h, h
	}
	go w.run()
	return w
}

// Resolution returns the wheel's tick length.
func (w *Wheel) Resolution() time.Duration { return w.tick }

// Now returns the current tick. It is one atomic load: cheap enough to stamp
// every read of every connection.
func (w *Wheel) Now() Tick { return Tick(w.now.Load()) }

// Ticks converts a duration to whole ticks, rounding up (never firing early).
func (w *Wheel) Ticks(d time.Duration) Tick {
	if d <= 0 {
		return 0
	}
	return Tick((d + w.tick - 1) / w.tick)
}

// Len returns the number of armed timers.
func (w *Wheel) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count
}

// Schedule arms t to fire at tick at (or at the next tick if at is past),
// replacing any earlier deadline of t.
func (w *Wheel) Schedule(t *Timer, at Tick) {
	w.mu.Lock()
	if t.prev != nil {
		w.unlink(t)
	}
	if now := w.Now(); at <= now {
		at = now + 1
	}
	t.at = at
	h := &w.slots[at&w.mask]
	t.prev, t.next = h.prev, h
	h.prev.next = t
	h.prev = t
	w.count++
	w.mu.Unlock()
}

// Stop disarms t. It reports whether t was armed.
func (w *Wheel) Stop(t *Timer) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t.prev == nil {
		return false
	}
	w.unlink(t)
	return true
}

func (w *Wheel) unlink(t *Timer) {
	t.prev.next = t.next
	t.next.prev = t.prev
	t.next, t.prev = nil, nil
	w.count--
}

// Close stops the wheel's goroutine; armed timers never fire.
func (w *Wheel) Close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

func (w *Wheel) run() {
	defer close(w.done)
	tk := time.NewTicker(w.tick)
	defer tk.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tk.C:
			w.advance()
		}
	}
}

func (w *Wheel) advance() {
	now := Tick(w.now.Add(1))
	w.mu.Lock()
	h := &w.slots[now&w.mask]
	for t := h.next; t != h; {
		next := t.next
		if t.at <= now {
			w.unlink(t)
			w.fire = append(w.fire, t)
		}
		t = next
	}
	w.mu.Unlock()
	for i, t := range w.fire {
		w.fire[i] = nil
		t.target.Expire(now)
	}
	w.fire = w.fire[:0]
}
