package conn

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/netpoll"
	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/poller"
	"golang.org/x/sys/unix"
)

// Connection states; see state.
const (
	stateHandshake uint32 = iota // server: waiting for the request; client: for the response
	stateHTTP                    // a plain HTTP connection that net/http serves (httpbridge.go)
	stateOpen
	stateClosing // a close frame is queued (ours or our echo of the peer's)
	stateLinger  // our last bytes are written and our side shut down; draining the peer's
	stateClosed  // the TCP connection is closed
)

// Conn is one WebSocket connection driven by the event loop.
//
// Write, WritePrepared, Close, Value, SetValue and the address methods are
// safe for concurrent use from any goroutine and never block on the network:
// frames go into a bounded queue that the event loop's flushers write out.
// Frames written by one goroutine leave in the order written.
type Conn struct {
	np     netpoll.Connection
	fd     int32        // the socket; int32 to share a word with fdRefs
	fdRefs atomic.Int32 // goroutines inside a raw system call on fd; see acquireFD
	eng    *engine
	lctx   loopCtx
	srv    *Server // nil on a dialed connection

	value atomic.Value

	// Read side: touched only by the goroutine netpoll runs for this
	// connection's input, one at a time.
	dec     frame.Decoder
	pending []byte // bytes of an incomplete handshake or frame; nil otherwise
	msg     []byte // fragments of an incomplete message; nil otherwise
	msgOp   frame.OpCode
	msgZip  bool
	recvErr bool // we failed the connection: ignore further input
	opened  bool // OnOpen ran
	// gate keeps netpoll's close path off the poller goroutine; see
	// RunInline. (Here because it fills the hole after the bools.)
	gate atomic.Uint32
	dial *dialState

	// Timers: lastRead is stamped on every input; the rest belong to the
	// wheel goroutine (Expire).
	timer    poller.Timer
	lastRead atomic.Int64
	pingAt   poller.Tick // tick our unanswered ping went out; 0 = none

	state atomic.Uint32

	// Write side, under mu.
	// (Field order keeps the struct at 320 bytes, a malloc size class: an
	// idle connection's memory is mostly this struct and netpoll's.)
	mu         sync.Mutex
	qMsgs      int32
	q          []outFrame // waiting frames; nil while nothing was ever queued
	qBytes     int32
	closeCode  frame.CloseCode // what OnClose reports: the peer's close, else ours
	proto      uint8           // 1 + index of the subprotocol in Config.Subprotocols; 0: none
	flushing   bool            // a goroutine is writing this connection's socket
	scheduled  bool            // in the flusher queue
	reading    bool            // the input goroutine runs and will flush on return
	closeSent  bool            // our close frame is queued
	closeDone  bool            // our close frame has been written
	closeRecv  bool            // the peer's close frame arrived
	hangup     bool            // close the socket once the queue is written
	deflate    bool            // permessage-deflate negotiated
	closedOnce bool
	closeWhy   string

	// Server's registry of live connections.
	next, prev *Conn
}

// outFrame is one queued frame.
type outFrame struct {
	b      []byte
	data   bool // counts against the queue bounds
	close  bool // our close frame
	pooled bool // b is in a frameBuf from framePool: the writer returns it once written
	pong   bool // our answer to a ping: at most one waits in the queue (see writeControl)
}

// loopCtx is the context netpoll carries for the connection; it leads back to
// the Conn without a context.WithValue allocation per connection.
type loopCtx struct{ c *Conn }

func (*loopCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*loopCtx) Done() <-chan struct{}       { return nil }
func (*loopCtx) Err() error                  { return nil }
func (*loopCtx) Value(any) any               { return nil }

var (
	_ context.Context = (*loopCtx)(nil)
	_ poller.Inliner  = (*loopCtx)(nil)
)

// advance moves the state forward to s and reports whether it did: states
// only ever advance (handshake, open, closing, linger, closed), so a goroutine
// that decided on an older state (a handshake finishing, a close being
// queued) cannot undo a close another goroutine has done meanwhile.
func (c *Conn) advance(s uint32) bool {
	for {
		cur := c.state.Load()
		if cur >= s {
			return false
		}
		if c.state.CompareAndSwap(cur, s) {
			return true
		}
	}
}

// Value returns the value the Upgrade hook (or SetValue) attached.
func (c *Conn) Value() any { return c.value.Load() }

// SetValue attaches v to the connection. v must always be of the same
// concrete type.
func (c *Conn) SetValue(v any) { c.value.Store(v) }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr {
	if a := c.np.RemoteAddr(); a != nil {
		return a
	}
	return c.sockName(unix.Getpeername) // a connection taken over from net/http
}

// LocalAddr returns our end's address.
func (c *Conn) LocalAddr() net.Addr {
	if a := c.np.LocalAddr(); a != nil {
		return a
	}
	return c.sockName(unix.Getsockname)
}

func (c *Conn) sockName(f func(int) (unix.Sockaddr, error)) net.Addr {
	if !c.acquireFD() {
		return nil
	}
	defer c.releaseFD()
	sa, err := f(int(c.fd))
	if err != nil {
		return nil
	}
	return sockAddr(sa)
}

// Compressed reports whether permessage-deflate was negotiated.
func (c *Conn) Compressed() bool { return c.deflate }

// Subprotocol returns the negotiated subprotocol, or "".
func (c *Conn) Subprotocol() string {
	if c.proto == 0 {
		return ""
	}
	return c.eng.cfg.Subprotocols[c.proto-1]
}

// protoIndex returns 1 + the index of p in the configured subprotocols (0 if
// p is empty or not among them: a server picks only from its list, and a
// client accepts only what it offered).
func (c *Conn) protoIndex(p string) uint8 {
	for i, s := range c.eng.cfg.Subprotocols {
		if s == p && i < 255 {
			return uint8(i + 1)
		}
	}
	return 0
}

// IsClient reports whether the connection was dialed (its frames are masked).
func (c *Conn) IsClient() bool { return c.dec.Client }

// Open reports whether the connection is open for messages: the handshake is
// done and no close frame has been sent or received.
func (c *Conn) Open() bool { return c.state.Load() == stateOpen }

func newConn(eng *engine, np netpoll.Connection, client bool) *Conn {
	c := &Conn{np: np, eng: eng}
	c.fd = int32(np.(interface{ Fd() int }).Fd())
	c.lctx.c = c
	c.dec.Client = client
	c.dec.MaxMessageSize = eng.cfg.MaxMessageSize
	c.timer.Init(c)
	c.lastRead.Store(int64(eng.wheel.Now()))
	// netpoll's Flush (our slow path only) gives up after this long.
	_ = np.SetWriteTimeout(eng.cfg.WriteTimeout)
	return c
}

// acquireFD admits the caller to a raw system call on c.fd, or reports false
// once the connection is closed. netpoll closes the descriptor only after
// our close callback (onClosed) has run — its callbacks run newest first and
// its own, which closes fd, was added before ours — and onClosed waits until
// no raw call is in flight. So a write never reaches a closed descriptor, or
// worse, one the kernel has already given to another connection.
func (c *Conn) acquireFD() bool {
	c.fdRefs.Add(1)
	if c.state.Load() == stateClosed {
		c.fdRefs.Add(-1)
		return false
	}
	return true
}

func (c *Conn) releaseFD() { c.fdRefs.Add(-1) }
