package conn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/netpoll"
	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/poller"
)

// Server accepts WebSocket connections on netpoll's event loop. Set its
// fields, then call Serve; do not change them afterwards. Serve, Shutdown and
// Len are safe for concurrent use.
type Server struct {
	// Handler receives every connection's events.
	Handler Handler
	// Upgrade decides on each handshake: it sees method, path, query,
	// headers and addresses, and returns a value to attach to the connection
	// (Conn.Value) or a Reject. nil accepts every valid handshake. It runs on
	// the connection's input goroutine and may block that connection only.
	Upgrade func(r *Request) (value any, reject *Reject)
	// Config holds the connection settings.
	Config Config
	// Route, if set, picks the endpoint that serves an upgrade request (by
	// path, typically): its Upgrade hook, Handler and Config replace the
	// Server's own for that connection. Returning nil uses the Server's. One
	// port can so serve several hubs with different limits.
	Route func(r *Request) *Endpoint
	// Fallback, if set, serves the connections whose first request is plain
	// HTTP (no Upgrade header, or a method other than GET) on the same port:
	// pages, REST routes, health checks, metrics. A net/http server runs it,
	// so keep-alive, request bodies and streamed responses work as usual;
	// the connection stays on the event loop (see httpbridge.go). Without
	// Fallback such requests get 426 or 405.
	Fallback http.Handler
	// IPLimits bound the connections and handshakes per second of one client
	// address (Serve and ServeHTTP alike). Default: no limit.
	IPLimits IPLimits

	initOnce sync.Once
	initErr  error
	eng      *engine

	mu      sync.Mutex
	head    *Conn // registry of live connections, for Shutdown
	count   int
	closing bool
	drained chan struct{}
	evl     netpoll.EventLoop
	addr    net.Addr
	// index is netpoll's own record of the connections Serve accepted,
	// emptied as they open: the registry above is the one Shutdown uses.
	index atomic.Pointer[poller.ServerIndex]

	ips ipTable

	rejected [200]atomic.Uint64 // refused handshakes by status - 400

	http *httpHost // serves Fallback, from the first plain request on; under mu
}

// Listen opens a TCP listener for Serve; with reusePort several processes can
// share the port (SO_REUSEPORT).
func Listen(network, addr string, reusePort bool) (net.Listener, error) {
	return poller.Listen(network, addr, reusePort)
}

func (s *Server) init() error {
	s.initOnce.Do(func() {
		s.eng, s.initErr = newEngine(s.Config, s.Handler, false)
	})
	return s.initErr
}

// Serve accepts connections on ln until Shutdown; it then returns
// ErrServerClosed. ln should come from Listen (any *net.TCPListener works).
func (s *Server) Serve(ln net.Listener) error {
	if err := s.init(); err != nil {
		return err
	}
	evl, err := netpoll.NewEventLoop(s.onRequest, netpoll.WithOnPrepare(s.onPrepare))
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.evl, s.addr = evl, ln.Addr()
	s.index.Store(poller.NewServerIndex(evl))
	s.mu.Unlock()
	err = evl.Serve(ln)
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing || err == nil {
		return ErrServerClosed
	}
	return err
}

// Addr returns the address Serve listens on (nil before Serve).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Len returns the number of live connections (handshaking ones included).
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

func (s *Server) onPrepare(np netpoll.Connection) context.Context {
	// Input is taken by onInput as it arrives; nothing ever blocks reading
	// this connection, so netpoll's channel for waking such a reader is
	// released (112 bytes of every idle connection).
	poller.DropReadTrigger(np)
	c := newConn(s.eng, np, false)
	c.srv = s
	if !s.register(c) {
		_ = np.Close()
		return &c.lctx
	}
	_ = np.AddCloseCallback(c.onClosed)
	s.eng.wheel.Schedule(&c.timer, s.eng.wheel.Now()+s.eng.handshakeTicks)
	if why := s.admitIP(np, np.RemoteAddr()); why != "" {
		// Answered before the request is read: nothing of it is needed.
		c.recvErr = true
		s.countRejected(http.StatusTooManyRequests)
		c.answerAndHangup(frame.AppendReject(nil, http.StatusTooManyRequests, retryAfter, why))
		c.mu.Lock()
		c.kickLocked(false) // a flusher writes it, not the accepting poller
	}
	return &c.lctx
}

// admitIP counts np against IPLimits until it closes, or returns why its
// address may not open another connection.
func (s *Server) admitIP(np netpoll.Connection, remote net.Addr) string {
	if !s.IPLimits.on() {
		return ""
	}
	ip := addrIP(remote)
	if why := s.ips.admit(ip, s.IPLimits, time.Now()); why != "" {
		return why
	}
	_ = np.AddCloseCallback(func(netpoll.Connection) error { s.ips.release(ip); return nil })
	return ""
}

func (s *Server) onRequest(ctx context.Context, np netpoll.Connection) error {
	return ctx.(*loopCtx).c.onInput(np)
}

