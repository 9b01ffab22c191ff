package poller

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/cloudwego/netpoll"
)

// TestShrinkWriteBarrier checks that the netpoll in go.mod still has the
// layout ShrinkWriteBarrier relies on, for both accepted and dialed
// connections, and that Flush still writes everything after the swap —
// including a write larger than the socket buffer, which takes netpoll's
// slow path.
func TestShrinkWriteBarrier(t *testing.T) {
	if err := Setup(Options{}); err != nil {
		t.Fatal(err)
	}
	ln, err := Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	evl, err := netpoll.NewEventLoop(func(ctx context.Context, c netpoll.Connection) error {
		n := c.Reader().Len()
		_ = c.Reader().Skip(n)
		_ = c.Reader().Release()
		got <- n
		return nil
	}, netpoll.WithOnPrepare(func(c netpoll.Connection) context.Context {
		if !ShrinkWriteBarrier(c) {
			t.Error("accepted connection: barrier not replaced")
		}
		return context.Background()
	}))
	if err != nil {
		t.Fatal(err)
	}
	go evl.Serve(ln)
	defer evl.Shutdown(context.Background())

	c, err := netpoll.DialConnection("tcp", ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !ShrinkWriteBarrier(c) {
		t.Fatal("dialed connection: barrier not replaced")
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
	total := 0
	want := 7000 + len(big)
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
	_ = net.ErrClosed
}
