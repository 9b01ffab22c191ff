package conn

import (
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/cloudwego/netpoll"
	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/poller"
	"golang.org/x/sys/unix"
)

// acquireFD relies on netpoll running close callbacks newest first, after
// nothing of the connection runs any more, and closing the descriptor in its
// own callback, which it adds before any of ours: so when onClosed runs, the
// descriptor is still open and no other connection can have it yet. A netpoll
// upgrade that changes this order must fail here (docs/architecture.md,
// "Upgrading netpoll").
func TestNetpollClosesDescriptorAfterOurCallback(t *testing.T) {
	if err := poller.Setup(poller.Options{}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // any peer will do
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	np, err := netpoll.DialConnection("tcp", ln.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fd := np.(interface{ Fd() int }).Fd()
	order := make(chan string, 2)
	_ = np.AddCloseCallback(func(netpoll.Connection) error {
		order <- "first added"
		return nil
	})
	_ = np.AddCloseCallback(func(netpoll.Connection) error {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			t.Errorf("the descriptor was closed before our close callback ran: %v", err)
		}
		order <- "last added"
		return nil
	})
	_ = np.Close()
	for _, want := range []string{"last added", "first added"} {
		select {
		case got := <-order:
			if got != want {
				t.Fatalf("close callback %q ran, want %q: netpoll no longer runs them newest first", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("close callback %q did not run within 5 s", want)
		}
	}
}

// Serve's connections leave netpoll's own record of them (poller.ServerIndex)
// once they are open: Shutdown closes them from conn's registry, and the
// record cost about 190 bytes a connection. One still handshaking is in the
// record, which shows the test reads the right map.
func TestOpenConnectionsLeaveNetpollsRecord(t *testing.T) {
	s := echoServer(Config{})
	addr := startServer(t, s)
	var open []*rawClient
	for range 20 {
		rc := dialRaw(t, addr)
		if resp := rc.handshake(nil); resp.StatusCode != 101 {
			t.Fatalf("handshake: %s", resp.Status)
		}
		open = append(open, rc)
	}
	x := s.index.Load()
	if x == nil {
		t.Fatal("no ServerIndex: netpoll's layout changed (poller.TestServerIndexForgets says how)")
	}
	if n := x.Len(); n != 0 {
		t.Fatalf("netpoll still records %d of 20 open connections", n)
	}
	half := dialRaw(t, addr)
	half.write([]byte("GET / HTTP/1.1\r\n"))
	eventually(t, "netpoll to record the connection still handshaking", func() bool { return x.Len() == 1 })

	open[0].send(true, frame.OpText, []byte("still here"))
	if f := open[0].mustNext(); string(f.Payload) != "still here" {
		t.Fatalf("echo after the record was emptied: %q", f.Payload)
	}
}

// Serve's connections go without netpoll's read-wake channel
// (poller.DropReadTrigger): conn never blocks reading them. A connection
// handshaking in pieces, echoing and then closed by its peer shows that
// nothing in conn waits on it.
func TestServedConnectionsHaveNoReadTrigger(t *testing.T) {
	rec := newRecorder(true)
	s := &Server{Handler: rec}
	addr := startServer(t, s)
	rc := dialRaw(t, addr)
	req := upgradeRequest("/")
	rc.write([]byte(req[:10]))
	time.Sleep(20 * time.Millisecond) // the rest as a second input
	rc.write([]byte(req[10:]))
	if resp := rc.readResponse(); resp.StatusCode != 101 {
		t.Fatalf("handshake: %s", resp.Status)
	}
	s.mu.Lock()
	c := s.head
	s.mu.Unlock()
	if c == nil {
		t.Fatal("no connection in the registry")
	}
	if !reflect.ValueOf(c.np).Elem().FieldByName("readTrigger").IsNil() {
		t.Fatal("the served connection still has netpoll's read trigger")
	}
	rc.send(true, frame.OpText, []byte("hello"))
	if f := rc.mustNext(); string(f.Payload) != "hello" {
		t.Fatalf("echo: %q", f.Payload)
	}
	_ = rc.nc.Close()
	rec.waitClosed(t)
}
