package hub

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// Publish publishes {"channel","event","data"} to the subscribers of channel on every node; channel ""
// broadcasts to every client. See PublishContext.
func (h *Hub) Publish(channel, event string, data any) error {
	return h.PublishContext(context.Background(), channel, event, data)
}

// PublishContext runs the OnPublish hooks, encodes the packet once into a frame that every local
// subscriber is handed as the same bytes, then passes the packet to the Broker for the other nodes
// (ctx bounds that call). A subscriber whose send queue is full is closed by the transport with 1008
// "send buffer full"; it does not fail the publish, which still reaches everyone else. The error is
// a hook's, an encoding error, the Broker's, or ErrHubStopped.
func (h *Hub) PublishContext(ctx context.Context, channel, event string, data any) error {
	if h.stopping() {
		return ErrHubStopped
	}
	for _, hook := range h.routes.Load().pubHooks {
		if err := hook(ctx, channel, event, data); err != nil {
			return err
		}
	}
	raw, err := marshalData(data)
	if err != nil {
		return err
	}
	cfg := h.config()
	p := Packet{Channel: channel, Event: event, Data: raw, Origin: cfg.Node}
	if err := h.deliver(&p); err != nil {
		return err
	}
	if err := cfg.Broker.Publish(ctx, channel, p); err != nil {
		return errors.Join(errors.New("hub: broker publish"), err)
	}
	return nil
}

// Broadcast publishes {"event","data"} to every client on every node.
func (h *Hub) Broadcast(event string, data any) error {
	return h.PublishContext(context.Background(), "", event, data)
}

// BroadcastContext is Broadcast with a context for the hooks and the Broker.
func (h *Hub) BroadcastContext(ctx context.Context, event string, data any) error {
	return h.PublishContext(ctx, "", event, data)
}

// fromBroker delivers a packet from another node to local clients. Packets this node published are
// dropped (a Broker may echo them back).
func (h *Hub) fromBroker(p Packet) error {
	if p.Origin == h.config().Node {
		return nil
	}
	return h.deliver(&p)
}

// deliver encodes p once and hands the frame to every local subscriber of p.Channel (every client for
// ""). It holds no lock while writing and allocates nothing per subscriber.
func (h *Hub) deliver(p *Packet) error {
	var set *slotSet
	if p.Channel == "" {
		set = &h.all
	} else if ch := h.channel(p.Channel); ch != nil {
		set = &ch.subs
	} else {
		return nil
	}
	if set.len() == 0 {
		return nil
	}
	f, err := preparePacket(p)
	if err != nil {
		return err
	}
	h.fanout(set, f)
	return nil
}

// fanout writes f to every member of set and counts once at the end. The
// transport's connections are queued in one batch (conn.EnqueueMany): the
// publisher makes no system call, and the flushers get the whole set at once.
func (h *Hub) fanout(set *slotSet, f *frame.Prepared) {
	var sent, dropped uint64
	bp := connsPool.Get().(*[]*conn.Conn)
	conns := (*bp)[:0]
	set.each(func(c *Client) bool {
		if tc, ok := c.peer.(*conn.Conn); ok {
			conns = append(conns, tc)
		} else if c.peer.WritePrepared(f) == nil {
			sent++
		} else {
			dropped++
		}
		return true
	})
	if len(conns) > 0 {
		n := conn.EnqueueMany(conns, f, nil)
		sent += uint64(n)
		dropped += uint64(len(conns) - n)
	}
	clear(conns)
	*bp = conns[:0]
	connsPool.Put(bp)
	h.count(sent, dropped, f)
}

var connsPool = sync.Pool{New: func() any { s := make([]*conn.Conn, 0, 256); return &s }}

func (h *Hub) count(sent, dropped uint64, f *frame.Prepared) {
	if sent > 0 {
		h.ctr.messagesOut.Add(sent)
		h.ctr.bytesOut.Add(sent * uint64(f.Len()))
	}
	if dropped > 0 {
		h.ctr.dropped.Add(dropped)
	}
}

// Send pushes {"event","data"} to the local connections matching clientID: the connection with that
// connection id, and every connection whose Identity.ID is clientID (all tabs of a user). It returns
// ErrClientNotFound if there is none. Send reaches this node's clients only.
func (h *Hub) Send(clientID, event string, data any) error {
	return h.SendContext(context.Background(), clientID, event, data)
}

// SendContext is Send with a context (reserved for cluster-wide delivery; unused locally).
func (h *Hub) SendContext(ctx context.Context, clientID, event string, data any) error {
	return h.SendMany([]string{clientID}, event, data)
}

// SendMany pushes {"event","data"} to the local connections matching any of ids (as Send), encoding
// once; a connection matched twice gets it once. It returns ErrClientNotFound if none matched.
func (h *Hub) SendMany(ids []string, event string, data any) error {
	targets := h.resolve(ids)
	if len(targets) == 0 {
		return ErrClientNotFound
	}
	raw, err := marshalData(data)
	if err != nil {
		return err
	}
	f, err := preparePacket(&Packet{Event: event, Data: raw})
	if err != nil {
		return err
	}
	var sent, dropped uint64
	for _, c := range targets {
		if c.peer.WritePrepared(f) == nil {
			sent++
		} else {
			dropped++
		}
	}
	h.count(sent, dropped, f)
	return nil
}

