package hub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// Publish publishes {"channel","event","data"} to the subscribers of channel on every node; channel ""
// broadcasts to every client. See PublishContext.
func (h *Hub) Publish(channel, event string, data any) error {
	return h.PublishContext(context.Background(), channel, event, data)
}

// PublishContext runs the OnPublish hooks, encodes the packet once, hands the frame to every local
// subscriber as the same bytes, then passes the packet (with those bytes, Packet.Encoded) to the Broker
// for the other nodes (ctx bounds that call). A subscriber whose send queue is full is closed by the
// transport with 1008 "send buffer full"; it does not fail the publish, which still reaches everyone
// else. Local delivery never waits for the Broker. The error is a hook's, an encoding error, the
// Broker's, or ErrHubStopped.
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
	bp := getBuf()
	defer putBuf(bp)
	b, err := appendPacket((*bp)[:0], &p)
	*bp = b
	if err != nil {
		return err
	}
	p.Encoded = b
	h.deliver(&p)
	if cb, ok := cfg.Broker.(ClusterBroker); ok {
		err = cb.PublishHub(ctx, h.name, channel, p)
	} else {
		err = cfg.Broker.Publish(ctx, channel, p)
	}
	if err != nil {
		h.ctr.pubErrors.Add(1)
		return fmt.Errorf("hub: broker publish: %w", err)
	}
	h.ctr.published.Add(1)
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
	h.ctr.received.Add(1)
	return h.deliver(&p)
}

// deliver hands p to every local subscriber of p.Channel (every client for "") as one frame: made
// from p.Encoded when the packet carries it (one copy, no encoding), else encoded once. It holds no
// lock while writing and allocates nothing per subscriber.
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
	f, err := packetFrame(p)
	if err != nil {
		return err
	}
	h.fanout(set, f)
	return nil
}

// packetFrame is p's frame: from p.Encoded if set, else encoded.
func packetFrame(p *Packet) (*frame.Prepared, error) {
	if len(p.Encoded) > 0 {
		return frame.NewPrepared(frame.OpText, p.Encoded), nil
	}
	return preparePacket(p)
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

// count counts one publish's deliveries (once per publish, not per subscriber).
func (h *Hub) count(sent, dropped uint64, f *frame.Prepared) {
	hint := uintptr(unsafe.Pointer(f))
	if sent > 0 {
		h.ctr.messagesOut.Add(hint, sent)
		h.ctr.bytesOut.Add(hint, sent*uint64(f.Len()))
	}
	if dropped > 0 {
		h.ctr.dropped.Add(hint, dropped)
	}
}

// Send pushes {"event","data"} to the connections matching clientID: the connection with that
// connection id, and every connection whose Identity.ID is clientID (all tabs of a user), on every
// node. See SendMany.
func (h *Hub) Send(clientID, event string, data any) error {
	return h.SendContext(context.Background(), clientID, event, data)
}

// SendContext is Send with a context bounding the hand-off to the Broker.
func (h *Hub) SendContext(ctx context.Context, clientID, event string, data any) error {
	return h.sendMany(ctx, []string{clientID}, event, data)
}

// SendMany pushes {"event","data"} to the connections matching any of ids (as Send), encoding once; a
// connection matched twice gets it once.
//
// This node's connections get it at once. When the hub has started on a ClusterBroker, the other
// nodes' get it through the Broker (at most once, like a publish): a connection id of another node
// goes to that node alone, a user id to every node. ErrClientNotFound means nothing matched here and
// nothing was handed to the Broker (a connection id of this node that is gone, or no cluster);
// whether a user id matched on another node is not known to the caller.
func (h *Hub) SendMany(ids []string, event string, data any) error {
	return h.sendMany(context.Background(), ids, event, data)
}

func (h *Hub) sendMany(ctx context.Context, ids []string, event string, data any) error {
	targets := h.resolve(ids)
	cb, remote := h.remote(ids)
	if len(targets) == 0 && len(remote) == 0 {
		return ErrClientNotFound
	}
	raw, err := marshalData(data)
	if err != nil {
		return err
	}
	p := Packet{Event: event, Data: raw}
	bp := getBuf()
	defer putBuf(bp)
	b, err := appendPacket((*bp)[:0], &p)
	*bp = b
	if err != nil {
		return err
	}
	p.Encoded = b
	if len(targets) > 0 {
		h.sendLocal(targets, frame.NewPrepared(frame.OpText, b))
	}
	return h.command(ctx, cb, remote, Command{Kind: CommandSend, Packet: p})
}

func (h *Hub) sendLocal(targets []*Client, f *frame.Prepared) {
	var sent, dropped uint64
	for _, c := range targets {
		if c.peer.WritePrepared(f) == nil {
			sent++
		} else {
			dropped++
		}
	}
	h.count(sent, dropped, f)
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

// remote sorts ids into the commands other nodes must get, by target address: nothing unless the hub
// runs on a ClusterBroker. A connection id of this node is this node's business only; a connection
// id of another node (the shape newID gives them) goes to that node's address; anything else is a user
// id, which any node may hold, and sends every id to every node ("").
func (h *Hub) remote(ids []string) (ClusterBroker, map[string][]string) {
	cb, ok := h.config().Broker.(ClusterBroker)
	if !ok || h.state.Load() != stateRunning {
		return nil, nil
	}
	var out map[string][]string
	all := false
	for _, id := range ids {
		if id == "" || strings.HasPrefix(id, h.idPrefix) {
			continue
		}
		target := ""
		if a, ok := idAddress(id); ok {
			target = a
		} else {
			all = true
		}
		if out == nil {
			out = map[string][]string{}
		}
		if !slices.Contains(out[target], id) {
			out[target] = append(out[target], id)
		}
	}
	if all && len(out) > 1 { // every node gets the "" command: one command carries every id
		var every []string
		for _, list := range out {
			every = append(every, list...)
		}
		out = map[string][]string{"": every}
	}
	return cb, out
}

// idAddress returns the address part of a connection id as newID makes them (8 hex digits and '-',
// then a base-36 counter), and whether id has that shape.
func idAddress(id string) (string, bool) {
	const n = idPrefixLen
	if len(id) <= n || id[n-1] != '-' {
		return "", false
	}
	for i := 0; i < n-1; i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	for i := n; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return "", false
		}
	}
	return id[:n], true
}

