package hub

import (
	"cmp"
	"context"
	"slices"
	"sync"
)

// Presence stores who is connected where. The hub writes it on connect, on each change of a client's
// channels and on disconnect (never per message or pong), from the client's worker goroutine, so a
// slow Presence delays only that client's later messages. Methods are safe for concurrent use.
type Presence interface {
	// Set stores (replaces) the information of one client.
	Set(ctx context.Context, info ClientInfo) error
	// Remove forgets a client by connection id; removing an unknown id is not an error.
	Remove(ctx context.Context, clientID string) error
	// Clients lists the clients that pass every filter.
	Clients(ctx context.Context, filters ...Filter) ([]ClientInfo, error)
	// Channels lists the channels with at least one client and their client counts, sorted by name.
	Channels(ctx context.Context) ([]ChannelInfo, error)
	// Close releases the Presence's resources.
	Close(ctx context.Context) error
}

// ClusterPresence is a Presence that keeps each node's part apart. The hub answers Clients, Channels,
// Channel and ClusterStats with its own clients, exact and current, plus the other nodes' as the
// Presence has them; these methods give it the other nodes' part without reading its own, at a cost
// that grows with the answer (the clients listed, the channels counted, the nodes) rather than with
// everything the Presence stores. A node that stopped without removing its clients (killed, cut off)
// must drop out of the answers within a bound the implementation documents.
type ClusterPresence interface {
	Presence
	// Join announces node before it has clients; the hub calls it from Start. A node also joins with
	// its first Set.
	Join(ctx context.Context, node string) error
	// ClientsExcept lists the clients of every node but node that pass every filter.
	ClientsExcept(ctx context.Context, node string, filters ...Filter) ([]ClientInfo, error)
	// ChannelsExcept counts the clients per channel over every node but node, sorted by name.
	ChannelsExcept(ctx context.Context, node string) ([]ChannelInfo, error)
	// ChannelExcept counts the clients of one channel over every node but node.
	ChannelExcept(ctx context.Context, node, channel string) (int, error)
	// StatsExcept counts the nodes and clients other than node's.
	StatsExcept(ctx context.Context, node string) (PresenceStats, error)
}

// BufferedPresence is a Presence whose Set and Remove only record the change in memory and return:
// they never wait on the network, and a lock they take is held only for in-memory work. The hub
// calls them on the goroutine where the client changed (the connection's input goroutine for a
// connect or a subscribe, its close callback for a leave), often the event loop, instead of handing
// each write to the client's worker goroutine: at thousands of connects a second, or a node closing
// all its clients at once, those hand-offs and goroutines cost more than the writes. Buffered
// reports whether that holds (a wrapper may pass it on from what it wraps). Other Presences are
// written on the client's worker, in order with its handlers, each call bounded by WriteTimeout.
type BufferedPresence interface {
	Presence
	Buffered() bool
}

// PresenceStats counts the nodes a Presence knows and their clients.
type PresenceStats struct {
	Nodes   int `json:"nodes"`
	Clients int `json:"clients"`
}

// MemoryPresence is a Presence in this process's memory: share one between hubs of one process to see
// all of them. (A hub without a Presence uses a view of its own clients instead, which needs no writes.)
type MemoryPresence struct {
	mu      sync.RWMutex
	clients map[string]ClientInfo
	closed  bool
}

// NewMemoryPresence returns an empty MemoryPresence.
func NewMemoryPresence() *MemoryPresence {
	return &MemoryPresence{clients: make(map[string]ClientInfo)}
}

// Set stores info under info.ID. The Channels slice is copied and sorted.
func (p *MemoryPresence) Set(ctx context.Context, info ClientInfo) error {
	info.Channels = slices.Clone(info.Channels)
	slices.Sort(info.Channels)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrPresenceClosed
	}
	p.clients[info.ID] = info
	return nil
}

// Remove forgets clientID.
func (p *MemoryPresence) Remove(ctx context.Context, clientID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrPresenceClosed
	}
	delete(p.clients, clientID)
	return nil
}

