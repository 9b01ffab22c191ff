package poller

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Listen opens a TCP listener for an event loop. With reusePort several
// processes (or listeners) can bind the same address and the kernel spreads
// incoming connections over them (SO_REUSEPORT).
//
// The socket is made here rather than by package net, for what each accepted
// connection costs (docs/benchmarks.md, "Where a connect's server CPU goes"):
//
//   - Accept takes a connection with one accept4(2) that makes it
//     non-blocking and close-on-exec. netpoll's own listener calls accept(2)
//     and then fcntl(2) twice to make it non-blocking, and never sets
//     close-on-exec, so a child process would inherit every connection.
//   - TCP_NODELAY is set on the listening socket, from which Linux copies it
//     to every connection it accepts; netpoll sets it on each connection
//     only when the listener is its own.
//   - accept4 is a raw system call, as netpoll's reads and writes are: an
//     ordinary one (entersyscall) wakes the runtime's sysmon thread when the
//     process was idle, which then polls every 20 µs for as long as the
//     process stays busy.
//   - The socket is not registered with the Go runtime's poller, which
//     would otherwise take an event for every arriving connection that
//     nobody waits for.
//
// The listener must be served by one netpoll event loop (conn.Server.Serve);
// Accept returns connections that only netpoll can use.
func Listen(network, addr string, reusePort bool) (net.Listener, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, &net.OpError{Op: "listen", Net: network, Err: net.UnknownNetworkError(network)}
	}
	ta, err := net.ResolveTCPAddr(network, addr)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	fd, err := listenSocket(network, ta, reusePort)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: ta, Err: err}
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		_ = unix.Close(fd)
		return nil, &net.OpError{Op: "listen", Net: network, Addr: ta, Err: os.NewSyscallError("getsockname", err)}
	}
	return &listener{fd: fd, addr: tcpAddrOf(sa)}, nil
}

// listenSocket makes, configures, binds and listens on the socket, choosing
// the address family as package net does: IPv4 for tcp4 and for an IPv4
// address, IPv6 only for tcp6, and one dual-stack IPv6 socket for "tcp" on a
// wildcard address ("", "0.0.0.0", "::"), or IPv4 where the kernel has no IPv6.
func listenSocket(network string, ta *net.TCPAddr, reusePort bool) (int, error) {
	ip4 := ta.IP.To4()
	wildcard := ta.IP == nil || ta.IP.IsUnspecified()
	switch {
	case network == "tcp4" || (network == "tcp" && !wildcard && ip4 != nil):
		if ip4 == nil && !wildcard {
			return -1, &net.AddrError{Err: "not an IPv4 address", Addr: ta.IP.String()}
		}
		return listen4(ip4, ta.Port, reusePort)
	case network == "tcp" && wildcard:
		fd, err := listen6(nil, ta.Port, "", false, reusePort)
		if errors.Is(err, unix.EAFNOSUPPORT) {
			return listen4(nil, ta.Port, reusePort)
		}
		return fd, err
	default: // tcp6, or tcp on an IPv6 address
		if ip4 != nil && !wildcard {
			return -1, &net.AddrError{Err: "not an IPv6 address", Addr: ta.IP.String()}
		}
		return listen6(ta.IP, ta.Port, ta.Zone, network == "tcp6", reusePort)
	}
}

func listen4(ip net.IP, port int, reusePort bool) (int, error) {
	fd, err := socketWithOptions(unix.AF_INET, reusePort)
	if err != nil {
		return -1, err
	}
	sa := &unix.SockaddrInet4{Port: port}
	copy(sa.Addr[:], ip) // nil: 0.0.0.0
	return bindAndListen(fd, sa)
}

func listen6(ip net.IP, port int, zone string, v6only, reusePort bool) (int, error) {
	fd, err := socketWithOptions(unix.AF_INET6, reusePort)
	if err != nil {
		return -1, err
	}
	only := 0
	if v6only {
		only = 1
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, only); err != nil {
		_ = unix.Close(fd)
		return -1, os.NewSyscallError("setsockopt IPV6_V6ONLY", err)
	}
	sa := &unix.SockaddrInet6{Port: port, ZoneId: zoneID(zone)}
	copy(sa.Addr[:], ip.To16()) // nil: ::
	return bindAndListen(fd, sa)
}

func socketWithOptions(family int, reusePort bool) (int, error) {
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, os.NewSyscallError("socket", err) // wraps the errno: errors.Is(err, EAFNOSUPPORT) holds
	}
	opts := []struct {
		level, name int
		what        string
	}{
		{unix.SOL_SOCKET, unix.SO_REUSEADDR, "SO_REUSEADDR"}, // as package net: a restart may bind while old connections linger in TIME_WAIT
		{unix.IPPROTO_TCP, unix.TCP_NODELAY, "TCP_NODELAY"},  // copied to every accepted connection
	}
	if reusePort {
		opts = append(opts, struct {
			level, name int
			what        string
		}{unix.SOL_SOCKET, unix.SO_REUSEPORT, "SO_REUSEPORT"})
	}
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, o.level, o.name, 1); err != nil {
			_ = unix.Close(fd)
			return -1, os.NewSyscallError("setsockopt "+o.what, err)
		}
	}
	return fd, nil
}

