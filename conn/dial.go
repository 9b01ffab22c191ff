package conn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"

	"github.com/cloudwego/netpoll"
	"github.com/surge-ws/ws/frame"
)

var errHandshakeClosed = errors.New("conn: connection closed during the handshake")

// Dialer opens client connections driven by the same event loop as servers:
// a dialed connection holds no goroutine while idle, so one process can keep
// as many as its file-descriptor limit allows. Set the fields, then call
// Dial from any number of goroutines.
type Dialer struct {
	// Handler receives every dialed connection's events.
	Handler Handler
	// Config holds the connection settings (PingInterval defaults to off for
	// clients: servers ping).
	Config Config
	// Header is sent with every handshake (e.g. Origin, Authorization).
	Header http.Header

	once sync.Once
	eng  *engine
	err  error
}

type dialState struct {
	key  string
	once sync.Once
	done chan struct{}
	resp *frame.Response
	err  error
}

func (d *dialState) finish(resp *frame.Response, err error) {
	d.once.Do(func() {
		d.resp, d.err = resp, err
		close(d.done)
	})
}

// Dial connects to a ws:// URL and completes the handshake. It returns when
// the connection is open (OnOpen has run), the handshake failed (the error is
// a *frame.HandshakeError for a non-101 answer) or ctx is done.
func (d *Dialer) Dial(ctx context.Context, rawURL string) (*Conn, *frame.Response, error) {
	return d.DialFrom(ctx, rawURL, nil)
}

// DialFrom is Dial from a given local address (nil: the kernel's choice).
// Spreading connections over 127.0.0.x sources keeps a load test from running
// out of ephemeral ports.
func (d *Dialer) DialFrom(ctx context.Context, rawURL string, local *net.TCPAddr) (*Conn, *frame.Response, error) {
	d.once.Do(func() { d.eng, d.err = newEngine(d.Config, d.Handler, true) })
	if d.err != nil {
		return nil, nil, d.err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	if u.Scheme != "ws" && u.Scheme != "http" {
		return nil, nil, fmt.Errorf("conn: unsupported scheme %q (wss is not supported: terminate TLS in front)", u.Scheme)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	raddr, err := netpoll.ResolveTCPAddr("tcp", host)
	if err != nil {
		return nil, nil, err
	}
	var laddr *netpoll.TCPAddr
	if local != nil {
		laddr = &netpoll.TCPAddr{TCPAddr: *local}
	}
	dctx, cancel := context.WithTimeout(ctx, d.eng.cfg.HandshakeTimeout)
	defer cancel()
	np, err := netpoll.DialTCP(dctx, "tcp", laddr, raddr)
	if err != nil {
		return nil, nil, err
	}
	c := newConn(d.eng, np, true)
	ds := &dialState{key: frame.NewKey(), done: make(chan struct{})}
	c.dial = ds
	_ = np.AddCloseCallback(c.onClosed)
	uri := u.RequestURI()
	req := frame.AppendRequest(nil, u.Host, uri, ds.key, d.eng.cfg.Subprotocols, d.eng.cfg.Compression, d.Header)
	c.mu.Lock()
	c.pushLocked(outFrame{b: req})
	c.kickLocked(true)
	c.watchInput()

	if err := ds.await(dctx); err != nil {
		c.closeSocket()
		return nil, ds.resp, err
	}
	return c, ds.resp, nil
}

// await waits for the handshake's outcome or ctx, whichever comes first, and
// returns the outcome: nil only for a finished handshake. When both are ready
// at once the handshake wins (the connection is open and OnOpen has run), so
// Dial never returns a connection it closed, nor closes one it returns.
func (d *dialState) await(ctx context.Context) error {
	select {
	case <-d.done:
	case <-ctx.Done():
		d.finish(nil, ctx.Err()) // a no-op if the handshake finished first
	}
	return d.err
}

// clientHandshake parses the server's answer; see serverHandshake.
func (c *Conn) clientHandshake(data []byte) int {
	ds := c.dial
	resp, n, err := frame.ParseResponseOffer(data, ds.key, c.eng.cfg.Compression, c.eng.cfg.MaxHeaderBytes)
	if err != nil {
		c.recvErr = true
		ds.finish(resp, err)
		c.closeSocket()
		return len(data)
	}
	if n == 0 {
		return 0
	}
	c.proto = c.protoIndex(resp.Protocol)
	c.dec.Deflate = resp.Deflate
	c.mu.Lock()
	if !c.advance(stateOpen) {
		c.mu.Unlock()
		c.recvErr = true
		ds.finish(nil, errHandshakeClosed)
		return len(data)
	}
	c.deflate = resp.Deflate
	c.mu.Unlock()
	c.open()
	c.dial = nil
	ds.finish(resp, nil)
	return n
}
