package conn

import (
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/surge-ws/ws/frame"
)

// Overflow says what happens to a connection whose send queue is full.
type Overflow uint8

const (
	// OverflowClose closes the connection with 1008 "send buffer full": the
	// client learns it fell behind and can reconnect and resynchronise, and the
	// server's memory stays bounded. Frames already queued are dropped; the one
	// being written is finished first so the close frame arrives intact.
	OverflowClose Overflow = iota
	// OverflowDrop discards the new frame and keeps the connection; the write
	// returns ErrQueueFull. For feeds where only the latest value matters.
	OverflowDrop
)

// Config holds the settings shared by every connection of a Server or Dialer.
// The zero value of each field means its documented default.
type Config struct {
	// MaxMessageSize bounds a whole message (all fragments, after
	// decompression). Larger messages close the connection with 1009.
	// Default 64 KiB; negative means no limit.
	MaxMessageSize int64
	// MaxHeaderBytes bounds the handshake's head (431 beyond). Default 8 KiB.
	MaxHeaderBytes int
	// HandshakeTimeout bounds the time from accept (or dial) to the end of the
	// handshake. Default 10s.
	HandshakeTimeout time.Duration
	// ReadTimeout closes a connection from which nothing at all (not even a
	// pong) has arrived for that long. Default 0: rely on ping/pong instead.
	ReadTimeout time.Duration
	// PingInterval is how long a connection may stay silent before we ping it.
	// Default 30s on servers, off on clients; negative disables pings. From 10s
	// up, pings are sent on a grid of whole seconds, a thirtieth of the
	// interval (1s for 30s, 10s for 5m: at most 3.4% later), so a process's
	// pings leave together. Each ping costs CPU: at a million connections
	// choose it from a budget (docs/operations.md).
	PingInterval time.Duration
	// PongTimeout is how long after a ping the peer has to send anything before
	// the connection is closed. Default 10s.
	PongTimeout time.Duration
	// WriteTimeout bounds a write that the kernel did not take at once (the
	// peer stopped reading): past it the connection is dropped. Default 5s.
	WriteTimeout time.Duration
	// CloseTimeout bounds the close handshake: how long we wait for the peer's
	// close frame after sending ours. Default 5s.
	CloseTimeout time.Duration
	// SendQueue bounds the data messages waiting to be written to one
	// connection. Default 256.
	SendQueue int
	// SendQueueBytes bounds the bytes of those messages. Default 4 MiB.
	SendQueueBytes int
	// Overflow is the policy when either bound is hit. Default OverflowClose.
	Overflow Overflow
	// Compression enables permessage-deflate (RFC 7692) without context
	// takeover when the peer offers it.
	Compression bool
	// Subprotocols lists the server's subprotocols in order of preference
	// (servers), or the ones to offer (clients).
	Subprotocols []string
	// NonBlocking promises that OnOpen and OnMessage never block (they hand
	// slow work to other goroutines, as the hub does): the input of an open
	// connection is then parsed and dispatched on netpoll's poller goroutine
	// itself, saving a goroutine hand-off per burst of input. A blocking
	// callback would stall every connection of that poller. The handshake
	// (and the Upgrade hook) always runs on a pooled goroutine.
	NonBlocking bool
	// Logger receives handler panics and unexpected I/O errors. Default slog.Default().
	Logger *slog.Logger
}

// Request is an upgrade request as the Upgrade hook sees it. It is valid only
// during the hook: copy what you keep.
type Request struct {
	*frame.Request
	RemoteAddr net.Addr
	LocalAddr  net.Addr
}

// RemoteIP is the peer's IP address (an IPv4 address unmapped from IPv6),
// as IPLimits counts it; the zero Addr when RemoteAddr is not an IP address.
// Read from the address itself: no text is made.
func (r *Request) RemoteIP() netip.Addr { return addrIP(r.RemoteAddr) }

// Reject is the HTTP response for a handshake the Upgrade hook turns down.
type Reject struct {
	Status int // default 403
	Header http.Header
	Body   string
}

const (
	defaultMaxMessage     = 64 << 10
	defaultMaxHeader      = 8 << 10
	defaultHandshake      = 10 * time.Second
	defaultPingInterval   = 30 * time.Second
	defaultPongTimeout    = 10 * time.Second
	defaultWriteTimeout   = 5 * time.Second
	defaultCloseTimeout   = 5 * time.Second
	defaultSendQueue      = 256
	defaultSendQueueBytes = 4 << 20
)

func (c Config) withDefaults(client bool) Config {
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = defaultMaxMessage
	} else if c.MaxMessageSize < 0 {
		c.MaxMessageSize = 0
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = defaultMaxHeader
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = defaultHandshake
	}
	if c.PingInterval == 0 && !client {
		c.PingInterval = defaultPingInterval
	} else if c.PingInterval < 0 {
		c.PingInterval = 0
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = defaultPongTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = defaultWriteTimeout
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = defaultCloseTimeout
	}
	if c.SendQueue <= 0 {
		c.SendQueue = defaultSendQueue
	}
	if c.SendQueueBytes <= 0 {
		c.SendQueueBytes = defaultSendQueueBytes
	}
	c.SendQueueBytes = min(c.SendQueueBytes, math.MaxInt32) // counted in an int32
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
