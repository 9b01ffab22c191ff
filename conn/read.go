package conn

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"unicode/utf8"

	"github.com/cloudwego/netpoll"
	"github.com/surge-ws/ws/frame"
)

// watchInput makes onInput the connection's OnRequest, for a connection that
// netpoll did not accept itself (dialed, or taken from net/http). netpoll
// closes a connection whose peer hung up only if it has an input callback by
// then; one that hung up before (a client gone right after its request) would
// stay registered, counted and timed forever. Closing it here runs the close
// callbacks once: netpoll's processing lock keeps a concurrent hangup from
// running them twice.
func (c *Conn) watchInput() {
	_ = c.np.SetOnRequest(func(_ context.Context, np netpoll.Connection) error { return c.onInput(np) })
	if !c.np.IsActive() {
		_ = c.np.Close()
	}
}

// onInput is the connection's netpoll OnRequest: it consumes every byte netpoll
// holds, because netpoll calls it again while unread bytes remain and a
// blocking read for more would pin a goroutine to every slow client. A
// blocking read would also wait forever on a connection Serve accepted: its
// read-wake channel is dropped (poller.DropReadTrigger in onPrepare).
func (c *Conn) onInput(np netpoll.Connection) error {
	r := np.Reader()
	n := r.Len()
	if n == 0 {
		return nil
	}
	buf, err := r.Next(n)
	if err != nil {
		return err
	}
	c.lastRead.Store(int64(c.eng.wheel.Now()))
	c.mu.Lock()
	c.reading = true
	c.mu.Unlock()
	c.input(buf)
	_ = r.Release()
	c.endRead()
	return nil
}

// endRead writes what the callbacks queued, in this goroutine: an echo's reply
// leaves without a hand-off, and all replies of one batch of input leave in
// one system call.
func (c *Conn) endRead() {
	c.mu.Lock()
	c.reading = false
	if c.flushing || c.scheduled || len(c.q) == 0 {
		hangup := !c.flushing && c.hangupDueLocked()
		c.mu.Unlock()
		if hangup {
			c.hangupSocket()
		}
		return
	}
	c.flushing = true
	iov := iovecPool.Get().(*iovecs)
	c.drainLocked(iov)
	iovecPool.Put(iov)
}

// input parses buf (netpoll's bytes, valid until Release) together with any
// bytes stashed from earlier input.
func (c *Conn) input(buf []byte) {
	if c.recvErr || c.state.Load() == stateClosed {
		return
	}
	if c.state.Load() == stateHTTP {
		c.value.Load().(*httpConn).feed(buf)
		return
	}
	data := buf
	if c.pending != nil {
		c.pending = append(c.pending, buf...)
		data = c.pending
	}
	used := 0
	if c.state.Load() == stateHandshake {
		if c.dial != nil {
			used = c.clientHandshake(data)
		} else {
			used = c.serverHandshake(data)
		}
	}
	if c.state.Load() != stateHandshake && !c.recvErr {
		used += c.frames(data[used:])
	}
	if c.recvErr || c.state.Load() == stateClosed {
		c.pending = nil
		return
	}
	c.stash(data, used)
}

// stash keeps the unconsumed tail of data for the next input. The buffer
// exists only while a frame (or the handshake) is incomplete.
func (c *Conn) stash(data []byte, used int) {
	rest := data[used:]
	switch {
	case len(rest) == 0:
		c.pending = nil
	case c.pending != nil:
		n := copy(c.pending, rest)
		c.pending = c.pending[:n]
	default:
		size := len(rest)
		if c.state.Load() != stateHandshake {
			// Reserve the whole frame at once when its header is here.
			if h, hn, err := frame.ParseHeader(rest); err == nil && hn > 0 {
				if total := int64(hn) + h.Length; total > int64(size) && total <= int64(c.eng.cfg.MaxMessageSize)+frame.MaxHeaderLen {
					size = int(total)
				}
			}
		}
		c.pending = append(make([]byte, 0, size), rest...)
	}
}

// frames handles every whole frame in data and returns the bytes used.
func (c *Conn) frames(data []byte) int {
	used := 0
	for len(data) > 0 {
		f, n, err := c.dec.Next(data)
		if err != nil {
			c.protocolFailure(err)
			return used + len(data)
		}
		if n == 0 {
			// An incomplete frame: a text message that is already not UTF-8
			// fails now, not when the rest of the frame has come.
			if err := c.dec.Partial(data); err != nil {
				c.protocolFailure(err)
				return used + len(data)
			}
			return used
		}
		data = data[n:]
		used += n
		c.frame(f)
		if c.recvErr {
			return used + len(data)
		}
	}
	return used
}

func (c *Conn) protocolFailure(err error) {
	c.recvErr = true
	var pe *frame.ProtocolError
	reason := ""
	if errors.As(err, &pe) {
		reason = pe.Reason
	}
	c.fail(frame.CloseCodeOf(err), reason)
}

