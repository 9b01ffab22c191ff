package conn

import "github.com/surge-ws/ws/frame"

// Handler receives a connection's events. For one connection the calls come in
// order, one at a time: OnOpen, then OnMessage for each message in the order
// received, then OnClose exactly once. A connection whose handshake fails
// gets none of them. Different connections' calls run concurrently.
//
// OnOpen and OnMessage run on the goroutine that netpoll lends a connection
// while it has input (with Config.NonBlocking, the poller goroutine itself);
// they must not block for long: while one runs, that connection reads
// nothing else (pings included) and frames written to it are sent when the
// call returns. Hand slow work to another goroutine.
//
// OnClose runs on a pooled goroutine of its own once the connection is
// closed (nothing more is read or written) and the last OnMessage has
// returned: never on the poller, the timing wheel,
// a flusher, or inside the Write or Close that ended the connection. It may
// block; that holds only its own goroutine.
type Handler interface {
	// OnOpen runs once the handshake is complete, before any message.
	OnOpen(c *Conn)
	// OnMessage gets one whole message (text or binary, reassembled and
	// decompressed). payload is valid only until OnMessage returns: copy
	// what you keep.
	OnMessage(c *Conn, op frame.OpCode, payload []byte)
	// OnClose runs once when the connection is gone. code and reason say why:
	// the close frame of whichever side closed first — the peer's (1005 if it
	// had no code) or ours (Close, a protocol failure, a full queue, a
	// timeout) — or 1006 when the TCP connection dropped without one.
	OnClose(c *Conn, code frame.CloseCode, reason string)
}

// HandlerFuncs adapts plain functions to Handler; nil fields do nothing.
type HandlerFuncs struct {
	Open    func(c *Conn)
	Message func(c *Conn, op frame.OpCode, payload []byte)
	Close   func(c *Conn, code frame.CloseCode, reason string)
}

func (h HandlerFuncs) OnOpen(c *Conn) {
	if h.Open != nil {
		h.Open(c)
	}
}

func (h HandlerFuncs) OnMessage(c *Conn, op frame.OpCode, payload []byte) {
	if h.Message != nil {
		h.Message(c, op, payload)
	}
}

func (h HandlerFuncs) OnClose(c *Conn, code frame.CloseCode, reason string) {
	if h.Close != nil {
		h.Close(c, code, reason)
	}
}
