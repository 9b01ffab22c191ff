package poller

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/netpoll"
)

// TestWriteBarriersAreSmall checks that the netpoll in go.mod still has the
// layout shrinkWriteBarriers relies on, that new connections (accepted and
// dialed) get one-entry barriers, and that Flush still writes everything —
// including a write larger than the socket buffers, which takes netpoll's
// slow path.
func TestWriteBarriersAreSmall(t *testing.T) {
	if err := Setup(Options{}); err != nil {
		t.Fatal(err)
	}
	if barrierType == nil {
		t.Fatal("netpoll's barrier layout changed: write barriers were not shrunk")
	}
	addr, got, accepted := countingServer(t, nil)
	c, err := netpoll.DialConnection("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for name, conn := range map[string]netpoll.Connection{"dialed": c, "accepted": <-accepted} {
		if n := barrierLen(conn); n != 1 {
			t.Fatalf("%s connection: barrier has %d entries, want 1", name, n)
		}
	}
	big := make([]byte, 8<<20)
	for i := range 3 {
		if _, err := c.Writer().WriteBinary(big[:1000<<i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Writer().WriteBinary(big); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Writer().Flush() }()
	total, want := 0, 7000+len(big)
	deadline := time.After(10 * time.Second)
	for total < want {
		select {
		case n := <-got:
			total += n
		case <-deadline:
			t.Fatalf("received %d of %d bytes", total, want)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if total != want {
		t.Fatalf("received %d bytes, want %d", total, want)
	}
}

// barrierLen reads len(outputBarrier.bs) of a netpoll connection.
func barrierLen(c netpoll.Connection) int {
	v := reflect.ValueOf(c).Elem().FieldByName("outputBarrier")
	return v.Elem().Field(0).Len()
}

// TestNetpollPinned fails when go.mod moves netpoll away from the version
// whose internals trim.go and conn rely on: follow the upgrade checklist in
// docs/architecture.md, then change netpollVerified.
func TestNetpollPinned(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := "github.com/cloudwego/netpoll " + netpollVerified
	if !strings.Contains(string(b), want) {
		t.Fatalf("go.mod does not require %q: netpoll was upgraded without the checklist in docs/architecture.md", want)
	}
}

// TestServerIndexForgets checks that the netpoll in go.mod still has the
// layout ServerIndex relies on, that its server records every accepted
// connection, and that Forget takes them out while they stay open and the
// event loop still shuts down.
func TestServerIndexForgets(t *testing.T) {
	if err := Setup(Options{}); err != nil {
		t.Fatal(err)
	}
	ln, err := Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan netpoll.Connection, 64)
	evl, err := netpoll.NewEventLoop(func(context.Context, netpoll.Connection) error { return nil },
		netpoll.WithOnPrepare(func(c netpoll.Connection) context.Context {
			accepted <- c
			return context.Background()
		}))
	if err != nil {
		t.Fatal(err)
	}
	x := NewServerIndex(evl)
	if x == nil {
		t.Fatal("netpoll's eventLoop/server layout changed: ServerIndex is off")
	}
	x.Forget(3) // before Serve: no server yet, nothing to do
	go evl.Serve(ln)

	const n = 32
	var conns []netpoll.Connection
	for range n {
		c, err := netpoll.DialConnection("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	var fds []int
	for range n {
		select {
		case c := <-accepted:
			fds = append(fds, c.(netpoll.Conn).Fd())
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d connections accepted after 5 s", len(fds), n)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for x.Len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("netpoll's server recorded %d of %d accepted connections after 5 s", x.Len(), n)
		}
		time.Sleep(time.Millisecond)
	}
	for _, fd := range fds {
		x.Forget(fd)
	}
	if got := x.Len(); got != 0 {
		t.Fatalf("%d connections still recorded after Forget", got)
	}
	for _, c := range conns {
		if !c.IsActive() {
			t.Fatal("a forgotten connection was closed")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := evl.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown after Forget: %v", err)
	}
}

// TestDropReadTrigger checks that an accepted connection loses its read-wake
// channel (and only that: Flush's stays), and that it still takes input and
// closes when the peer hangs up — netpoll's sends on the channel are
// non-blocking, so a nil one must not stall the poller.
func TestDropReadTrigger(t *testing.T) {
	if err := Setup(Options{}); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	addr, got, accepted := countingServer(t, func(c netpoll.Connection) {
		if !DropReadTrigger(c) {
			t.Error("DropReadTrigger did nothing: netpoll's connection layout changed")
		}
		_ = c.AddCloseCallback(func(netpoll.Connection) error { close(closed); return nil })
	})
	c, err := netpoll.DialConnection("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var srv netpoll.Connection
	select {
	case srv = <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not accept within 5 s")
	}
	v := reflect.ValueOf(srv).Elem()
	if !v.FieldByName("readTrigger").IsNil() {
		t.Fatal("the accepted connection still has its read trigger")
	}
	if v.FieldByName("writeTrigger").IsNil() {
		t.Fatal("the write trigger was dropped too")
	}
	for i := range 3 {
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-got:
			if n != 4 {
				t.Fatalf("round %d: server read %d bytes, want 4", i, n)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: the server read nothing within 5 s", i)
		}
	}
	_ = c.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not close its side within 5 s of the peer's hang-up")
	}
}

// countingServer serves an event loop on a fresh listener until the test
// ends: each input is discarded and its size sent on got, and each accepted
// connection goes through prepare (if not nil) and then to accepted.
func countingServer(t *testing.T, prepare func(netpoll.Connection)) (addr string, got <-chan int, accepted <-chan netpoll.Connection) {
	t.Helper()
	ln, err := Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	sizes := make(chan int, 64)
	conns := make(chan netpoll.Connection, 1)
	evl, err := netpoll.NewEventLoop(func(ctx context.Context, c netpoll.Connection) error {
		n := c.Reader().Len()
		_ = c.Reader().Skip(n)
		_ = c.Reader().Release()
		sizes <- n
		return nil
	}, netpoll.WithOnPrepare(func(c netpoll.Connection) context.Context {
		if prepare != nil {
			prepare(c)
		}
		conns <- c
		return context.Background()
	}))
	if err != nil {
		t.Fatal(err)
	}
	go evl.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = evl.Shutdown(context.Background()) })
	return ln.Addr().String(), sizes, conns
}