// Clients lists the stored clients that pass every filter, sorted by connection time then id.
func (p *MemoryPresence) Clients(ctx context.Context, filters ...Filter) ([]ClientInfo, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return nil, ErrPresenceClosed
	}
	var out []ClientInfo
	for _, c := range p.clients {
		if matchAll(c, filters) {
			c.Channels = slices.Clone(c.Channels)
			out = append(out, c)
		}
	}
	sortClients(out)
	return out, nil
}

// Channels counts the stored clients per channel.
func (p *MemoryPresence) Channels(ctx context.Context) ([]ChannelInfo, error) {
	p.mu.RLock()
	counts := map[string]int{}
	closed := p.closed
	for _, c := range p.clients {
		for _, ch := range c.Channels {
			counts[ch]++
		}
	}
	p.mu.RUnlock()
	if closed {
		return nil, ErrPresenceClosed
	}
	out := make([]ChannelInfo, 0, len(counts))
	for name, n := range counts {
		out = append(out, ChannelInfo{Name: name, Clients: n})
	}
	slices.SortFunc(out, func(a, b ChannelInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// Close forgets everything; later calls return ErrPresenceClosed. Closing twice is not an error.
func (p *MemoryPresence) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.clients = map[string]ClientInfo{}
	p.mu.Unlock()
	return nil
}

// localPresence is the default Presence: a view of its hub's own clients. The hub never writes to it.
type localPresence struct{ h *Hub }

func (localPresence) Set(context.Context, ClientInfo) error { return nil }
func (localPresence) Remove(context.Context, string) error  { return nil }
func (localPresence) Close(context.Context) error           { return nil }

func (p localPresence) Clients(_ context.Context, filters ...Filter) ([]ClientInfo, error) {
	return p.h.localClients(filters), nil
}

func (p localPresence) Channels(context.Context) ([]ChannelInfo, error) {
	out := p.h.localChannels()
	slices.SortFunc(out, func(a, b ChannelInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// Join does nothing: a MemoryPresence knows nodes by their clients.
func (p *MemoryPresence) Join(context.Context, string) error { return nil }

// ClientsExcept is Clients without node's clients.
func (p *MemoryPresence) ClientsExcept(ctx context.Context, node string, filters ...Filter) ([]ClientInfo, error) {
	return p.Clients(ctx, append(slices.Clip(filters), func(c ClientInfo) bool { return c.Node != node })...)
}

// ChannelsExcept is Channels without node's clients.
func (p *MemoryPresence) ChannelsExcept(ctx context.Context, node string) ([]ChannelInfo, error) {
	list, err := p.ClientsExcept(ctx, node)
	if err != nil {
		return nil, err
	}
	return countChannels(list, nil), nil
}

// ChannelExcept counts channel's clients of nodes other than node.
func (p *MemoryPresence) ChannelExcept(ctx context.Context, node, channel string) (int, error) {
	list, err := p.ClientsExcept(ctx, node, ByChannel(channel))
	return len(list), err
}

// StatsExcept counts the nodes (that have clients) and clients other than node's.
func (p *MemoryPresence) StatsExcept(ctx context.Context, node string) (PresenceStats, error) {
	list, err := p.ClientsExcept(ctx, node)
	if err != nil {
		return PresenceStats{}, err
	}
	nodes := map[string]bool{}
	for _, c := range list {
		nodes[c.Node] = true
	}
	return PresenceStats{Nodes: len(nodes), Clients: len(list)}, nil
}

// countChannels adds the channels of list to counts (nil: a new map) and returns them sorted by name.
func countChannels(list []ClientInfo, counts map[string]int) []ChannelInfo {
	if counts == nil {
		counts = map[string]int{}
	}
	for _, c := range list {
		for _, ch := range c.Channels {
			counts[ch]++
		}
	}
	out := make([]ChannelInfo, 0, len(counts))
	for name, n := range counts {
		out = append(out, ChannelInfo{Name: name, Clients: n})
	}
	slices.SortFunc(out, func(a, b ChannelInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
