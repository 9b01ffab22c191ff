package conn

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/surge-ws/ws/poller"
)

// A pong that waits in the kernel's receive queue, unread because this
// process is behind, must keep the connection: kernelInputQueued is what
// the timer asks before it closes for a read or pong timeout.
func TestInputQueuedSeesTheReceiveQueue(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	c := &Conn{fd: int32(fds[0])}
	if c.kernelInputQueued() {
		t.Fatal("nothing was sent, yet kernelInputQueued reports input")
	}
	pong := []byte{0x8a, 0x80, 1, 2, 3, 4} // a masked, empty pong
	if _, err := unix.Write(fds[1], pong); err != nil {
		t.Fatal(err)
	}
	if !c.kernelInputQueued() {
		t.Fatal("a pong waits in the receive queue, yet kernelInputQueued reports none")
	}
}

// Pings of long intervals fall due on a grid of whole seconds, a thirtieth of
// the interval, so a process sends them together; short intervals (tests,
// tight liveness checks) stay exact.
func TestPingDueOnTheGrid(t *testing.T) {
	for _, c := range []struct{ at, interval, want poller.Tick }{
		{at: 301, interval: 300, want: 310}, // 30 s: a one-second grid
		{at: 310, interval: 300, want: 310},
		{at: 311, interval: 300, want: 320},
		{at: 100, interval: 100, want: 100},
		{at: 591, interval: 590, want: 600},    // 59 s: still one second
		{at: 601, interval: 600, want: 620},    // a minute: two seconds
		{at: 3007, interval: 3000, want: 3100}, // five minutes: ten seconds
		{at: 3100, interval: 3000, want: 3100},
		{at: 57, interval: 50, want: 57}, // 5 s: exact
		{at: 3, interval: 2, want: 3},
	} {
		if got := pingDue(c.at, c.interval, 0); got != c.want {
			t.Errorf("pingDue(%d, every %d) = %d, want %d", c.at, c.interval, got, c.want)
		}
	}
	// A phase moves the grid, never a ping before its time or a grid step late.
	for _, c := range []struct{ at, interval, phase, want poller.Tick }{
		{at: 3007, interval: 3000, phase: 3, want: 3103},
		{at: 3003, interval: 3000, phase: 3, want: 3003},
		{at: 3104, interval: 3000, phase: 3, want: 3203},
		{at: 3001, interval: 3000, phase: 99, want: 3099},
		{at: 57, interval: 50, phase: 0, want: 57},
	} {
		if got := pingDue(c.at, c.interval, c.phase); got != c.want {
			t.Errorf("pingDue(%d, every %d, phase %d) = %d, want %d", c.at, c.interval, c.phase, got, c.want)
		}
	}
}

// Processes started together count their ticks from nearly the same moment;
// each engine's random phase keeps their pings from leaving in the same
// second (docs/scaling.md: the busiest second at a million).
func TestPingPhaseSpreadsEngines(t *testing.T) {
	cfg := Config{PingInterval: 5 * time.Minute}
	grid := pingGrid(poller.Tick(5 * time.Minute / wheelTick))
	phases := map[poller.Tick]bool{}
	for range 20 {
		e, err := newEngine(cfg, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if e.pingPhase < 0 || e.pingPhase >= grid {
			t.Fatalf("phase %d outside the grid of %d ticks", e.pingPhase, grid)
		}
		phases[e.pingPhase] = true
	}
	if len(phases) < 5 {
		t.Fatalf("20 engines drew %d distinct phases of %d: the grid is not spread", len(phases), grid)
	}
}
