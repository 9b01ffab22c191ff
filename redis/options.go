package wsredis

import (
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options configure a Broker and a Presence. The zero value works: a client of its own on
// 127.0.0.1:6379, the Redis channel prefix "ws", the presence prefix "runa:ws:". These are the options
// of runa's ws/redis provider (Client, Addr, Password, DB, timeouts, pool size, Hubs, Channel,
// PresencePrefix), plus the tuning of the batching and the heartbeats.
type Options struct {
	// Client is the Redis client to use; the caller keeps it (Close leaves it open). Nil: a client is
	// made from Addr, Password, DB, the timeouts and PoolSize, and closed by Close.
	Client redis.UniversalClient

	Addr         string        // default 127.0.0.1:6379
	Password     string        // default none
	DB           int           // default 0
	DialTimeout  time.Duration // default go-redis's (5 s)
	ReadTimeout  time.Duration // default go-redis's (3 s)
	WriteTimeout time.Duration // default go-redis's (3 s); also bounds a Publish waiting for room in the queue
	PoolSize     int           // default go-redis's (10 per CPU)

	// Hubs names the hubs a provider serves through this Redis (runa's Hubs option). The Broker and
	// Presence do not read it: one Broker serves every hub that uses it, each on its own Redis channel.
	Hubs []string

	// Channel prefixes the Broker's Redis channels: hub h publishes on "<Channel>:<h>", and a node
	// receives its commands on "<Channel>:<h>:@<address>". Default "ws".
	Channel string
	// PresencePrefix prefixes every Presence key. One Presence serves one hub: give each hub its own
	// prefix (runa's provider appends the hub name). Default "runa:ws:".
	PresencePrefix string

	// Layout says which nodes receive a packet; see Layout. Default LayoutChannel.
	Layout Layout

	// MaxBatch bounds the PUBLISH commands of one pipeline. Default 4096.
	MaxBatch int
	// MaxPending bounds the bytes of envelopes waiting for the writer; a Publish that finds it full
	// waits up to WriteTimeout (or its context), then fails. Default 16 MiB.
	MaxPending int
	// ReconnectMin and ReconnectMax bound the wait between attempts to reach Redis again, doubling from
	// the first to the second. Defaults 20 ms and 500 ms.
	ReconnectMin, ReconnectMax time.Duration
	// PingInterval: a subscription that received nothing for this long pings Redis; two silent
	// intervals in a row drop the connection and make a new one. Default 5 s.
	PingInterval time.Duration

	// HeartbeatInterval is how often a Presence node renews its registration and looks for dead nodes
	// to reap. Default NodeTTL/5 (1 s with the default NodeTTL): a longer NodeTTL beats less often,
	// which is what a long one is for (at 52 nodes a beat and a reap a second each were 5% of a core).
	HeartbeatInterval time.Duration
	// NodeTTL: a node whose registration was not renewed for this long is dead; the others leave its
	// clients out at once and one of them deletes its keys. Default 5 s.
	NodeTTL time.Duration
	// FlushInterval is how long a Presence lets changes (connects, subscribes, disconnects)
	// accumulate after the first one before it writes them in one pipeline; it also writes when
	// FlushSize changes wait. A node without changes only beats (HeartbeatInterval). Default 100 ms.
	FlushInterval time.Duration
	// FlushSize: a Presence writes at once when this many clients changed. Default 1024.
	FlushSize int

	// Logger receives connection losses and failures. Default slog.Default().
	Logger *slog.Logger
}

// Layout is how a Broker lays a hub's packets out on Redis channels.
type Layout int

const (
	// LayoutChannel (the default) gives each channel of a hub a Redis channel,
	// "<Channel>:<hub>#<channel>", which a node subscribes to while it has local subscribers of the
	// channel (the hub tells it: hub.InterestBroker). A publish reaches the nodes that want it: one
	// delivery in Redis per interested node, nothing for the others. Broadcasts and commands use the
	// hub's channel, which every node holds.
	LayoutChannel Layout = iota
	// LayoutHub puts all of a hub's packets on the hub's channel, "<Channel>:<hub>": every node
	// receives every packet and drops those it has no subscriber for. No SUBSCRIBE traffic as
	// clients come and go; a Redis delivery and a decode per node for every publish.
	LayoutHub
)

// Defaults.
const (
	DefaultAddr              = "127.0.0.1:6379"
	DefaultChannel           = "ws"
	DefaultPresencePrefix    = "runa:ws:"
	DefaultMaxBatch          = 4096
	DefaultMaxPending        = 16 << 20
	DefaultReconnectMin      = 20 * time.Millisecond
	DefaultReconnectMax      = 500 * time.Millisecond
	DefaultPingInterval      = 5 * time.Second
	DefaultHeartbeatInterval = DefaultNodeTTL / 5
	DefaultNodeTTL           = 5 * time.Second
	DefaultFlushInterval     = 100 * time.Millisecond
	DefaultFlushSize         = 1024
	defaultWriteTimeout      = 3 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.Channel == "" {
		o.Channel = DefaultChannel
	}
	if o.PresencePrefix == "" {
		o.PresencePrefix = DefaultPresencePrefix
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.ReconnectMin <= 0 {
		o.ReconnectMin = DefaultReconnectMin
	}
	if o.ReconnectMax < o.ReconnectMin {
		o.ReconnectMax = max(DefaultReconnectMax, o.ReconnectMin)
	}
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.NodeTTL <= 0 {
		o.NodeTTL = DefaultNodeTTL
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = max(o.NodeTTL/5, time.Millisecond) // a tiny NodeTTL must not spin the loop
	}
	if o.NodeTTL < 2*o.HeartbeatInterval {
		o.NodeTTL = 2 * o.HeartbeatInterval
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.FlushSize <= 0 {
		o.FlushSize = DefaultFlushSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// client returns the client to use and whether it was made here (and must be closed here).
func (o Options) client() (redis.UniversalClient, bool) {
	if o.Client != nil {
		return o.Client, false
	}
	return redis.NewClient(&redis.Options{
		Addr:         o.Addr,
		Password:     o.Password,
		DB:           o.DB,
		DialTimeout:  o.DialTimeout,
		ReadTimeout:  o.ReadTimeout,
		WriteTimeout: o.WriteTimeout,
		PoolSize:     o.PoolSize,
	}), true
}

func (o Options) writeTimeout() time.Duration {
	if o.WriteTimeout > 0 {
		return o.WriteTimeout
	}
	return defaultWriteTimeout
}
