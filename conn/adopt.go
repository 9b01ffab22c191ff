package conn

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/cloudwego/netpoll"
	"github.com/surge-ws/ws/frame"
	"golang.org/x/sys/unix"
)

// ServeHTTP makes a Server an http.Handler, so it can be mounted in any
// net/http router: it checks the upgrade request, runs Route and the Upgrade
// hook, answers a rejection through w, and otherwise takes the connection
// away from net/http — hijacked, its descriptor moved onto netpoll's event
// loop — after which it costs what a connection accepted by Serve costs.
// Bytes the client sent after the request (its first frames) are kept.
//
// The connection must be plain TCP over HTTP/1.1: behind TLS
// (http.Server.ServeTLS) the bytes on the socket are encrypted, and over
// HTTP/2 there is no connection of its own to take. Such requests are refused
// before Route and the Upgrade hook run (so Auth never admits a connection
// that cannot be served): 501 for TLS, 505 for HTTP/2 and later, each with a
// body saying why. Terminate TLS in front. Serve and ServeHTTP may be used
// together on one Server.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.init(); err != nil {
		http.Error(w, "websocket server misconfigured", http.StatusInternalServerError)
		return
	}
	if status, why := unservable(r); status != 0 {
		writeReject(w, status, nil, why)
		return
	}
	// Counted against IPLimits from here; the hijacked connection's close
	// callback uncounts it, or the deferred release if it never gets one.
	var release func(netpoll.Connection) error
	if s.IPLimits.on() {
		ip := addrIP(parseAddr(r.RemoteAddr))
		if why := s.ips.admit(ip, s.IPLimits, time.Now()); why != "" {
			s.countRejected(http.StatusTooManyRequests)
			writeReject(w, http.StatusTooManyRequests, retryAfter, why)
			return
		}
		release = func(netpoll.Connection) error { s.ips.release(ip); return nil }
		defer func() {
			if release != nil {
				_ = release(nil)
			}
		}()
	}
	fr, err := frame.RequestFromHTTP(r.Method, r.RequestURI, r.Proto, r.Host, r.Header)
	if err != nil {
		var he *frame.HandshakeError
		if !errors.As(err, &he) {
			he = &frame.HandshakeError{Status: http.StatusBadRequest, Reason: err.Error()}
		}
		writeReject(w, he.Status, he.Header, he.Reason)
		return
	}
	req := &Request{Request: fr, RemoteAddr: parseAddr(r.RemoteAddr)}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		req.LocalAddr = la
	}
	v := s.decide(req)
	if v.status != 0 {
		s.countRejected(v.status)
		writeReject(w, v.status, v.header, v.body)
		return
	}
	np, buffered, err := hijack(w)
	if err != nil {
		v.eng.cfg.Logger.Warn("conn: cannot take the connection from net/http", "remote", r.RemoteAddr, "err", err)
		return // net/http answers or drops it; nothing of ours exists yet
	}
	uncount := release
	release = nil // adopt owns it now
	s.adopt(v.eng, np, fr, v.value, buffered, uncount)
}

// adopt runs, for a hijacked connection, what Serve's handshake does after
// the Upgrade hook: it registers the Conn, queues the 101, runs OnOpen and
// the bytes that came with the request, and hands the connection to the loop.
// uncount, if not nil, gives the connection's IPLimits place back when it
// closes: added after onClosed, it runs before it (netpoll runs close
// callbacks newest first), so the place is free by the time the connection
// leaves the count, as in Serve.
func (s *Server) adopt(eng *engine, np netpoll.Connection, fr *frame.Request, value any, buffered []byte, uncount func(netpoll.Connection) error) {
	c := newConn(eng, np, false)
	c.srv = s
	if !s.register(c) {
		if uncount != nil {
			_ = uncount(np)
		}
		_ = np.Close()
		return
	}
	_ = np.AddCloseCallback(c.onClosed)
	if uncount != nil {
		_ = np.AddCloseCallback(uncount)
	}
	resp := c.accept(fr, value)
	c.mu.Lock()
	c.reading = true // like an input callback: what OnOpen writes leaves with the 101
	c.pushLocked(outFrame{b: resp})
	c.advance(stateOpen) // nobody else knows the connection yet
	c.mu.Unlock()
	c.open()
	if len(buffered) > 0 {
		c.input(buffered)
	}
	c.endRead()
	// From here netpoll runs onInput for whatever arrives (and for what
	// arrived since the hijack, which SetOnRequest processes at once).
	c.watchInput()
}

// hijack takes the connection from net/http and moves a duplicate of its
// descriptor onto netpoll; net/http's copy is closed. It returns the bytes
// net/http had read past the request.
func hijack(w http.ResponseWriter) (netpoll.Connection, []byte, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("conn: the ResponseWriter cannot be hijacked (HTTP/2?)")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	defer nc.Close() // the duplicate descriptor lives on in netpoll
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		buffered = bytes.Clone(b)
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, nil, errors.New("conn: not a plain TCP connection (TLS?): terminate TLS in front")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, nil, err
	}
	var fd int
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, nil, err
	}
	if derr != nil {
		return nil, nil, derr
	}
	np, err := netpoll.NewFDConnection(fd)
	if err != nil {
		_ = unix.Close(fd)
		return nil, nil, err
	}
	return np, buffered, nil
}

func writeReject(w http.ResponseWriter, status int, h http.Header, body string) {
	for k, v := range h {
		w.Header()[k] = v
	}
	if body == "" {
		body = http.StatusText(status)
	}
	http.Error(w, body, status)
}

// unservable refuses what cannot leave net/http for the event loop.
func unservable(r *http.Request) (int, string) {
	switch {
	case r.ProtoMajor != 1:
		return http.StatusHTTPVersionNotSupported, "conn: WebSocket upgrades need HTTP/1.1, got " + r.Proto
	case r.TLS != nil:
		return http.StatusNotImplemented, "conn: WebSocket over TLS is not served here: terminate TLS in front"
	}
	return 0, ""
}

// parseAddr turns net/http's RemoteAddr string back into a net.Addr.
func parseAddr(s string) net.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return stringAddr(s)
}

type stringAddr string

func (a stringAddr) Network() string { return "tcp" }
func (a stringAddr) String() string  { return string(a) }

// sockAddr converts what getpeername/getsockname return.
func sockAddr(sa unix.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return nil
}
