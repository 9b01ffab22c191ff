package conn

import "errors"

// Errors a write can return; compare with errors.Is.
var (
	// ErrClosed: the connection is closing or closed; nothing more is sent.
	ErrClosed = errors.New("conn: connection closed")
	// ErrQueueFull: the send queue is at its bound (see Overflow).
	ErrQueueFull = errors.New("conn: send queue full")
	// ErrOpCode: Write takes text, binary, ping and pong frames only. A close
	// frame goes through Close (which marks the close as sent, so no data
	// follows it); continuation frames are the transport's business.
	ErrOpCode = errors.New("conn: write of a close or continuation frame (use Close)")
	// ErrControlTooLong: a ping or pong payload over 125 bytes (RFC 6455 5.5).
	ErrControlTooLong = errors.New("conn: control frame payload over 125 bytes")
	// ErrServerClosed is returned by Serve after Shutdown.
	ErrServerClosed = errors.New("conn: server closed")
)
