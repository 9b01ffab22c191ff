package poller

import (
	"sync"
	"testing"
	"time"
)

type probe struct {
	mu    sync.Mutex
	fired []Tick
	ch    chan Tick
}

func (p *probe) Expire(now Tick) {
	p.mu.Lock()
	p.fired = append(p.fired, now)
	p.mu.Unlock()
	if p.ch != nil {
		p.ch <- now
	}
}

func TestWheelFiresNotEarly(t *testing.T) {
	w := NewWheel(5*time.Millisecond, 8)
	defer w.Close()
	for _, d := range []Tick{1, 3, 8, 9, 20} { // 8, 9 and 20 wrap the 8-slot wheel
		p := &probe{ch: make(chan Tick, 1)}
		var tm Timer
		tm.Init(p)
		expectFireIn(t, w, &tm, p, d, "")
	}
}

// expectFireIn arms tm d ticks ahead and waits for it: not early, at most
// three ticks late, within 2 s.
func expectFireIn(t *testing.T, w *Wheel, tm *Timer, p *probe, d Tick, when string) {
	t.Helper()
	start := w.Now()
	w.Schedule(tm, start+d)
	select {
	case at := <-p.ch:
		if at < start+d {
			t.Fatalf("%sdeadline %d ticks fired after %d ticks", when, d, at-start)
		}
		if at > start+d+3 {
			t.Fatalf("%sdeadline %d ticks fired late: after %d ticks", when, d, at-start)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("%sdeadline %d ticks never fired (waited 2s)", when, d)
	}
}

func TestWheelStopAndReschedule(t *testing.T) {
	w := NewWheel(5*time.Millisecond, 16)
	defer w.Close()
	p := &probe{}
	var a, b Timer
	a.Init(p)
	b.Init(p)
	w.Schedule(&a, w.Now()+2)
	if !w.Stop(&a) {
		t.Fatal("Stop of an armed timer returned false")
	}
	if w.Stop(&a) {
		t.Fatal("second Stop returned true")
	}
	w.Schedule(&b, w.Now()+100)
	w.Schedule(&b, w.Now()+2) // replaces the far deadline
	if w.Len() != 1 {
		t.Fatalf("Len %d, want 1", w.Len())
	}
	time.Sleep(100 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.fired) != 1 {
		t.Fatalf("fired %d times, want once (stopped timer must not fire, rescheduled once)", len(p.fired))
	}
	if w.Len() != 0 {
		t.Fatalf("Len %d after firing", w.Len())
	}
}

func TestWheelPastDeadlineFiresNextTick(t *testing.T) {
	w := NewWheel(5*time.Millisecond, 16)
	defer w.Close()
	p := &probe{ch: make(chan Tick, 1)}
	var tm Timer
	tm.Init(p)
	w.Schedule(&tm, w.Now()-10)
	select {
	case <-p.ch:
	case <-time.After(time.Second):
		t.Fatal("a past deadline never fired")
	}
}

func TestTicksRoundsUp(t *testing.T) {
	w := NewWheel(100*time.Millisecond, 4)
	defer w.Close()
	for d, want := range map[time.Duration]Tick{0: 0, time.Millisecond: 1, 100 * time.Millisecond: 1, 101 * time.Millisecond: 2} {
		if got := w.Ticks(d); got != want {
			t.Errorf("Ticks(%v) = %d, want %d", d, got, want)
		}
	}
}

func BenchmarkWheelSchedule(b *testing.B) {
	w := NewWheel(time.Hour, 1024)
	defer w.Close()
	timers := make([]Timer, 1024)
	p := &probe{}
	for i := range timers {
		timers[i].Init(p)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.Schedule(&timers[i&1023], Tick(i%3000+1))
	}
}

// An empty wheel must not wake (a ticker per idle process adds up over 55
// processes), and a timer armed after a long sleep must still fire on time:
// neither early (the clock moved on while nothing swept) nor a revolution
// late (its slot skipped).
func TestWheelSleepsWhileEmpty(t *testing.T) {
	w := NewWheel(5*time.Millisecond, 8) // a revolution is 40 ms
	defer w.Close()
	p := &probe{ch: make(chan Tick, 1)}
	var tm Timer
	tm.Init(p)
	w.Schedule(&tm, w.Now()+1)
	select {
	case <-p.ch:
	case <-time.After(2 * time.Second):
		t.Fatal("waited 2s for the first timer")
	}
	before := sweepsOf(w)
	time.Sleep(150 * time.Millisecond)          // 30 ticks, almost 4 revolutions
	if idle := sweepsOf(w) - before; idle > 1 { // one sweep may still be on its way after the timer fired
		t.Fatalf("the empty wheel swept %d times in 30 ticks", idle)
	}
	for _, d := range []Tick{1, 3, 7} {
		expectFireIn(t, w, &tm, p, d, "after sleeping: ")
		time.Sleep(60 * time.Millisecond) // empty again for more than a revolution
	}
}

// A wheel whose only deadline is far off sleeps until it, instead of waking
// every tick on the way: an idle process wakes when a ping is due, not ten
// times a second.
func TestWheelSleepsUntilTheEarliestDeadline(t *testing.T) {
	w := NewWheel(2*time.Millisecond, 16) // a revolution is 32 ms
	defer w.Close()
	p := &probe{ch: make(chan Tick, 1)}
	var far Timer
	far.Init(p)
	before := sweepsOf(w)
	// 100 ticks: more than six revolutions, so the deadline's list comes
	// round six times before it is due.
	expectFireIn(t, w, &far, p, 100, "a far deadline: ")
	if n := sweepsOf(w) - before; n > 2 {
		t.Fatalf("the wheel swept %d times on the way to one deadline 100 ticks away", n)
	}
}

// A deadline armed while the goroutine sleeps towards a later one fires on
// time; a stopped deadline costs at most one early sweep.
func TestWheelEarlierDeadlineWakesTheSleeper(t *testing.T) {
	w := NewWheel(2*time.Millisecond, 16)
	defer w.Close()
	p := &probe{ch: make(chan Tick, 2)}
	var far, near, stopped Timer
	far.Init(p)
	near.Init(p)
	stopped.Init(p)
	w.Schedule(&far, w.Now()+2000) // 4 s: must not fire during the test
	time.Sleep(10 * time.Millisecond)
	expectFireIn(t, w, &near, p, 5, "under a far deadline: ")
	w.Schedule(&stopped, w.Now()+3)
	w.Stop(&stopped)
	before := sweepsOf(w)
	expectFireIn(t, w, &near, p, 20, "after a stopped deadline: ")
	if n := sweepsOf(w) - before; n > 2 {
		t.Fatalf("%d sweeps for a stopped deadline and one 20 ticks away, want at most 2", n)
	}
	if !w.Stop(&far) {
		t.Fatal("the far deadline fired early")
	}
}

// Two deadlines in one list, a revolution apart: the sweep that fires the
// first must leave the list's head at the second, or the wheel never wakes
// for it.
func TestWheelSameSlotNextRevolution(t *testing.T) {
	w := NewWheel(2*time.Millisecond, 16)
	defer w.Close()
	p := &probe{ch: make(chan Tick, 2)}
	var first, second Timer
	first.Init(p)
	second.Init(p)
	start := w.Now()
	w.Schedule(&second, start+4+16)
	w.Schedule(&first, start+4)
	for i, want := range []Tick{start + 4, start + 20} {
		select {
		case at := <-p.ch:
			if at < want || at > want+3 {
				t.Fatalf("deadline %d fired at tick %d, want %d", i, at-start, want-start)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("deadline %d (tick %d of the same list) never fired (waited 2s)", i, want-start)
		}
	}
}

// sweepsOf reads how many times w has swept.
func sweepsOf(w *Wheel) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sweeps
}
