package hub

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config configures a Hub. Its zero value works: every zero field takes the default documented on it.
// The TOML keys (for the provider's config/ws.toml) are the snake_case names in the toml tags.
type Config struct {
	// Origin lists the origins a browser may connect from. Empty (the default) allows only the
	// request's own host. A pattern without "://" is matched against the origin's host (with port, if any);
	// a pattern with "://" against scheme://host. Matching is case-insensitive and patterns may use
	// path.Match wildcards ("*.example.com", "https://*"); "*" allows every origin. A request without an
	// Origin header (not a browser) always passes. A rejected origin answers 403.
	Origin []string `toml:"origin"`

	// MaxMessageSize is the largest message a client may send, in bytes; a larger one closes the
	// connection with 1009. Default 64 KiB.
	MaxMessageSize int64 `toml:"max_message_size"`

	// ReadTimeout closes a connection that has sent nothing (no message, no pong) for that long.
	// Default 0: no idle limit beyond the ping/pong check (PingInterval + PongTimeout).
	ReadTimeout time.Duration `toml:"read_timeout"`

	// WriteTimeout closes a connection whose queued frames have not left for that long. Default 5s.
	WriteTimeout time.Duration `toml:"write_timeout"`

	// PingInterval is how often the server pings a connection. Default 30s.
	PingInterval time.Duration `toml:"ping_interval"`

	// PongTimeout is how long a ping may stay unanswered before the connection is closed. Default 10s.
	PongTimeout time.Duration `toml:"pong_timeout"`

	// SendBuffer bounds each client's send queue, in messages. A client whose queue is full when a
	// message is written to it is closed with 1008 "send buffer full" (a slow consumer); the message
	// still reaches everyone else and Publish does not fail. Default 32.
	SendBuffer int `toml:"send_buffer"`

	// ReceiveBuffer bounds the messages of one client that wait for their handler (handlers run one at
	// a time per client, in order). A client that gets further ahead is closed with 1008
	// "receive buffer full". Default 256.
	ReceiveBuffer int `toml:"receive_buffer"`

	// MaxChannelsPerClient bounds the channels one connection may be subscribed to at once. A client's
	// subscribe beyond it is refused with 403 "too many channels (limit N)" and changes nothing;
	// Client.Subscribe and Context.Subscribe (trusted, but often on a client's behalf) return
	// ErrTooManyChannels. Subscribing again to a channel the client is in is not refused. Default 128;
	// negative: no limit.
	MaxChannelsPerClient int `toml:"max_channels_per_client"`

	// MaxChannelLength bounds the length of a channel name, in bytes. A client message whose "channel"
	// is longer is refused with 400 "channel too long (limit N bytes)" before any middleware or handler
	// runs, whatever its event (subscribe, unsubscribe or an application event that reads the channel);
	// Client.Subscribe and Context.Subscribe return ErrChannelTooLong. Default 255; negative: no limit
	// (MaxMessageSize still bounds it).
	MaxChannelLength int `toml:"max_channel_length"`

	// MessageRate limits the data messages of one connection, in messages per second, with
	// MessageBurst messages allowed at once above it: a token bucket of MessageBurst tokens, refilled
	// at MessageRate a second, of which every message takes one before it is decoded. A message that
	// finds no token is not handled: it is answered 429 "rate limit exceeded" (a response if it has an
	// id, else an "error" push) and takes a token all the same, so the bucket goes into debt and a
	// client that ignores the 429s gets nothing through until it slows down. A connection whose debt
	// reaches MessageBurst (another burst's worth sent while refused) is closed with 1008
	// "rate limit exceeded". The bucket is computed when a message arrives: no timer, no goroutine.
	// Default 100 a second; negative (or +Inf): no limit. Control frames (pings, pongs) do not count.
	MessageRate float64 `toml:"message_rate"`

	// MessageBurst is the size of the MessageRate bucket: how many messages a connection may send at
	// once (a page subscribing to its channels when it loads, say). Default 200. Negative counts as zero.
	MessageBurst int `toml:"message_burst"`

	// Compression negotiates permessage-deflate (RFC 7692, no context
	// takeover) with clients that offer it. A publish is compressed once,
	// whatever the number of subscribers; messages under 64 bytes are sent
	// plain. Default off: on loopback and LANs it costs CPU for nothing.
	Compression bool `toml:"compression"`

	// InlineHandlers runs a client's handlers on the transport's input
	// goroutine for that connection when no earlier message of the client is
	// still waiting, instead of handing each message to a worker goroutine.
	// It saves a goroutine hand-off per message (docs/benchmarks.md has the
	// figures) and is for handlers that never block: while an inline handler
	// runs, its connection reads nothing — not even control frames — and the
	// transport buffers what arrives, and a disconnect cancels Context() only
	// once the handler has returned. Order per client is kept either way.
	// Default off.
	InlineHandlers bool `toml:"inline_handlers"`

	// Auth authenticates the upgrade request before the upgrade; an error answers 401 (or the code of
	// an *Error in 400-599) and no connection is made. Nil: every request is accepted with an empty
	// Identity.
	Auth Authenticator `toml:"-"`

	// Broker carries packets between the nodes of a cluster. Default: a private memory broker (this
	// node only).
	Broker Broker `toml:"-"`

	// Presence stores who is connected where, for cluster-wide Clients and Channels. Default: an
	// in-memory view of this node's own clients, which costs no write at all (give a shared Presence,
	// such as one MemoryPresence for several hubs or the Redis one, to see other nodes).
	Presence Presence `toml:"-"`

	// Node names this hub instance in the cluster; packets a Broker brings back with this origin are
	// dropped. Default: "<hostname>-<pid>-<random hex>", unique per process and hub. Two hubs in a
	// cluster must never share a Node.
	Node string `toml:"node"`

	// Logger receives handler panics, broker and presence failures. Default slog.Default().
	Logger *slog.Logger `toml:"-"`
}