func bindAndListen(fd int, sa unix.Sockaddr) (int, error) {
	if err := unix.Bind(fd, sa); err != nil {
		_ = unix.Close(fd)
		return -1, os.NewSyscallError("bind", err)
	}
	if err := unix.Listen(fd, listenBacklog()); err != nil {
		_ = unix.Close(fd)
		return -1, os.NewSyscallError("listen", err)
	}
	return fd, nil
}

// listenBacklog is the accept queue asked for: the kernel's bound,
// net.core.somaxconn, as package net asks (the kernel caps the request at it
// anyway, so this only matters where the file cannot be read).
func listenBacklog() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
			return n
		}
	}
	return unix.SOMAXCONN
}

// listener is netpoll's Listener on a socket of ours. netpoll's server calls
// Accept from its poller goroutine, one connection per readable event, and
// Close when the event loop shuts down; Addr and Fd may be called from any
// goroutine.
type listener struct {
	fd        int
	addr      *net.TCPAddr
	closed    atomic.Bool // Accept must not reach a descriptor number reused since
	closeOnce sync.Once
	closeErr  error
}

// Accept returns the next connection, or nil and nil when none is waiting
// (netpoll's convention for EAGAIN). EMFILE and ENFILE come back as bare
// errnos, which netpoll recognises: it stops polling the listener and retries
// with a back-off.
func (l *listener) Accept() (net.Conn, error) {
	if l.closed.Load() {
		return nil, net.ErrClosed
	}
	for {
		var rsa unix.RawSockaddrAny
		n := uint32(unix.SizeofSockaddrAny)
		nfd, _, errno := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(l.fd), uintptr(unsafe.Pointer(&rsa)),
			uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		switch errno {
		case 0:
			return &accepted{fd: int(nfd), local: l.addr, remote: rawTCPAddr(&rsa)}, nil
		case unix.EAGAIN:
			return nil, nil
		case unix.EINTR, unix.ECONNABORTED:
			continue // interrupted, or a connection reset while it waited: take the next
		default:
			return nil, errno
		}
	}
}

// Close closes the listening socket; connections already accepted stay open.
func (l *listener) Close() error {
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		if err := unix.Close(l.fd); err != nil {
			l.closeErr = os.NewSyscallError("close", err)
		}
	})
	return l.closeErr
}

func (l *listener) Addr() net.Addr { return l.addr }
func (l *listener) Fd() int        { return l.fd }

// accepted carries an accepted socket to netpoll, which takes its descriptor
// and addresses into a connection of its own and drops it: only Fd,
// LocalAddr and RemoteAddr are ever called. The rest of net.Conn exists to
// satisfy the interface and refuses.
type accepted struct {
	fd            int
	local, remote net.Addr
}

var errAcceptedOnly = errors.New("poller: an accepted socket is used through its netpoll connection")

func (a *accepted) Fd() int                            { return a.fd }
func (a *accepted) LocalAddr() net.Addr                { return a.local }
func (a *accepted) RemoteAddr() net.Addr               { return a.remote }
func (a *accepted) Read([]byte) (int, error)           { return 0, errAcceptedOnly }
func (a *accepted) Write([]byte) (int, error)          { return 0, errAcceptedOnly }
func (a *accepted) Close() error                       { return errAcceptedOnly }
func (a *accepted) SetDeadline(t time.Time) error      { return errAcceptedOnly }
func (a *accepted) SetReadDeadline(t time.Time) error  { return errAcceptedOnly }
func (a *accepted) SetWriteDeadline(t time.Time) error { return errAcceptedOnly }
func (a *accepted) String() string                     { return fmt.Sprintf("accepted fd %d", a.fd) }

// rawTCPAddr decodes the peer address accept4 wrote.
func rawTCPAddr(rsa *unix.RawSockaddrAny) *net.TCPAddr {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return &net.TCPAddr{IP: net.IPv4(p.Addr[0], p.Addr[1], p.Addr[2], p.Addr[3]), Port: port(p.Port)}
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		ip := make(net.IP, net.IPv6len)
		copy(ip, p.Addr[:])
		return &net.TCPAddr{IP: ip, Port: port(p.Port), Zone: zoneName(p.Scope_id)}
	}
	return &net.TCPAddr{}
}

// port turns a sockaddr's port, stored in network byte order, into a number.
func port(p uint16) int {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return int(b[0])<<8 | int(b[1])
}

func zoneID(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	n, _ := strconv.Atoi(zone)
	return uint32(n)
}

func zoneName(id uint32) string {
	if id == 0 {
		return ""
	}
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(int(id))
}

// tcpAddrOf converts the listening socket's own address.
func tcpAddrOf(sa unix.Sockaddr) *net.TCPAddr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IPv4(sa.Addr[0], sa.Addr[1], sa.Addr[2], sa.Addr[3]), Port: sa.Port}
	case *unix.SockaddrInet6:
		ip := make(net.IP, net.IPv6len)
		copy(ip, sa.Addr[:])
		return &net.TCPAddr{IP: ip, Port: sa.Port, Zone: zoneName(sa.ZoneId)}
	}
	return &net.TCPAddr{}
}
