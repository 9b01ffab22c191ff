package poller

import (
	"context"
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cloudwego/netpoll"
	"golang.org/x/sys/unix"
)

// acceptedBy serves ln with a netpoll event loop and returns, for one
// connection dialed from dialNet, what netpoll's connection holds: its
// descriptor's flags and options, and both addresses, read in OnPrepare
// (before anything but the accept touched it).
type acceptedInfo struct {
	nodelay, nonblock, cloexec bool
	local, remote              string
	dialedFrom                 string
}

func acceptedBy(t *testing.T, ln net.Listener, dialNet, dialAddr string) acceptedInfo {
	t.Helper()
	if err := Setup(Options{}); err != nil { // before netpoll's first use, as every test here
		t.Fatal(err)
	}
	got := make(chan acceptedInfo, 1)
	evl, err := netpoll.NewEventLoop(func(context.Context, netpoll.Connection) error { return nil },
		netpoll.WithOnPrepare(func(c netpoll.Connection) context.Context {
			fd := c.(interface{ Fd() int }).Fd()
			nd, _ := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
			fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			fdfl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			got <- acceptedInfo{nodelay: nd == 1, nonblock: fl&unix.O_NONBLOCK != 0, cloexec: fdfl&unix.FD_CLOEXEC != 0,
				local: c.LocalAddr().String(), remote: c.RemoteAddr().String()}
			return context.Background()
		}))
	if err != nil {
		t.Fatal(err)
	}
	go evl.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = evl.Shutdown(context.Background()) })
	c, err := net.DialTimeout(dialNet, dialAddr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	select {
	case info := <-got:
		info.dialedFrom = c.LocalAddr().String()
		return info
	case <-time.After(5 * time.Second):
		t.Fatalf("no connection accepted from %s within 5s", c.LocalAddr())
		return acceptedInfo{}
	}
}

// A connection taken by Listen's listener is non-blocking, close-on-exec and
// has TCP_NODELAY (copied from the listening socket, since netpoll sets it
// only on its own listener's connections), and netpoll sees both addresses.
func TestListenAcceptsReadyConnections(t *testing.T) {
	for _, tc := range []struct{ network, addr, dialNet, dialHost string }{
		{"tcp", "127.0.0.1:0", "tcp4", "127.0.0.1"},
		{"tcp4", ":0", "tcp4", "127.0.0.1"},
		{"tcp", ":0", "tcp4", "127.0.0.1"}, // dual-stack: IPv4 peers arrive as v4-mapped
		{"tcp", ":0", "tcp6", "::1"},
		{"tcp6", "[::1]:0", "tcp6", "::1"},
	} {
		t.Run(tc.network+" "+tc.addr+" from "+tc.dialHost, func(t *testing.T) {
			ln, err := Listen(tc.network, tc.addr, false)
			if err != nil {
				t.Fatal(err)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			if port == 0 {
				t.Fatalf("Addr() = %v: no port", ln.Addr())
			}
			info := acceptedBy(t, ln, tc.dialNet, net.JoinHostPort(tc.dialHost, strconv.Itoa(port)))
			if !info.nodelay || !info.nonblock || !info.cloexec {
				t.Fatalf("accepted socket: TCP_NODELAY %v, O_NONBLOCK %v, FD_CLOEXEC %v; want all", info.nodelay, info.nonblock, info.cloexec)
			}
			if info.remote != info.dialedFrom {
				t.Fatalf("RemoteAddr %s, the client dialed from %s", info.remote, info.dialedFrom)
			}
			if info.local != ln.Addr().String() {
				t.Fatalf("LocalAddr %s, the listener's %s", info.local, ln.Addr())
			}
		})
	}
}

// Listen answers as net.Listen does for what it cannot do: another network,
// an address of the wrong family, a port already taken (unless both ask for
// SO_REUSEPORT).
func TestListenErrors(t *testing.T) {
	if _, err := Listen("udp", ":0", false); err == nil {
		t.Fatal("udp: no error")
	}
	if _, err := Listen("tcp4", "[::1]:0", false); err == nil {
		t.Fatal("tcp4 on ::1: no error")
	}
	if _, err := Listen("tcp6", "127.0.0.1:0", false); err == nil {
		t.Fatal("tcp6 on 127.0.0.1: no error")
	}
	a, err := Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := Listen("tcp", a.Addr().String(), false); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second listener on %s: %v, want EADDRINUSE", a.Addr(), err)
	}

	r1, err := Listen("tcp", "127.0.0.1:0", true)
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	r2, err := Listen("tcp", r1.Addr().String(), true)
	if err != nil {
		t.Fatalf("SO_REUSEPORT: second listener on %s: %v", r1.Addr(), err)
	}
	defer r2.Close()
}

// Accept follows netpoll's conventions: nothing waiting is nil and nil (not
// an error), and a closed listener fails.
func TestListenAcceptConventions(t *testing.T) {
	ln, err := Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	l := ln.(netpoll.Listener)
	if c, err := l.Accept(); c != nil || err != nil {
		t.Fatalf("Accept with nothing waiting = %v, %v; want nil, nil", c, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept on a closed listener: %v, want net.ErrClosed", err)
	}
}
