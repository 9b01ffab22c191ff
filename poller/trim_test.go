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
	ln, err := Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 64)
	accepted := make(chan netpoll.Connection, 1)
	evl, err := netpoll.NewEventLoop(func(ctx context.Context, c netpoll.Connection) error {
		n := c.Reader().Len()
		_ = c.Reader().Skip(n)
		_ = c.Reader().Release()
		got <- n
		return nil
	}, netpoll.WithOnPrepare(func(c netpoll.Connection) context.Context {
		accepted <- c
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
