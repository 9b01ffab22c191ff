package poller

import (
	"sync"
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

// Wheel is a hashed timing wheel: one goroutine carries every deadline of
// every connection, so idle connections hold no runtime timer. Its clock is
// the monotonic clock counted in ticks; its goroutine sleeps until the
// earliest armed deadline, with no ticker: a process whose connections are
// all idle wakes only when a ping or a timeout is due (at 52 processes a
// 100 ms ticker each was 520 wake-ups a second, 7% of a core with no
// deadline due; docs/benchmarks.md). Deadlines fire up to one tick late,
// never early. All methods are safe for concurrent use.
type Wheel struct {
	tick  time.Duration
	start time.Time // Now counts ticks since then
	mu    sync.Mutex
	// slots are the sentinel heads of circular lists; a head's at is no
	// later than any deadline in its list (stale after a Stop: early, never
	// late), and noDeadline for a list known to be empty.
	slots []Timer
	mask  Tick
	count int
	swept Tick // every deadline up to this tick has fired
	sleep Tick // the tick the goroutine sleeps until (noDeadline: no timer)

	wake   chan struct{} // a deadline earlier than sleep (capacity 1)
	stop   chan struct{}
	done   chan struct{}
	fire   []*Timer // reused by the wheel goroutine
	sweeps int      // advance calls, for tests (under mu)
}

// NewWheel starts a wheel with the given resolution. slots is rounded up to a
// power of two; deadlines further away than slots ticks simply wait for their
// slot to come round again.
func NewWheel(tick time.Duration, slots int) *Wheel {
	n := 1
	for n < slots {
		n <<= 1
	}
	w := &Wheel{tick: tick, start: time.Now(), slots: make([]Timer, n), mask: Tick(n - 1),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), sleep: noDeadline}
	for i := range w.slots {
		h := &w.slots[i]
		h.next, h.prev, h.at = h, h, noDeadline
	}
	go w.run()
	return w
}

// Resolution returns the wheel's tick length.
func (w *Wheel) Resolution() time.Duration { return w.tick }

// Now returns the current tick: whole ticks of the monotonic clock since the
// wheel started. It is one read of the clock (vDSO, no system call): cheap
// enough to stamp every read of every connection.
func (w *Wheel) Now() Tick { return Tick(time.Since(w.start) / w.tick) }

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
	now := w.Now()
	if at <= now {
		at = now + 1
	}
	if w.count == 0 {
		// Nothing is armed: the ticks up to now have nothing to fire, and
		// every list is empty (the heads' deadlines may be stale).
		w.swept = now
		for i := range w.slots {
			w.slots[i].at = noDeadline
		}
	}
	t.at = at
	h := &w.slots[at&w.mask]
	h.at = min(h.at, at)
	if at < w.sleep {
		// The goroutine sleeps past this deadline (or has no timer at all).
		w.sleep = at
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
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
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		w.mu.Lock()
		next := w.earliest()
		w.sleep = next
		w.mu.Unlock()
		if next == noDeadline {
			select {
			case <-w.stop:
				return
			case <-w.wake: // may be stale: the loop looks again
			}
			continue
		}
		t.Reset(time.Until(w.start.Add(time.Duration(next) * w.tick)))
		select {
		case <-w.stop:
			t.Stop()
			return
		case <-w.wake: // an earlier deadline came
			t.Stop()
			continue
		case <-t.C:
		}
		w.advance()
	}
}

// noDeadline is later than every deadline.
const noDeadline = Tick(1<<63 - 1)

// earliest returns the tick of the earliest armed deadline (or earlier, when
// a list's head is stale), noDeadline when none is armed. One pass over the
// heads, once per wake-up: 1024 loads, about a microsecond. Under mu.
func (w *Wheel) earliest() Tick {
	if w.count == 0 {
		return noDeadline
	}
	next := noDeadline
	for i := range w.slots {
		next = min(next, w.slots[i].at)
	}
	// Every head is later than swept (advance renews the heads it passes);
	// this only guards the loop against spinning if that ever broke.
	return max(next, w.swept+1)
}

// advance fires every armed timer whose deadline is past, visiting the slots
// of the ticks since the last sweep (every slot once when more than a
// revolution went by: a stalled process catches up in one pass).
func (w *Wheel) advance() {
	now := w.Now()
	w.mu.Lock()
	from := w.swept + 1
	if n := Tick(len(w.slots)); now-w.swept > n {
		from = now - n + 1
	}
	for tk := from; tk <= now; tk++ {
		h := &w.slots[tk&w.mask]
		h.at = noDeadline
		for t := h.next; t != h; {
			next := t.next
			if t.at <= now {
				w.unlink(t)
				w.fire = append(w.fire, t)
			} else {
				h.at = min(h.at, t.at)
			}
			t = next
		}
	}
	if now > w.swept {
		w.swept = now
	}
	w.sweeps++
	w.mu.Unlock()
	for i, t := range w.fire {
		w.fire[i] = nil
		t.target.Expire(now)
	}
	w.fire = w.fire[:0]
}
