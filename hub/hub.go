package hub

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/conn"
)

// Hub owns a set of connections: it decodes their messages and runs handlers, keeps the channel index,
// and publishes packets to local clients and, through the Broker, to other nodes.
//
// All methods are safe for concurrent use. On, Use, OnSubscribe and OnPublish may be called at any time
// (a message already being dispatched keeps the handlers it started with). Configure is meant for setup;
// see its doc for what it changes on a running hub.
type Hub struct {
	name string
	seed maphash.Seed

	cfgMu sync.Mutex // serializes Configure
	cfg   atomic.Pointer[settings]
	epoch time.Time // the hub's clock starts here (monotonic): see Client.touch

	routesMu sync.Mutex
	routes   atomic.Pointer[routes]

	shards [shardCount]shard
	all    slotSet // every open client, for Broadcast

	idPrefix string
	idSeq    atomic.Uint64

	state      atomic.Int32
	base       context.Context // parent of every client context; cancelled by Stop
	cancelBase context.CancelFunc
	live       tracker // open clients + running workers, for Stop

	ownPresence atomic.Bool // Presence is the default view of this node: nothing to write

	interest atomic.Pointer[InterestBroker] // set by Start when the Broker routes by channel

	workers workerPool // goroutines for client mailboxes

	epOnce sync.Once
	ep     atomic.Pointer[conn.Endpoint] // see Endpoint; set under cfgMu

	nClients  atomic.Int64
	nChannels atomic.Int64
	ctr       counters
}

// Status is a hub's lifecycle state.
type Status string

// Hub states. A new hub already serves connections; Start joins it to the Broker.
const (
	StatusNew      Status = "new"
	StatusRunning  Status = "running"
	StatusStopping Status = "stopping"
	StatusStopped  Status = "stopped"
)

const (
	stateNew int32 = iota
	stateRunning
	stateStopping
	stateStopped
)

const shardCount = 64

// shard holds a 64th of the connection, user and channel maps, chosen by hash of the key.
type shard struct {
	mu       sync.RWMutex
	conns    map[string]*Client   // by connection id
	users    map[string][]*Client // by Identity.ID; slices are replaced, never modified
	channels map[string]*channel
	_        [24]byte // to 64 bytes
}

type channel struct {
	name string
	subs slotSet
	dead bool // removed from its shard; guarded by subs.mu
}

// New creates a hub. An empty name is "default". Zero Config fields take their documented defaults.
func New(name string, cfg Config) *Hub {
	if name == "" {
		name = "default"
	}
	h := &Hub{name: name, seed: maphash.MakeSeed(), idPrefix: randomHex(idRandomBytes) + "-", epoch: time.Now()}
	h.base, h.cancelBase = context.WithCancel(context.Background())
	for i := range h.shards {
		s := &h.shards[i]
		s.conns = make(map[string]*Client)
		s.users = make(map[string][]*Client)
		s.channels = make(map[string]*channel)
	}
	if cfg.Node == "" {
		cfg.Node = defaultNode()
	}
	if cfg.Broker == nil {
		cfg.Broker = NewMemoryBroker()
	}
	if cfg.Presence == nil {
		cfg.Presence = localPresence{h}
		h.ownPresence.Store(true)
	}
	c := cfg.withDefaults()
	if c.Origin != nil {
		c.Origin = append([]string(nil), c.Origin...)
	}
	h.cfg.Store(newSettings(c))
	h.routes.Store(newRoutes())
	return h
}

// Name returns the hub's name.
func (h *Hub) Name() string { return h.name }

// Node returns this hub's node id (Config.Node after defaults).
func (h *Hub) Node() string { return h.config().Node }

// Config returns the configuration in force, defaults filled in.
func (h *Hub) Config() Config { return *h.config() }

func (h *Hub) config() *Config { return &h.cfg.Load().Config }

// settings is the configuration in force with what is derived from it once, not per message.
type settings struct {
	Config
	rate rateLimit
}

func newSettings(c Config) *settings {
	return &settings{Config: c, rate: newRateLimit(c.MessageRate, c.MessageBurst)}
}

func (h *Hub) logger() *slog.Logger { return h.config().Logger }

// Configure merges the non-zero fields of cfg into the hub's configuration (a config file over code,
// for example). Origin, Auth and ReceiveBuffer apply to connections made afterwards; the limits
// (MaxChannelsPerClient, MaxChannelLength, MessageRate, MessageBurst) to what every connection does
// next. The transport's
// settings (MaxMessageSize, timeouts, PingInterval, SendBuffer, Compression) are read once, when the hub
// is first served (Endpoint): configure them before serving. Broker, Presence and Node are fixed once
// the hub has started: after Start they are ignored (and logged).
func (h *Hub) Configure(cfg Config) {
	h.cfgMu.Lock()
	defer h.cfgMu.Unlock()
	if h.state.Load() != stateNew && (cfg.Broker != nil || cfg.Presence != nil || cfg.Node != "") {
		h.logger().Warn("ws: Broker, Presence and Node cannot change after Start; ignored", "hub", h.name)
		cfg.Broker, cfg.Presence, cfg.Node = nil, nil, ""
	}
	c := h.config().merge(cfg).withDefaults()
	if cfg.Presence != nil {
		h.ownPresence.Store(false)
	}
	h.cfg.Store(newSettings(c))
	if ep := h.ep.Load(); ep != nil {
		// The transport's limits reach the connections that open from now on.
		if err := ep.Reconfigure(h.connConfig()); err != nil {
			h.logger().Error("ws: transport settings", "hub", h.name, "err", err)
		}
	}
}

