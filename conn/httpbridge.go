package conn

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Plain HTTP on Serve's port. A connection whose first request is not an
// upgrade is handed to a net/http server that runs Server.Fallback: keep-alive,
// every method, request bodies and streamed responses work as on any net/http
// server. The connection stays on the event loop — no descriptor changes hands,
// so no byte the client sends can fall between netpoll and net/http: its input
// is fed into an httpConn, a net.Conn that net/http's goroutine reads; writes
// go out through netpoll's Writer. It costs what net/http costs (a goroutine
// per connection while net/http serves it), which is why only plain requests
// take this path.

// httpMaxAhead is how far a client may run ahead of the handler reading its
// request body: past it the connection is closed (netpoll reads whatever
// arrives, so without a bound a client could fill the server's memory).
const httpMaxAhead = 4 << 20

// HTTP timeouts of the net/http server behind Fallback: a request's head
// must arrive within the Server's HandshakeTimeout; an idle keep-alive
// connection is closed after httpIdleTimeout.
const httpIdleTimeout = 2 * time.Minute

// toHTTP hands c, whose input so far is data (a request without an Upgrade
// header, and maybe more), to the Fallback's net/http server. Input
// goroutine; c is still in its handshake.
func (c *Conn) toHTTP(data []byte) {
	hc := &httpConn{c: c, buf: append([]byte(nil), data...)}
	hc.cond.L = &hc.mu
	c.value.Store(hc)
	c.eng.wheel.Stop(&c.timer) // net/http's own timeouts apply from here
	if !c.advance(stateHTTP) {
		return // closed meanwhile
	}
	h := c.srv.httpHost()
	if h == nil {
		c.closeSocket() // the Server is shutting down
		return
	}
	h.serve(hc)
}

// httpHost is the net/http server behind Fallback.
type httpHost struct {
	hs   *http.Server
	ln   *connListener
	done chan struct{} // closed when hs.Serve has returned
}

// started, or nil once Shutdown has begun (Shutdown stops a started one).
func (s *Server) httpHost() *httpHost {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.http != nil || s.closing {
		return s.http
	}
	h := &httpHost{ln: &connListener{ch: make(chan net.Conn), closed: make(chan struct{}), addr: s.addr}, done: make(chan struct{})}
	h.hs = &http.Server{
		Handler:           firstRequestOnly{s.Fallback},
		ReadHeaderTimeout: s.eng.cfg.HandshakeTimeout,
		IdleTimeout:       httpIdleTimeout,
	}
	go func() {
		_ = h.hs.Serve(h.ln)
		close(h.done)
	}()
	s.http = h
	return h
}

// serve gives hc to net/http without holding up the input goroutine.
func (h *httpHost) serve(hc *httpConn) {
	select {
	case h.ln.ch <- hc:
	default:
		go func() {
			select {
			case h.ln.ch <- hc:
			case <-h.ln.closed:
				_ = hc.Close()
			}
		}()
	}
}

// shutdown stops net/http: idle connections close at once, active ones after
// their response, all by ctx.
func (h *httpHost) shutdown(ctx context.Context) error {
	err := h.hs.Shutdown(ctx)
	<-h.done
	return err
}

// firstRequestOnly refuses an upgrade on a connection that already carried a
// plain request: the WebSocket must be the connection's first request here
// (browsers open a new connection for a WebSocket anyway).
type firstRequestOnly struct{ h http.Handler }

func (f firstRequestOnly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") != "" {
		w.Header().Set("Connection", "close")
		http.Error(w, "a WebSocket upgrade must be the first request on its connection", http.StatusBadRequest)
		return
	}
	f.h.ServeHTTP(w, r)
}

// connListener is the net.Listener that net/http accepts handed-over
// connections from.
type connListener struct {
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
	addr   net.Addr
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }

// httpConn is a net.Conn over a Conn that net/http serves. Read is called by
// net/http's goroutine; feed and end by the connection's input goroutine and
// close callback; the deadline timers by the runtime's.
type httpConn struct {
	c *Conn

	mu       sync.Mutex
	cond     sync.Cond
	buf      []byte // input not read yet
	eof      bool   // the peer closed, or we did
	deadline time.Time
	timer    *time.Timer

	wmu       sync.Mutex   // one Write at a time
	wdeadline atomic.Int64 // unix nanoseconds; 0: none
}

// feed adds input. Input goroutine.
func (hc *httpConn) feed(b []byte) {
	hc.mu.Lock()
	if len(hc.buf)+len(b) > httpMaxAhead {
		hc.mu.Unlock()
		hc.c.closeSocket()
		return
	}
	hc.buf = append(hc.buf, b...)
	hc.cond.Broadcast()
	hc.mu.Unlock()
}

// end marks the input finished: Read returns what is left, then io.EOF.
func (hc *httpConn) end() {
	hc.mu.Lock()
	hc.eof = true
	hc.cond.Broadcast()
	hc.mu.Unlock()
}

func (hc *httpConn) Read(p []byte) (int, error) {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	for len(hc.buf) == 0 {
		switch {
		case hc.eof:
			return 0, io.EOF
		case !hc.deadline.IsZero() && !time.Now().Before(hc.deadline):
			return 0, os.ErrDeadlineExceeded
		}
		hc.cond.Wait()
	}
	n := copy(p, hc.buf)
	hc.buf = hc.buf[n:]
	if len(hc.buf) == 0 {
		hc.buf = nil // do not keep a large body's array
	}
	return n, nil
}

// Write sends p through netpoll's Writer and waits until the kernel has it
// (or the write deadline passes, then the connection is dropped).
func (hc *httpConn) Write(p []byte) (int, error) {
	hc.wmu.Lock()
	defer hc.wmu.Unlock()
	c := hc.c
	if c.state.Load() == stateClosed {
		return 0, net.ErrClosed
	}
	timeout := c.eng.cfg.WriteTimeout
	if d := hc.wdeadline.Load(); d != 0 {
		timeout = time.Until(time.Unix(0, d))
		if timeout <= 0 {
			return 0, os.ErrDeadlineExceeded
		}
	}
	_ = c.np.SetWriteTimeout(timeout)
	w := c.np.Writer()
	if _, err := w.WriteBinary(p); err != nil {
		return 0, err
	}
	if err := w.Flush(); err != nil {
		c.closeSocket()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, err
		}
		return 0, net.ErrClosed
	}
	return len(p), nil
}

func (hc *httpConn) Close() error {
	hc.end()
	hc.c.closeSocket()
	return nil
}

func (hc *httpConn) LocalAddr() net.Addr  { return hc.c.LocalAddr() }
func (hc *httpConn) RemoteAddr() net.Addr { return hc.c.RemoteAddr() }

func (hc *httpConn) SetDeadline(t time.Time) error {
	_ = hc.SetReadDeadline(t)
	return hc.SetWriteDeadline(t)
}

func (hc *httpConn) SetReadDeadline(t time.Time) error {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	hc.deadline = t
	if hc.timer != nil {
		hc.timer.Stop()
	}
	if !t.IsZero() {
		wake := func() {
			hc.mu.Lock()
			hc.cond.Broadcast()
			hc.mu.Unlock()
		}
		if hc.timer == nil {
			hc.timer = time.AfterFunc(time.Until(t), wake)
		} else {
			hc.timer.Reset(time.Until(t))
		}
	}
	hc.cond.Broadcast()
	return nil
}

func (hc *httpConn) SetWriteDeadline(t time.Time) error {
	var d int64
	if !t.IsZero() {
		d = t.UnixNano()
	}
	hc.wdeadline.Store(d)
	return nil
}
