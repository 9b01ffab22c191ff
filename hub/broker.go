package hub

import (
	"context"
	"sync"
)

// Broker carries packets between the nodes of a cluster.
//
// Guarantees a Broker must document and the hub relies on: delivery is at most once and best effort
// (a packet published while a node is unreachable is lost to it, not queued); packets published by one
// goroutine of one node arrive at each other node in that order; a Broker may deliver a node's own
// packets back to it (the hub drops packets whose Origin is its Node). Methods are safe for concurrent
// use.
type Broker interface {
	// Publish sends p to the other nodes; channel is p's channel ("" broadcasts). It returns when the
	// packet is handed off (ctx bounds that), not when it is delivered.
	Publish(ctx context.Context, channel string, p Packet) error
	// Subscribe registers handler for packets published by other nodes, for node. It returns once the
	// subscription is in place; it lasts until ctx is done or the Broker is closed. handler must not
	// block for long: the hub's handler only queues frames.
	Subscribe(ctx context.Context, node string, handler func(Packet) error) error
	// Close ends every subscription and releases the Broker's resources.
	Close(ctx context.Context) error
}

// ClusterBroker is a Broker that knows hubs and nodes. A hub whose Broker implements it uses these
// methods instead of Publish and Subscribe, which gives it two things the runa-shaped Broker cannot:
//
//   - Hubs apart. One Broker may serve several hubs (one Redis connection pool for a whole
//     program); PublishHub reaches the nodes of one hub only, so hubs never see each other's traffic.
//   - Commands. Send, SendMany, Kick, KickMany and KickChannel reach clients held by other nodes: the
//     hub hands the Broker a Command for the node that holds a connection id (its Address, the
//     random prefix of the ids that node gives out) or for every node of the hub (a user id, a
//     channel), and the node that receives it acts on its own clients.
//
// Commands are delivered like packets: at most once, in order per publishing node.
type ClusterBroker interface {
	Broker
	// PublishHub is Publish to the nodes of hub only.
	PublishHub(ctx context.Context, hub, channel string, p Packet) error
	// SubscribeHub registers m: the packets other nodes publish to m.Hub go to m.Packet, and the
	// commands addressed to m.Address or to every node of m.Hub go to m.Command. It returns once the
	// subscription is in place; it lasts until ctx is done or the Broker is closed. The handlers must
	// not block for long (the hub's only queue frames and start closes).
	SubscribeHub(ctx context.Context, m Member) error
	// Command hands cmd to the node of hub whose Address is cmd.Target, or to every node of hub when
	// cmd.Target is "". Like Publish it returns once cmd is handed off.
	Command(ctx context.Context, hub string, cmd Command) error
}

// Member is one hub's node as a ClusterBroker sees it.
type Member struct {
	Hub  string // the hub's name: packets and commands of other hubs never reach it
	Node string // Config.Node
	// Address routes commands to this node: every connection id this node gives out starts with it.
	Address string
	Packet  func(Packet) error  // packets of other nodes of Hub
	Command func(Command) error // commands for Address or for every node of Hub
	// Channels lists the channels this node has local subscribers of, for an InterestBroker.
	Channels func() []string
}

// InterestBroker is a ClusterBroker that routes packets by channel: a node receives the packets of
// the channels it has local subscribers of (and every broadcast), so that a publish costs one
// delivery per interested node instead of one per node. A hub that started on one tells it, from
// then on, when its node gains the first local subscriber of a channel (on) and loses the last
// (off); Member.Channels gives the channels it had before. Interest must not block: the hub calls it
// while holding a lock of its channel index, in the order the changes happened. A packet published
// before the subscription is in place may miss the new subscriber, as a packet may be lost anyway.
type InterestBroker interface {
	ClusterBroker
	Interest(hub, node, channel string, on bool)
}

// CommandKind says what a Command does.
type CommandKind uint8

// The commands a hub sends to other nodes.
const (
	CommandSend        CommandKind = 1 // push Packet to the clients matching IDs
	CommandKick        CommandKind = 2 // close the clients matching IDs with CloseKicked and Reason
	CommandKickChannel CommandKind = 3 // close every subscriber of Channel with CloseKicked and Reason
)