// command sends cmd, once per target of remote, with this node as origin.
func (h *Hub) command(ctx context.Context, cb ClusterBroker, remote map[string][]string, cmd Command) error {
	cmd.Origin = h.config().Node
	var errs []error
	for target, ids := range remote {
		cmd.Target, cmd.IDs = target, ids
		if err := cb.Command(ctx, h.name, cmd); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("hub: broker command: %w", err)
	}
	return nil
}

// fromCommand runs a command of another node on this node's clients.
func (h *Hub) fromCommand(cmd Command) error {
	if cmd.Origin == h.config().Node {
		return nil
	}
	switch cmd.Kind {
	case CommandSend:
		targets := h.resolve(cmd.IDs)
		if len(targets) == 0 {
			return nil
		}
		f, err := packetFrame(&cmd.Packet)
		if err != nil {
			return err
		}
		h.sendLocal(targets, f)
	case CommandKick:
		for _, c := range h.resolve(cmd.IDs) {
			_ = c.closeWith(CloseKicked, cmd.Reason)
		}
	case CommandKickChannel:
		h.kickLocal(cmd.Channel, cmd.Reason)
	}
	return nil
}

// Kick closes the connections matching id (connection id or Identity.ID, as Send), on every node, with
// close code CloseKicked (4000) and reason, which the client sees. See KickMany.
func (h *Hub) Kick(id string, reason CloseReason) error {
	return h.KickMany([]string{id}, reason)
}

// KickMany kicks the connections matching any of ids: this node's at once, the other nodes' through the
// Broker as SendMany sends. ErrClientNotFound as in SendMany.
func (h *Hub) KickMany(ids []string, reason CloseReason) error {
	targets := h.resolve(ids)
	cb, remote := h.remote(ids)
	if len(targets) == 0 && len(remote) == 0 {
		return ErrClientNotFound
	}
	for _, c := range targets {
		_ = c.closeWith(CloseKicked, string(reason))
	}
	return h.command(context.Background(), cb, remote, Command{Kind: CommandKick, Reason: string(reason)})
}

// KickChannel kicks every subscriber of channel: this node's at once, and, when the hub has started on
// a ClusterBroker, every other node's through it.
func (h *Hub) KickChannel(channel string, reason CloseReason) error {
	if channel == "" {
		return ErrChannelRequired
	}
	h.kickLocal(channel, string(reason))
	if cb, ok := h.config().Broker.(ClusterBroker); ok && h.state.Load() == stateRunning {
		return h.command(context.Background(), cb, map[string][]string{"": nil},
			Command{Kind: CommandKickChannel, Channel: channel, Reason: string(reason)})
	}
	return nil
}

