package poller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/cloudwego/netpoll"
)

// pollerStates returns the scheduler state of every goroutine running
// netpoll's poller loop ("IO wait" when parked in the runtime's poller,
// "syscall" when blocked in epoll_wait, "runnable", "running").
func pollerStates() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var states []string
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if !bytes.Contains(g, []byte("netpoll.(*defaultPoll).Wait")) {
			continue
		}
		if m := goroutineState.FindSubmatch(g); m != nil {
			states = append(states, string(m[1]))
		}
	}
	return states
}

var goroutineState = regexp.MustCompile(`^goroutine \d+ \[([a-zA-Z ]+)`)

// TestPollersParkInTheRuntime checks that every netpoll poller of the process
// waits in the runtime's poller between batches (not in a blocking
// epoll_wait, which holds a P and keeps sysmon busy), and that connections
// are still served across many sleeps and wake-ups.
func TestPollersParkInTheRuntime(t *testing.T) {
	if err := Setup(Options{}); err != nil {
		t.Fatal(err)
	}
	want := setupOpts.Pollers
	if got := Parked(); got != want {
		t.Fatalf("Parked() = %d pollers, want all %d (netpoll's layout changed, or netpoll was used before Setup)", got, want)
	}
	ln, err := Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	evl, err := netpoll.NewEventLoop(func(ctx context.Context, c netpoll.Connection) error {
		b, err := c.Reader().Next(c.Reader().Len())
		if err != nil {
			return err
		}
		_, _ = c.Writer().WriteBinary(append([]byte(nil), b...))
		_ = c.Reader().Release()
		return c.Writer().Flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	go evl.Serve(ln) //nolint:errcheck // ends with Shutdown
	defer evl.Shutdown(context.Background())

	c, err := netpoll.DialConnection("tcp", ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Round trips with pauses: each pause lets the poller park, each request
	// must wake it.
	for i := range 30 {
		roundTrip(t, c, []byte{byte(i), 'x'}, fmt.Sprintf("round trip %d", i))
		time.Sleep(2 * time.Millisecond)
	}

	// A burst larger than netpoll reads at once (its first buffer is
	// BufferSize, 128 bytes): the descriptor stays readable with no new event,
	// so the rest is found only by polling again before parking.
	roundTrip(t, c, bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16), "a 64 KiB burst in one write")

	// Idle now: every poller must come to rest parked, none in a system call.
	deadline := time.Now().Add(3 * time.Second)
	var states []string
	for time.Now().Before(deadline) {
		states = pollerStates()
		parked := 0
		for _, s := range states {
			if s == "IO wait" {
				parked++
			}
		}
		if parked == want && len(states) == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("within 3 s of idleness the poller goroutines were in states %q, want %d in \"IO wait\"", states, want)
}

// roundTrip sends msg and waits up to 2 s for its whole echo.
func roundTrip(t *testing.T, c netpoll.Connection, msg []byte, what string) {
	t.Helper()
	if _, err := c.Writer().WriteBinary(msg); err != nil {
		t.Fatal(err)
	}
	if err := c.Writer().Flush(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadTimeout(2 * time.Second)
	got, err := c.Reader().Next(len(msg))
	if err != nil {
		t.Fatalf("%s: the echo did not come back whole within 2 s: %v", what, err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("%s: the echo differs from what was sent", what)
	}
	_ = c.Reader().Release()
}

// A parked poller that is closed ends its loop and releases the duplicate of
// its epoll descriptor. (netpoll's handler closes the epoll and eventfd
// descriptors themselves; counting the process's descriptors would be upset
// by other tests' connections closing in the background.)
func TestParkedPollerCloses(t *testing.T) {
	if err := Setup(Options{}); err != nil {
		t.Fatal(err)
	}
	if Parked() == 0 {
		t.Fatal("netpoll's pollers are not parked (TestPollersParkInTheRuntime says more)")
	}
	p, err := netpollOpenPoll()
	if err != nil {
		t.Fatal(err)
	}
	w := park(p)
	if w == nil {
		t.Fatal("park refused a fresh poller")
	}
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	if err := p.Trigger(); err != nil { // one wake-up and back to parking
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait = %v after Close, want nil", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Wait did not return within 3 s of Close")
	}
	if _, err := w.file.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("the duplicate of the epoll descriptor after Close: Stat = %v, want os.ErrClosed (it leaked)", err)
	}
}
