package hub

import (
	"net"

	"github.com/surge-ws/ws/frame"
)

// Peer is one transport connection as the hub sees it. The hub runs on package conn: its *conn.Conn
// satisfies Peer, and a publish hands every *conn.Conn subscriber to conn.EnqueueMany in one batch (one
// lock of the flusher queue per publish, not per subscriber). Other Peers — test doubles, a transport of
// your own — work too, written one WritePrepared at a time. All methods are safe for concurrent use and
// never block on the network.
//
// The hub calls WritePrepared and Write from any goroutine (publishers, handler workers, Broker callbacks) and
// holds no lock of its own while doing so, so an implementation may call back into the hub's
// transport entry points (closed in particular) from inside WritePrepared, Write or Close.
type Peer interface {
	// WritePrepared queues a shared, immutable frame. It returns an error if the connection is closed or its
	// send queue is full (the transport then closes it with 1008 "send buffer full" by itself).
	WritePrepared(p *frame.Prepared) error
	// Write queues one message for this connection alone (a reply); payload is copied, so the caller
	// may reuse it at once. Errors as WritePrepared.
	Write(op frame.OpCode, payload []byte) error
	// Close starts the close handshake with code and reason (the peer sees both); queued frames are flushed first.
	Close(code frame.CloseCode, reason string) error
	RemoteAddr() net.Addr
}
