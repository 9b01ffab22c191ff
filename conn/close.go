package conn

import (
	"runtime"

	"github.com/cloudwego/netpoll"
	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/poller"
	"golang.org/x/sys/unix"
)

// Close starts the closing handshake: frames queued before it are written,
// then a close frame with code and reason; the socket is closed when the peer
// answers with its own close frame or after Config.CloseTimeout. Writes after
// Close return ErrClosed. Closing a connection still in its handshake just
// drops it.
func (c *Conn) Close(code frame.CloseCode, reason string) error {
	c.mu.Lock()
	if c.closeSent || c.state.Load() == stateClosed {
		c.mu.Unlock()
		return ErrClosed
	}
	switch c.state.Load() {
	case stateHandshake:
		c.mu.Unlock()
		c.closeSocket()
		return nil
	case stateHTTP:
		c.mu.Unlock()
		return ErrClosed // net/http's: Server.Shutdown stops it gracefully
	}
	c.queueCloseLocked(code, reason, false)
	c.kickLocked(true)
	return nil
}

// queueCloseLocked queues our close frame. With hangup the socket is closed as
// soon as it is written (we fail the connection, or echo the peer's close);
// otherwise we wait for the peer's close frame.
func (c *Conn) queueCloseLocked(code frame.CloseCode, reason string, hangup bool) {
	c.closeSent = true
	c.hangup = c.hangup || hangup
	c.advance(stateClosing)
	if c.closeCode == 0 {
		c.closeCode, c.closeWhy = code, reason
	}
	var payload [125]byte
	p := frame.AppendClose(payload[:0], code, reason)
	var mask *[4]byte
	if c.dec.Client {
		m := frame.NewMask()
		mask = &m
	}
	b := frame.AppendFrame(make([]byte, 0, frame.MaxHeaderLen+len(p)), true, frame.OpClose, 0, p, mask)
	c.pushLocked(outFrame{b: b, close: true})
	c.eng.wheel.Schedule(&c.timer, c.eng.wheel.Now()+c.eng.closeTicks)
}

// fail closes the connection with code because of something the peer did
// (or a timeout): the close frame goes out after what is queued and the
// socket closes right after it, without waiting for an answer. Safe from any
// goroutine.
func (c *Conn) fail(code frame.CloseCode, reason string) {
	c.mu.Lock()
	if c.state.Load() == stateClosed {
		c.mu.Unlock()
		return
	}
	if c.closeSent {
		c.hangup = true
		if c.closeDone && !c.flushing {
			c.mu.Unlock()
			c.hangupSocket()
			return
		}
		c.mu.Unlock()
		return
	}
	c.queueCloseLocked(code, reason, true)
	c.kickLocked(false)
}

// hangupDueLocked reports whether the socket should be closed now that the
// queue is written.
func (c *Conn) hangupDueLocked() bool {
	return c.closeDone && (c.hangup || c.closeRecv)
}

// hangupSocket ends the connection once our last bytes (a close frame, an
// HTTP error) are written: it shuts down our side (FIN) and discards the
// peer's input until the peer closes too or CloseTimeout passes. Closing at
// once with unread input would make the kernel answer with RST, which can
// destroy our close frame in the peer's receive buffer before it is read.
// The wait is short (at most a second, like net/http's lingering close): a
// peer that is still sending after our close is not going to stop soon.
func (c *Conn) hangupSocket() {
	for {
		s := c.state.Load()
		if s == stateLinger || s == stateClosed {
			return
		}
		if c.state.CompareAndSwap(s, stateLinger) {
			break
		}
	}
	if !c.acquireFD() {
		return
	}
	err := unix.Shutdown(int(c.fd), unix.SHUT_WR)
	c.releaseFD()
	if err != nil {
		c.closeSocket()
		return
	}
	c.eng.wheel.Schedule(&c.timer, c.eng.wheel.Now()+c.eng.lingerTicks)
}

// closeSocket closes the TCP connection; netpoll then runs onClosed. It
// never calls into netpoll's close path itself: that path frees the
// connection's fd operator and waits, spinning, until no poller is handling
// the descriptor, so run on a poller goroutine it would wait for itself (the
// freeze of 2026-12-02), and run on the caller's goroutine it would make
// OnClose run on the timing wheel or inside a user's Close. The socket is
// closed on a pooled goroutine instead — or, while the poller runs this
// connection's input inline, by RunInline once that input returns.
func (c *Conn) closeSocket() {
	if c.state.Swap(stateClosed) == stateClosed {
		return
	}
	// sharedWheel, not c.eng.wheel (the same wheel): the timing wheel calls
	// this for a connection whose handshake goroutine may be switching
	// c.eng to its endpoint's engine.
	sharedWheel.Stop(&c.timer)
	if c.gate.Or(gateClosing)&gateInline != 0 {
		return // RunInline closes it when the inline input returns
	}
	closeLater(c.np)
}

// closeLater closes np on a pooled goroutine: netpoll runs the close
// callbacks (onClosed, OnClose) there, or on the input goroutine that still
// holds the connection.
func closeLater(np netpoll.Connection) {
	poller.Go(func() { _ = np.Close() })
}

// onClosed is netpoll's close callback: it runs once, after any input
// callback of the connection has returned.
func (c *Conn) onClosed(netpoll.Connection) error {
	c.state.Store(stateClosed)
	for c.fdRefs.Load() != 0 {
		runtime.Gosched() // a raw write in flight: microseconds, it never blocks
	}
	c.eng.wheel.Stop(&c.timer)
	c.mu.Lock()
	if c.closedOnce {
		c.mu.Unlock()
		return nil
	}
	c.closedOnce = true
	code, reason := frame.CloseAbnormal, ""
	if c.closeCode != 0 {
		code, reason = c.closeCode, c.closeWhy
	}
	c.dropQueuedLocked()
	c.q = nil
	c.mu.Unlock()
	c.pending, c.msg = nil, nil
	if hc, ok := c.value.Load().(*httpConn); ok {
		hc.end()
	}
	if c.dial != nil {
		c.dial.finish(nil, errHandshakeClosed)
	}
	if c.srv != nil {
		c.srv.unregister(c)
	}
	if c.opened {
		// On a goroutine of its own: netpoll closes the descriptor only after
		// this callback, so a slow OnClose here would keep the peer waiting
		// for its FIN, and this may be netpoll's hang-up goroutine, which
		// closes the other connections of the same poll round after this one.
		poller.Go(func() { c.safeCall(func() { c.eng.handler.OnClose(c, code, reason) }) })
	}
	return nil
}