// Broker returns the Broker in use.
func (h *Hub) Broker() Broker { return h.config().Broker }

// Presence returns the Presence in use.
func (h *Hub) Presence() Presence { return h.config().Presence }

func (h *Hub) shardOf(key string) *shard {
	return &h.shards[maphash.String(h.seed, key)&(shardCount-1)]
}

// A connection id is the hub's address (idRandomBytes random bytes in hex, then '-') and a base-36
// counter. The address tells a ClusterBroker which node holds a connection (see Member.Address).
const (
	idRandomBytes = 8
	idPrefixLen   = 2*idRandomBytes + 1
)

func (h *Hub) newID() string {
	return h.idPrefix + strconv.FormatUint(h.idSeq.Add(1), 36)
}

// Start joins the hub to its Broker: packets other nodes publish reach local clients from now on. A hub
// serves connections before Start too (without cluster traffic). Start on a running hub does nothing;
// on a stopped hub it returns ErrHubStopped.
func (h *Hub) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.cfgMu.Lock()
	defer h.cfgMu.Unlock()
	switch h.state.Load() {
	case stateRunning:
		return nil
	case stateStopping, stateStopped:
		return ErrHubStopped
	}
	cfg := h.config()
	if cp, ok := cfg.Presence.(ClusterPresence); ok {
		if err := cp.Join(ctx, cfg.Node); err != nil {
			return fmt.Errorf("hub: presence join: %w", err)
		}
	}
	var err error
	if cb, ok := cfg.Broker.(ClusterBroker); ok {
		if ib, ok := cb.(InterestBroker); ok {
			h.interest.Store(&ib) // before the subscription: no channel made meanwhile goes unannounced
		}
		err = cb.SubscribeHub(h.base, Member{Hub: h.name, Node: cfg.Node, Address: h.idPrefix,
			Packet: h.fromBroker, Command: h.fromCommand, Channels: h.channelNames})
		if err != nil {
			h.interest.Store(nil)
		}
	} else {
		err = cfg.Broker.Subscribe(h.base, cfg.Node, h.fromBroker)
	}
	if err != nil {
		return fmt.Errorf("hub: broker subscribe: %w", err)
	}
	h.state.Store(stateRunning)
	return nil
}

// Address returns the prefix of every connection id this hub gives out, by which a ClusterBroker
// routes commands to it (Member.Address).
func (h *Hub) Address() string { return h.idPrefix }

// Stop refuses new connections (503), closes every client with 1001 "server shutdown" (each client's
// queued frames are flushed first), waits until they are gone and their handlers have returned, then
// closes the Broker and the Presence. If ctx ends first, Stop closes the Broker and Presence anyway and
// returns ctx's error. Stop on a stopped hub returns nil.
func (h *Hub) Stop(ctx context.Context) error {
	h.cfgMu.Lock()
	st := h.state.Load()
	if st == stateStopping || st == stateStopped {
		h.cfgMu.Unlock()
		return nil
	}
	h.state.Store(stateStopping)
	h.cfgMu.Unlock()

	h.all.each(func(c *Client) bool {
		c.closeWith(1001, string(ReasonShutdown))
		return true
	})
	var errs []error
	if err := h.live.wait(ctx); err != nil {
		errs = append(errs, err)
	}
	h.cancelBase()
	cfg := h.config()
	cctx := context.WithoutCancel(ctx)
	if err := cfg.Broker.Close(cctx); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.Presence.Close(cctx); err != nil {
		errs = append(errs, err)
	}
	h.state.Store(stateStopped)
	return errors.Join(errs...)
}

// Status returns the hub's lifecycle state.
func (h *Hub) Status() Status {
	switch h.state.Load() {
	case stateRunning:
		return StatusRunning
	case stateStopping:
		return StatusStopping
	case stateStopped:
		return StatusStopped
	}
	return StatusNew
}

// Checker is implemented by a Broker or Presence that can report its health (a Redis ping, say).
type Checker interface {
	Check(ctx context.Context) error
}

// Check reports whether the hub can serve: nil unless it is stopping or stopped, or its Broker or
// Presence implements Checker and fails.
func (h *Hub) Check(ctx context.Context) error {
	if s := h.state.Load(); s == stateStopping || s == stateStopped {
		return ErrHubStopped
	}
	cfg := h.config()
	var errs []error
	if c, ok := cfg.Broker.(Checker); ok {
		if err := c.Check(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if c, ok := cfg.Presence.(Checker); ok {
		if err := c.Check(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (h *Hub) stopping() bool { return h.state.Load() >= stateStopping }

// tracker counts open clients and running workers; wait returns when the count is zero.
type tracker struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n reaches 0 while someone waits
}

func (t *tracker) add(d int) {
	t.mu.Lock()
	t.n += d
	if t.n == 0 && t.zero != nil {
		close(t.zero)
		t.zero = nil
	}
	t.mu.Unlock()
}

func (t *tracker) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	if t.zero == nil {
		t.zero = make(chan struct{})
	}
	z := t.zero
	t.mu.Unlock()
	select {
	case <-z:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