func (s *Server) register(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	c.next = s.head
	if s.head != nil {
		s.head.prev = c
	}
	s.head = c
	s.count++
	return true
}

func (s *Server) unregister(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.prev == nil && s.head != c {
		return // never registered, or already gone
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		s.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.next, c.prev = nil, nil
	s.count--

	if s.count == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}

// Shutdown stops accepting, closes every open connection with 1001 "server
// shutdown" after its queued frames are written, and waits for the peers'
// close frames until ctx is done; connections still open then are dropped.
// It returns ctx.Err() if it had to drop any.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	var conns []*Conn
	for c := s.head; c != nil; c = c.next {
		conns = append(conns, c)
	}
	var drained chan struct{}
	if s.count > 0 {
		drained = make(chan struct{})
		s.drained = drained
	}
	evl, hh := s.evl, s.http
	s.mu.Unlock()

	for _, c := range conns {
		_ = c.Close(frame.CloseGoingAway, "server shutdown")
	}
	if hh != nil {
		// Idle keep-alive connections close now, busy ones after their
		// response (or when ctx ends: below, they are dropped).
		_ = hh.shutdown(ctx)
	}
	var err error
	if drained != nil {
		select {
		case <-drained:
		case <-ctx.Done():
			err = ctx.Err()
			s.mu.Lock()
			conns = conns[:0]
			for c := s.head; c != nil; c = c.next {
				conns = append(conns, c)
			}
			s.mu.Unlock()
			for _, c := range conns {
				c.closeSocket()
			}
		}
	}
	if evl != nil {
		// Every connection is gone; this closes the listener.
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = evl.Shutdown(sctx)
	}
	return err
}

// serverHandshake parses the upgrade request and answers it. It returns the
// bytes used; 0 with the state unchanged means the request is incomplete.
func (c *Conn) serverHandshake(data []byte) int {
	cfg := &c.eng.cfg
	req, n, err := frame.ParseRequest(data, cfg.MaxHeaderBytes)
	if err != nil && c.srv.Fallback != nil && plainHTTP(req, err) {
		c.toHTTP(data)
		return len(data)
	}
	if err != nil {
		var he *frame.HandshakeError
		if errors.As(err, &he) {
			c.reject(he.Status, he.Header, he.Reason)
		} else {
			c.reject(http.StatusBadRequest, nil, err.Error())
		}
		return len(data)
	}
	if n == 0 {
		return 0
	}
	v := c.srv.decide(&Request{Request: req, RemoteAddr: c.np.RemoteAddr(), LocalAddr: c.np.LocalAddr()})
	if v.eng != c.eng {
		c.eng = v.eng
		c.dec.MaxMessageSize = v.eng.cfg.MaxMessageSize
		_ = c.np.SetWriteTimeout(v.eng.cfg.WriteTimeout)
	}
	if v.status != 0 {
		c.reject(v.status, v.header, v.body)
		return len(data)
	}
	resp := c.accept(req, v.value)
	c.mu.Lock()
	if !c.advance(stateOpen) {
		// Closed while the hook ran (the handshake timeout, Shutdown).
		c.mu.Unlock()
		c.recvErr = true
		return len(data)
	}
	c.pushLocked(outFrame{b: resp})
	c.mu.Unlock()
	c.srv.index.Load().Forget(int(c.fd))
	c.open()
	return n
}

// plainHTTP reports whether a request ParseRequest refused is ordinary HTTP
// for the Fallback: a head without an Upgrade field, or a method other than
// GET (refused from the request line alone, before the head is complete;
// net/http reads the rest).
func plainHTTP(req *frame.Request, err error) bool {
	if req != nil {
		return req.Header.Get("Upgrade") == ""
	}
	var he *frame.HandshakeError
	return errors.As(err, &he) && he.Status == http.StatusMethodNotAllowed
}

// verdict is what Route and the Upgrade hook decided for an upgrade request.
type verdict struct {
	eng    *engine // the endpoint's engine, or the Server's
	value  any     // for Conn.Value
	status int     // 0: accept; else the HTTP status of the refusal
	header http.Header
	body   string
}

// decide runs Route and the Upgrade hook: the one handshake tail of Serve's
// handshake and of ServeHTTP.
func (s *Server) decide(r *Request) verdict {
	v := verdict{eng: s.eng}
	hook := s.Upgrade
	if s.Route != nil {
		if ep := s.Route(r); ep != nil {
			eng, err := ep.engine()
			if err != nil {
				return verdict{eng: s.eng, status: http.StatusInternalServerError, body: "endpoint misconfigured"}
			}
			v.eng, hook = eng, ep.Upgrade
		}
	}
	if hook == nil {
		return v
	}
	var rej *Reject
	if v.value, rej = callUpgrade(v.eng, hook, r); rej != nil {
		v.value, v.status, v.header, v.body = nil, rej.Status, rej.Header, rej.Body
		if v.status == 0 {
			v.status = http.StatusForbidden
		}
		return v
	}
	if ev, ok := v.value.(EndpointValue); ok {
		if ep := ev.ConnEndpoint(); ep != nil {
			eng, err := ep.engine()
			if err != nil {
				return verdict{eng: v.eng, status: http.StatusInternalServerError, body: "endpoint misconfigured"}
			}
			v.eng = eng
		}
	}
	return v
}