func (c *Conn) frame(f frame.Frame) {
	switch f.Op {
	case frame.OpPing:
		c.writeControl(frame.OpPong, f.Payload)
	case frame.OpPong:
		// lastRead is enough to show the peer is alive.
	case frame.OpClose:
		c.peerClose(f.Payload)
	default:
		c.data(f)
	}
}

// writeControl queues a control frame; control frames do not count against the
// send-queue bounds, and none goes out after our close frame.
func (c *Conn) writeControl(op frame.OpCode, payload []byte) {
	var b []byte
	switch {
	case !c.dec.Client && len(payload) == 0 && op == frame.OpPing:
		b = emptyPing // every idle connection gets one per PingInterval: no garbage
	case !c.dec.Client && len(payload) == 0 && op == frame.OpPong:
		b = emptyPong
	default:
		var mask *[4]byte
		if c.dec.Client {
			m := frame.NewMask()
			mask = &m
		}
		b = frame.AppendFrame(make([]byte, 0, frame.MaxHeaderLen+len(payload)), true, op, 0, payload, mask)
	}
	c.mu.Lock()
	if c.closeSent || c.state.Load() == stateClosed {
		c.mu.Unlock()
		return
	}
	if op == frame.OpPong && len(c.q) >= maxQueuedPongs && c.pongsQueuedLocked() >= maxQueuedPongs {
		// A peer that pings without reading would otherwise grow the queue
		// by a pong per ping (control frames are outside the send-queue
		// bounds). RFC 6455 5.5.3 allows answering only the most recent
		// ping: past maxQueuedPongs, the last pong still waiting takes the
		// new payload. (Below it every ping gets its own pong, as Autobahn
		// 2.10 checks.)
		for i := len(c.q) - 1; i >= 0; i-- {
			if c.q[i].pong {
				c.q[i].b = b
				c.mu.Unlock()
				return
			}
		}
	}
	c.pushLocked(outFrame{b: b, pong: op == frame.OpPong})
	c.kickLocked(false)
}

// maxQueuedPongs is how many pongs may wait in a connection's queue.
const maxQueuedPongs = 16

// pongsQueuedLocked counts the pongs waiting in the queue (only asked once
// the queue is long enough to hold maxQueuedPongs of them).
func (c *Conn) pongsQueuedLocked() int {
	n := 0
	for i := range c.q {
		if c.q[i].pong {
			n++
		}
	}
	return n
}

func (c *Conn) peerClose(payload []byte) {
	code, reason, _ := frame.ParseClose(payload) // the decoder checked it
	c.recvErr = true                             // nothing may follow a close frame
	c.mu.Lock()
	c.closeRecv = true
	if !c.closeSent {
		// The peer started the close: OnClose reports its code and reason.
		// Echo the code (RFC 6455 5.5.1), then close: a server closes the TCP
		// connection first.
		c.closeCode, c.closeWhy = code, reason
		c.queueCloseLocked(code, "", true) // 1005 goes out as an empty close
	}
	c.mu.Unlock()
}

func (c *Conn) data(f frame.Frame) {
	if c.state.Load() != stateOpen {
		return // we are closing: RFC 6455 lets us discard data
	}
	if f.Op != frame.OpContinuation {
		c.msgOp, c.msgZip = f.Op, f.Compressed
	}
	if f.Fin && c.msg == nil {
		c.deliver(c.msgOp, f.Payload, c.msgZip)
		return
	}
	c.msg = append(c.msg, f.Payload...)
	if f.Fin {
		msg := c.msg
		c.msg = nil
		c.deliver(c.msgOp, msg, c.msgZip)
	}
}

func (c *Conn) deliver(op frame.OpCode, payload []byte, compressed bool) {
	if compressed {
		out, err := frame.Decompress(nil, payload, c.eng.cfg.MaxMessageSize)
		if err != nil {
			c.protocolFailure(err)
			return
		}
		if op == frame.OpText && !utf8.Valid(out) {
			c.protocolFailure(frame.ErrInvalidPayload)
			return
		}
		payload = out
	}
	c.safeCall(func() { c.eng.handler.OnMessage(c, op, payload) })
}

// safeCall runs a user callback; a panic is logged and fails the connection
// with 1011 instead of taking the process down.
func (c *Conn) safeCall(f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.eng.cfg.Logger.Error("conn: handler panic", "remote", c.RemoteAddr(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c.recvErr = true
			c.fail(frame.CloseInternalError, "internal error")
		}
	}()
	f()
}

// Server control frames without payload, shared (never modified).
var (
	emptyPing = []byte{0x80 | byte(frame.OpPing), 0}
	emptyPong = []byte{0x80 | byte(frame.OpPong), 0}
)