// Defaults of the Config fields.
const (
	DefaultMaxMessageSize = 64 << 10
	DefaultWriteTimeout   = 5 * time.Second
	DefaultPingInterval   = 30 * time.Second
	DefaultPongTimeout    = 10 * time.Second
	DefaultSendBuffer     = 32
	DefaultReceiveBuffer  = 256

	DefaultMaxChannelsPerClient = 128
	DefaultMaxChannelLength     = 255
	DefaultMessageRate          = 100 // messages per second
	DefaultMessageBurst         = 200
)

// merge returns c with every non-zero field of o copied over it (Configure's rule).
func (c Config) merge(o Config) Config {
	if o.Origin != nil {
		c.Origin = append([]string(nil), o.Origin...)
	}
	if o.MaxMessageSize != 0 {
		c.MaxMessageSize = o.MaxMessageSize
	}
	if o.ReadTimeout != 0 {
		c.ReadTimeout = o.ReadTimeout
	}
	if o.WriteTimeout != 0 {
		c.WriteTimeout = o.WriteTimeout
	}
	if o.PingInterval != 0 {
		c.PingInterval = o.PingInterval
	}
	if o.PongTimeout != 0 {
		c.PongTimeout = o.PongTimeout
	}
	if o.SendBuffer != 0 {
		c.SendBuffer = o.SendBuffer
	}
	if o.ReceiveBuffer != 0 {
		c.ReceiveBuffer = o.ReceiveBuffer
	}
	if o.MaxChannelsPerClient != 0 {
		c.MaxChannelsPerClient = o.MaxChannelsPerClient
	}
	if o.MaxChannelLength != 0 {
		c.MaxChannelLength = o.MaxChannelLength
	}
	if o.MessageRate != 0 {
		c.MessageRate = o.MessageRate
	}
	if o.MessageBurst != 0 {
		c.MessageBurst = o.MessageBurst
	}
	if o.Compression {
		c.Compression = true
	}
	if o.InlineHandlers {
		c.InlineHandlers = true
	}
	if o.Auth != nil {
		c.Auth = o.Auth
	}
	if o.Broker != nil {
		c.Broker = o.Broker
	}
	if o.Presence != nil {
		c.Presence = o.Presence
	}
	if o.Node != "" {
		c.Node = o.Node
	}
	if o.Logger != nil {
		c.Logger = o.Logger
	}
	return c
}

// withDefaults fills the zero fields that have a default. Broker and Presence are the hub's. A negative
// limit (MaxChannelsPerClient, MaxChannelLength, MessageRate) stays negative: it means no limit.
func (c Config) withDefaults() Config {
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.ReadTimeout < 0 {
		c.ReadTimeout = 0
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = DefaultPongTimeout
	}
	if c.SendBuffer <= 0 {
		c.SendBuffer = DefaultSendBuffer
	}
	if c.ReceiveBuffer <= 0 {
		c.ReceiveBuffer = DefaultReceiveBuffer
	}
	if c.MaxChannelsPerClient == 0 {
		c.MaxChannelsPerClient = DefaultMaxChannelsPerClient
	}
	if c.MaxChannelLength == 0 {
		c.MaxChannelLength = DefaultMaxChannelLength
	}
	if c.MessageRate == 0 || math.IsNaN(c.MessageRate) {
		c.MessageRate = DefaultMessageRate
	}
	if c.MessageBurst <= 0 {
		c.MessageBurst = DefaultMessageBurst
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// defaultNode is "<hostname>-<pid>-<8 random hex digits>".
func defaultNode() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	if i := strings.IndexByte(host, '.'); i > 0 {
		host = host[:i]
	}
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + randomHex(4)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on the platforms where it could)
	return hex.EncodeToString(b)
}