// EndpointValue is implemented by an Upgrade hook's value that names the
// Endpoint serving its connection: the connection takes that endpoint's
// Handler and Config, whatever Route picked (its Upgrade hook has run
// already). So a hook registered on its own — by path in a router, say —
// brings its service's limits along: hub.Hub.Serve returns the *hub.Client,
// whose endpoint is its hub's.
type EndpointValue interface {
	ConnEndpoint() *Endpoint
}

// accept settles what the handshake negotiates — subprotocol, compression,
// the hook's value — and returns the 101 answer to queue. Input goroutine
// (or, for ServeHTTP, before the connection is shared).
func (c *Conn) accept(req *frame.Request, value any) []byte {
	cfg := &c.eng.cfg
	proto := frame.SelectProtocol(req.Protocols, cfg.Subprotocols)
	deflate := cfg.Compression && req.Deflate
	if value != nil {
		c.value.Store(value)
	}
	c.proto = c.protoIndex(proto)
	c.dec.Deflate = deflate
	c.mu.Lock()
	c.deflate = deflate
	c.mu.Unlock()
	return frame.AppendAccept(make([]byte, 0, 256), req, proto, deflate, nil) // one allocation, not a growing slice
}

// open runs OnOpen and arms the first ping/read deadline.
func (c *Conn) open() {
	c.opened = true
	now := c.eng.wheel.Now()
	c.eng.wheel.Stop(&c.timer)
	c.armOpen(now, now)
	c.safeCall(func() { c.eng.handler.OnOpen(c) })
}

func callUpgrade(eng *engine, hook func(*Request) (any, *Reject), r *Request) (v any, rej *Reject) {
	defer func() {
		if p := recover(); p != nil {
			eng.cfg.Logger.Error("conn: upgrade hook panic", "remote", r.RemoteAddr, "panic", fmt.Sprint(p))
			v, rej = nil, &Reject{Status: http.StatusInternalServerError, Body: "internal error"}
		}
	}()
	return hook(r)
}

// reject answers the handshake with an HTTP error and closes once it is written.
func (c *Conn) reject(status int, h http.Header, body string) {
	c.recvErr = true
	c.srv.countRejected(status)
	c.answerAndHangup(frame.AppendReject(nil, status, h, body))
}

// countRejected counts a refused handshake by its status (4xx and 5xx).
func (s *Server) countRejected(status int) {
	if status >= 400 && status < 600 {
		s.rejected[status-400].Add(1)
	}
}

// Rejected returns how many handshakes the Server refused, by HTTP status:
// malformed requests (400), the Upgrade hook's refusals, IPLimits (429).
// Plain HTTP requests served by Fallback are not counted. Safe for
// concurrent use.
func (s *Server) Rejected() map[int]uint64 {
	out := map[int]uint64{}
	for i := range s.rejected {
		if n := s.rejected[i].Load(); n > 0 {
			out[400+i] = n
		}
	}
	return out
}

// answerAndHangup queues a last HTTP response of a connection that never
// became a WebSocket and closes once it is written.
func (c *Conn) answerAndHangup(b []byte) {
	c.mu.Lock()
	if c.advance(stateClosing) {
		c.pushLocked(outFrame{b: b, close: true})
		c.closeSent, c.hangup = true, true
	}
	c.mu.Unlock()
}

// Endpoint is one kind of WebSocket service on a Server: its own Upgrade
// hook, Handler and Config. See Server.Route. Set the fields before the first
// connection and do not change them afterwards; change the settings of a
// served Endpoint with Reconfigure.
type Endpoint struct {
	Handler Handler
	Upgrade func(r *Request) (value any, reject *Reject)
	Config  Config

	mu  sync.Mutex
	eng *engine // built at the first connection; replaced by Reconfigure
	err error
}

func (ep *Endpoint) engine() (*engine, error) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.eng == nil && ep.err == nil {
		ep.eng, ep.err = newEngine(ep.Config, ep.Handler, false)
	}
	return ep.eng, ep.err
}

// Reconfigure makes cfg the settings of the connections the endpoint accepts
// from now on; open connections keep the ones they opened with. Safe for
// concurrent use with serving.
func (ep *Endpoint) Reconfigure(cfg Config) error {
	eng, err := newEngine(cfg, ep.Handler, false)
	if err != nil {
		return err
	}
	ep.mu.Lock()
	ep.eng, ep.err = eng, nil
	ep.mu.Unlock()
	return nil
}
