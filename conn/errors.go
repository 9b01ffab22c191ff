package conn

import "errors"

// Errors a write can return; compare with errors.Is.
var (
	// ErrClosed: the connection is closing or closed; nothing more is sent.
	ErrClosed = errors.New("conn: connection closed")
	// ErrQueueFull: the send queue is at its bound (see Overflow).
	ErrQueueFull = errors.New("conn: send queue full")
	// ErrServerClosed is returned by Serve after Shutdown.
	ErrServerClosed = errors.New("conn: server closed")
)