func (h *Hub) kickLocal(channel, reason string) {
	if ch := h.channel(channel); ch != nil {
		for _, c := range ch.subs.snapshot() {
			_ = c.closeWith(CloseKicked, reason)
		}
	}
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
	out = append(out, h.remoteClients(filters)...)
	sortClients(out)
	return out
}

// remoteClients returns the other nodes' clients that pass every filter, as the Presence has them.
func (h *Hub) remoteClients(filters []Filter) []ClientInfo {
	if h.ownPresence.Load() {
		return nil // the default presence is this node's own state
	}
	cfg := h.config()
	ctx := h.presenceCtx()
	defer ctx.cancel()
	if cp, ok := cfg.Presence.(ClusterPresence); ok {
		list, err := cp.ClientsExcept(ctx, cfg.Node, filters...)
		if err != nil {
			h.logger().Warn("ws: presence clients failed", "hub", h.name, "err", err)
		}
		return list
	}
	list, err := cfg.Presence.Clients(ctx)
	if err != nil {
		h.logger().Warn("ws: presence clients failed", "hub", h.name, "err", err)
		return nil
	}
	out := list[:0]
	for _, info := range list {
		if info.Node != cfg.Node && matchAll(info, filters) {
			out = append(out, info)
		}
	}
	return out
}

// Channels lists the channels with at least one subscriber, sorted by name, with their subscriber
// counts: this node's and, when the Presence is shared, the other nodes'.
func (h *Hub) Channels() []ChannelInfo {
	counts := map[string]int{}
	for _, ci := range h.localChannels() {
		counts[ci.Name] += ci.Clients
	}
	cfg := h.config()
	if cp, ok := cfg.Presence.(ClusterPresence); ok && !h.ownPresence.Load() {
		ctx := h.presenceCtx()
		defer ctx.cancel()
		list, err := cp.ChannelsExcept(ctx, cfg.Node)
		if err != nil {
			h.logger().Warn("ws: presence channels failed", "hub", h.name, "err", err)
		}
		for _, ci := range list {
			counts[ci.Name] += ci.Clients
		}
		return countChannels(nil, counts)
	}
	return countChannels(h.remoteClients(nil), counts)
}

// Channel describes one channel as Channels does; false if it has no subscriber. With a
// ClusterPresence it reads that channel's counts only.
func (h *Hub) Channel(name string) (ChannelInfo, bool) {
	cfg := h.config()
	if cp, ok := cfg.Presence.(ClusterPresence); ok && !h.ownPresence.Load() {
		n := 0
		if ch := h.channel(name); ch != nil {
			n = ch.subs.len()
		}
		ctx := h.presenceCtx()
		defer ctx.cancel()
		m, err := cp.ChannelExcept(ctx, cfg.Node, name)
		if err != nil {
			h.logger().Warn("ws: presence channel failed", "hub", h.name, "err", err)
		}
		return ChannelInfo{Name: name, Clients: n + m}, n+m > 0
	}
	for _, ci := range h.Channels() {
		if ci.Name == name {
			return ci, true
		}
	}
	return ChannelInfo{Name: name}, false
}

// ClusterStats counts the cluster's nodes, clients and channels: this node's exactly, the others' as
// the Presence has them (this node's alone without a shared Presence). It costs what Channels costs.
func (h *Hub) ClusterStats() ClusterStats {
	st := ClusterStats{Nodes: 1, Clients: int(h.nClients.Load()), Channels: len(h.Channels())}
	if h.ownPresence.Load() {
		return st
	}
	cfg := h.config()
	ctx := h.presenceCtx()
	defer ctx.cancel()
	if cp, ok := cfg.Presence.(ClusterPresence); ok {
		ps, err := cp.StatsExcept(ctx, cfg.Node)
		if err != nil {
			h.logger().Warn("ws: presence stats failed", "hub", h.name, "err", err)
		}
		st.Nodes += ps.Nodes
		st.Clients += ps.Clients
		return st
	}
	nodes := map[string]bool{}
	for _, c := range h.remoteClients(nil) {
		nodes[c.Node] = true
		st.Clients++
	}
	st.Nodes += len(nodes)
	return st
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