// Command is an action on the clients of other nodes (cluster-wide Send, Kick, KickChannel). IDs match
// connection ids and user ids as Hub.Send does. Packet.Encoded carries the pushed packet's wire form
// (borrowed as in Packet). Origin is the sending node's Node: a node drops its own commands.
type Command struct {
	Kind    CommandKind
	Target  string // Member.Address of the node that should act; "" for every node of the hub
	IDs     []string
	Channel string
	Packet  Packet
	Reason  string
	Origin  string
}

// MemoryBroker is a Broker within one process: every hub subscribed to it receives the packets the others
// publish, synchronously, on the publisher's goroutine. It is the default (one private broker per hub,
// which delivers to nobody); share one between hubs to join them, in tests for instance. It is a
// ClusterBroker: hubs of different names sharing it see each other's packets only through the
// runa-shaped Publish and Subscribe, and commands reach the hubs of one name.
type MemoryBroker struct {
	mu     sync.RWMutex
	subs   []*memorySub
	closed bool
}

type memorySub struct {
	m   Member
	hub bool // subscribed with SubscribeHub (else: Subscribe, which sees every hub's packets)
}

// NewMemoryBroker returns an empty MemoryBroker.
func NewMemoryBroker() *MemoryBroker { return &MemoryBroker{} }

// Publish hands p to every subscriber of another node than p.Origin, in subscription order. Handler
// errors do not stop delivery to the others; the first is returned.
func (b *MemoryBroker) Publish(ctx context.Context, channel string, p Packet) error {
	return b.publish(nil, channel, p)
}

// PublishHub is Publish to the subscribers of hub (and to those of the runa-shaped Subscribe).
func (b *MemoryBroker) PublishHub(ctx context.Context, hub, channel string, p Packet) error {
	return b.publish(&hub, channel, p)
}

func (b *MemoryBroker) live() ([]*memorySub, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, ErrBrokerClosed
	}
	return b.subs, nil // replaced, never modified
}

func (b *MemoryBroker) publish(hub *string, channel string, p Packet) error {
	subs, err := b.live()
	if err != nil {
		return err
	}
	p.Channel = channel
	var first error
	for _, s := range subs {
		if s.m.Node == p.Origin || (hub != nil && s.hub && s.m.Hub != *hub) {
			continue
		}
		if err := s.m.Packet(p); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Command hands cmd to the SubscribeHub subscribers of hub with Address cmd.Target (all of them for
// ""), except cmd.Origin's.
func (b *MemoryBroker) Command(ctx context.Context, hub string, cmd Command) error {
	subs, err := b.live()
	if err != nil {
		return err
	}
	var first error
	for _, s := range subs {
		if !s.hub || s.m.Hub != hub || s.m.Node == cmd.Origin || s.m.Command == nil ||
			(cmd.Target != "" && s.m.Address != cmd.Target) {
			continue
		}
		if err := s.m.Command(cmd); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Subscribe registers handler until ctx is done or the broker is closed. It receives the packets of
// every hub.
func (b *MemoryBroker) Subscribe(ctx context.Context, node string, handler func(Packet) error) error {
	return b.subscribe(ctx, &memorySub{m: Member{Node: node, Packet: handler}})
}

// SubscribeHub registers m until ctx is done or the broker is closed.
func (b *MemoryBroker) SubscribeHub(ctx context.Context, m Member) error {
	return b.subscribe(ctx, &memorySub{m: m, hub: true})
}

func (b *MemoryBroker) subscribe(ctx context.Context, s *memorySub) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrBrokerClosed
	}
	b.subs = append(b.subs[:len(b.subs):len(b.subs)], s)
	b.mu.Unlock()
	context.AfterFunc(ctx, func() { b.unsubscribe(s) })
	return nil
}

func (b *MemoryBroker) unsubscribe(s *memorySub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, x := range b.subs {
		if x == s {
			n := make([]*memorySub, 0, len(b.subs)-1)
			b.subs = append(append(n, b.subs[:i]...), b.subs[i+1:]...)
			return
		}
	}
}

// Close ends every subscription; Publish and Subscribe then return ErrBrokerClosed. Closing twice is
// not an error.
func (b *MemoryBroker) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	b.subs = nil
	b.mu.Unlock()
	return nil
}