// resolve returns the distinct local clients matching ids.
func (h *Hub) resolve(ids []string) []*Client {
	var out []*Client
	for _, id := range ids {
		for _, c := range h.lookup(id) {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// Kick closes the local connections matching id (connection id or Identity.ID, as Send) with close code
// CloseKicked (4000) and reason, which the client sees. It returns ErrClientNotFound if none matched.
func (h *Hub) Kick(id string, reason CloseReason) error {
	return h.KickMany([]string{id}, reason)
}

// KickMany kicks the local connections matching any of ids; ErrClientNotFound if none matched.
func (h *Hub) KickMany(ids []string, reason CloseReason) error {
	targets := h.resolve(ids)
	if len(targets) == 0 {
		return ErrClientNotFound
	}
	for _, c := range targets {
		_ = c.closeWith(CloseKicked, string(reason))
	}
	return nil
}

// KickChannel kicks every local subscriber of channel.
func (h *Hub) KickChannel(channel string, reason CloseReason) error {
	if channel == "" {
		return ErrChannelRequired
	}
	if ch := h.channel(channel); ch != nil {
		for _, c := range ch.subs.snapshot() {
			_ = c.closeWith(CloseKicked, string(reason))
		}
	}
	return nil
}

// Client describes the connection with connection id id (or, failing that, the first of the user
// Identity.ID id): this node's first, else the Presence's.
func (h *Hub) Client(id string) (*ClientInfo, bool) {
	if cs := h.lookup(id); len(cs) > 0 {
		info := cs[0].Info()
		return &info, true
	}
	list := h.Clients(ByID(id))
	for i := range list {
		if list[i].ID == id {
			return &list[i], true
		}
	}
	if len(list) > 0 {
		return &list[0], true
	}
	return nil, false
}

// Clients lists the connections that pass every filter, sorted by connection time then id: this
// node's (current to the message) and, when the Presence is shared, the other nodes' as the Presence
// has them. If the Presence fails, the failure is logged and this node's are returned.
func (h *Hub) Clients(filters ...Filter) []ClientInfo {
	out := h.localClients(filters)
	node := h.config().Node
	for _, info := range h.remoteClients() {
		if info.Node != node && matchAll(info, filters) {
			out = append(out, info)
		}
	}
	sortClients(out)
	return out
}

// remoteClients asks the Presence for every client; only its entries of other nodes are used.
func (h *Hub) remoteClients() []ClientInfo {
	if h.ownPresence.Load() {
		return nil // the default presence is this node's own state
	}
	cfg := h.config()
	ctx, cancel := h.presenceCtx()
	defer cancel()
	list, err := cfg.Presence.Clients(ctx)
	if err != nil {
		h.logger().Warn("ws: presence clients failed", "hub", h.name, "err", err)
		return nil
	}
	return list
}

// Channels lists the channels with at least one subscriber, sorted by name, with their subscriber
// counts: this node's and, when the Presence is shared, the other nodes'.
func (h *Hub) Channels() []ChannelInfo {
	counts := map[string]int{}
	for _, ci := range h.localChannels() {
		counts[ci.Name] += ci.Clients
	}
	node := h.config().Node
	for _, info := range h.remoteClients() {
		if info.Node != node {
			for _, ch := range info.Channels {
				counts[ch]++
			}
		}
	}
	out := make([]ChannelInfo, 0, len(counts))
	for name, n := range counts {
		out = append(out, ChannelInfo{Name: name, Clients: n})
	}
	slices.SortFunc(out, func(a, b ChannelInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func (h *Hub) localClients(filters []Filter) []ClientInfo {
	var out []ClientInfo
	h.all.each(func(c *Client) bool {
		if info := c.Info(); matchAll(info, filters) {
			out = append(out, info)
		}
		return true
	})
	sortClients(out)
	return out
}

func sortClients(list []ClientInfo) {
	slices.SortFunc(list, func(a, b ClientInfo) int {
		return cmp.Or(a.Connected.Compare(b.Connected), cmp.Compare(a.ID, b.ID))
	})
}

// Channel describes one channel as Channels does; false if it has no subscriber.
func (h *Hub) Channel(name string) (ChannelInfo, bool) {
	for _, ci := range h.Channels() {
		if ci.Name == name {
			return ci, true
		}
	}
	return ChannelInfo{Name: name}, false
}

// Stats returns this node's counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Clients:     int(h.nClients.Load()),
		Channels:    int(h.nChannels.Load()),
		MessagesIn:  h.ctr.messagesIn.Load(),
		MessagesOut: h.ctr.messagesOut.Load(),
		BytesIn:     h.ctr.bytesIn.Load(),
		BytesOut:    h.ctr.bytesOut.Load(),
		SlowClients: h.ctr.slow.Load(),
		Dropped:     h.ctr.dropped.Load(),
	}
}
