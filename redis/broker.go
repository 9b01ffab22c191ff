package wsredis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/surge-ws/ws/hub"
)

// ErrUnavailable is returned by Publish and Command while Redis is unreachable: the packet is not
// queued (it would reach the other nodes late or never) and is counted in BrokerStats.PublishErrors.
var ErrUnavailable = errors.New("wsredis: redis unavailable")

// ErrBacklog is returned when the queue to Redis stayed full for WriteTimeout.
var ErrBacklog = errors.New("wsredis: publish queue full")

// RedisBroker is a hub.ClusterBroker on Redis Pub/Sub. See the package documentation for the model
// and the guarantees. Its methods are safe for concurrent use.
type RedisBroker struct {
	opt    Options
	client redis.UniversalClient
	owned  bool

	// Publishing side: publishers append envelopes to cur under mu; the writer goroutine takes cur
	// whole and sends it as one pipeline.
	mu        sync.Mutex
	cur       *batch
	spare     *batch
	stream    uint64            // this broker's stream id (see envelope)
	seqs      map[seqKey]uint64 // last sequence number per Redis channel and origin
	channels  map[string]string // hub name -> its Redis channel
	taken     chan struct{}     // closed when the writer takes cur (publishers waiting for room)
	downUntil time.Time         // Redis failed: publishes fail until then
	backoff   time.Duration     // the next downUntil step
	closed    bool
	abort     atomic.Bool   // Close gave up waiting: the writer drops what is left
	wake      chan struct{} // cap 1: cur has something
	stop      chan struct{} // closed by Close: the writer drains and exits
	done      chan struct{} // closed when the writer has exited

	subMu   sync.Mutex
	subs    map[*subscription]struct{}
	members map[memberKey]*subscription // LayoutChannel: where Interest goes

	st stats
}

type stats struct {
	published, publishErrors, batches     atomic.Uint64
	received, gaps, duplicates, malformed atomic.Uint64
	disconnects, resub                    atomic.Uint64
}

// BrokerStats are a RedisBroker's counters since it was made.
type BrokerStats struct {
	// Published counts the envelopes (packets and commands) Redis accepted.
	Published uint64 `json:"published"`
	// PublishErrors counts the envelopes that never reached Redis (it was unreachable or failed, or the
	// queue stayed full): lost to every other node.
	PublishErrors uint64 `json:"publish_errors"`
	// Batches counts the pipelines sent; Published/Batches is the mean batch.
	Batches uint64 `json:"batches"`
	// Received counts the envelopes received from other nodes.
	Received uint64 `json:"received"`
	// Gaps counts the envelopes of other nodes this node knows it missed: holes in their sequence
	// numbers, seen when their next envelope arrives (those their senders counted in PublishErrors
	// included).
	Gaps uint64 `json:"gaps"`
	// Duplicates counts envelopes received twice and dropped (go-redis sends a pipeline again when
	// the connection broke before the replies came).
	Duplicates uint64 `json:"duplicates"`
	// Malformed counts messages on the hub's channels that were not envelopes.
	Malformed uint64 `json:"malformed"`
	// Disconnects counts subscription connections lost; Resubscribes the subscriptions made again.
	Disconnects  uint64 `json:"disconnects"`
	Resubscribes uint64 `json:"resubscribes"`
}

type seqKey struct{ channel, origin string }

// batch is a run of envelopes for one pipeline. Their bytes are back to back in chunks of chunkSize
// (an envelope never straddles two), so a growing batch copies nothing; chunks are kept for the next
// batch.
type batch struct {
	chunks [][]byte // filled ones, and the last one being filled
	spare  [][]byte // emptied chunks for reuse
	// cmds are the PUBLISH commands, made by the publishers (under the broker's lock) rather than by
	// the writer, whose time is the critical path: while it builds a pipeline Redis waits.
	cmds []redis.Cmder
	size int // bytes of the envelopes
}

const chunkSize = 64 << 10

// add appends e's encoding for channel to the batch.
func (bt *batch) add(channel string, e *envelope) {
	need := e.maxSize()
	n := len(bt.chunks)
	if n == 0 || cap(bt.chunks[n-1])-len(bt.chunks[n-1]) < need {
		var c []byte
		switch k := len(bt.spare); {
		case need > chunkSize:
			c = make([]byte, 0, need) // a large envelope has a chunk of its own, not kept
		case k > 0:
			c, bt.spare = bt.spare[k-1], bt.spare[:k-1]
		default:
			c = make([]byte, 0, chunkSize)
		}
		bt.chunks = append(bt.chunks, c)
		n++
	}
	last := bt.chunks[n-1]
	start := len(last)
	last = appendEnvelope(last, e) // fits: no copy
	bt.chunks[n-1] = last
	bt.cmds = append(bt.cmds, redis.NewIntCmd(context.Background(), "publish", channel, last[start:len(last):len(last)]))
	bt.size += len(last) - start
}

// reset empties the batch, keeping its chunks of chunkSize for the next one.
func (bt *batch) reset() {
	for _, c := range bt.chunks {
		if cap(c) == chunkSize && len(bt.spare) < 512 {
			bt.spare = append(bt.spare, c[:0])
		}
	}
	clear(bt.chunks)
	bt.chunks = bt.chunks[:0]
	clear(bt.cmds)
	bt.cmds = bt.cmds[:0]
	bt.size = 0
}

// Broker returns a RedisBroker on client whose Redis channels start with channel (runa's
// wsredis.Broker(client, "ws")). The caller keeps client.
func Broker(client redis.UniversalClient, channel string) *RedisBroker {
	return NewBroker(Options{Client: client, Channel: channel})
}

// NewBroker returns a RedisBroker configured by o. It connects lazily: Check tells whether Redis
// answers.
func NewBroker(o Options) *RedisBroker {
	o = o.withDefaults()
	c, owned := o.client()
	b := &RedisBroker{
		opt: o, client: c, owned: owned,
		cur: &batch{}, spare: &batch{},
		stream: newStream(), seqs: map[seqKey]uint64{}, channels: map[string]string{},
		taken: make(chan struct{}),
		wake:  make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		subs: map[*subscription]struct{}{}, members: map[memberKey]*subscription{},
	}
	go b.write()
	return b
}

// Stats returns the broker's counters.
func (b *RedisBroker) Stats() BrokerStats {
	return BrokerStats{
		Published: b.st.published.Load(), PublishErrors: b.st.publishErrors.Load(), Batches: b.st.batches.Load(),
		Received: b.st.received.Load(), Gaps: b.st.gaps.Load(), Duplicates: b.st.duplicates.Load(),
		Malformed:   b.st.malformed.Load(),
		Disconnects: b.st.disconnects.Load(), Resubscribes: b.st.resub.Load(),
	}
}

// Check pings Redis.
func (b *RedisBroker) Check(ctx context.Context) error {
	if err := b.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("wsredis: broker: %w", err)
	}
	return nil
}

// hubChannel is hub's Redis channel; "" is the runa-shaped Publish and Subscribe's, Options.Channel.
func (b *RedisBroker) hubChannel(name string) string {
	if name == "" {
		return b.opt.Channel
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.channels[name]
	if !ok {
		c = b.opt.Channel + ":" + name
		b.channels[name] = c
	}
	return c
}

func (b *RedisBroker) nodeChannel(name, address string) string {
	return b.hubChannel(name) + ":@" + address
}

// Publish sends p on the runa-shaped channel (Options.Channel), which Subscribe receives.
func (b *RedisBroker) Publish(ctx context.Context, channel string, p hub.Packet) error {
	return b.PublishHub(ctx, "", channel, p)
}

// PublishHub queues p for the other nodes of hub and returns: the writer sends what accumulated as
// one pipeline, one PUBLISH per packet. It fails with ErrUnavailable while Redis is unreachable, and
// with ErrBacklog if the queue stays full for WriteTimeout (or ctx's error if ctx ends first).
func (b *RedisBroker) PublishHub(ctx context.Context, hubName, channel string, p hub.Packet) error {
	p.Channel = channel
	if len(p.Encoded) == 0 {
		wire, err := encodePacket(&p)
		if err != nil {
			return err
		}
		p.Encoded = wire
	}
	off, n := dataSpan(&p)
	e := envelope{kind: kindPacket, origin: p.Origin, channel: channel, event: p.Event,
		dataOff: off, dataLen: n, wire: p.Encoded}
	return b.enqueue(ctx, b.packetChannel(hubName, channel), &e)
}

// Command queues cmd for the node of hub whose address is cmd.Target, or for every node of hub.
func (b *RedisBroker) Command(ctx context.Context, hubName string, cmd hub.Command) error {
	e := envelope{kind: kindCommand, origin: cmd.Origin, channel: cmd.Channel, event: cmd.Packet.Event,
		op: cmd.Kind, ids: cmd.IDs, reason: cmd.Reason}
	if cmd.Kind == hub.CommandSend {
		p := cmd.Packet
		if len(p.Encoded) == 0 {
			wire, err := encodePacket(&p)
			if err != nil {
				return err
			}
			p.Encoded = wire
		}
		e.wire = p.Encoded
		e.dataOff, e.dataLen = dataSpan(&p)
	}
	if cmd.Target == "" {
		return b.enqueue(ctx, b.hubChannel(hubName), &e)
	}
	return b.enqueue(ctx, b.nodeChannel(hubName, cmd.Target), &e)
}

// encodePacket makes the client wire form of a packet that came without it (a caller of the
// runa-shaped Publish): what the hub's encoder makes, by encoding/json.
func encodePacket(p *hub.Packet) ([]byte, error) {
	if len(p.Data) > 0 {
		var compact bytes.Buffer
		if err := json.Compact(&compact, p.Data); err != nil {
			return nil, err
		}
		p.Data = compact.Bytes() // as encoding/json writes it, so that dataSpan finds it
	}
	return json.Marshal(struct {
		Channel string          `json:"channel,omitempty"`
		Event   string          `json:"event"`
		Data    json.RawMessage `json:"data,omitempty"`
		Meta    map[string]any  `json:"meta,omitempty"`
	}{p.Channel, p.Event, p.Data, p.Meta})
}

// enqueue appends e for channel to the current batch, with the next sequence number of (channel,
// origin) in this broker's stream: receivers find holes (losses) and repeats (a pipeline go-redis
// sent again after a connection broke) by it.
func (b *RedisBroker) enqueue(ctx context.Context, channel string, e *envelope) error {
	var deadline <-chan time.Time
	b.mu.Lock()
	for {
		if b.closed {
			b.mu.Unlock()
			return hub.ErrBrokerClosed
		}
		if !b.downUntil.IsZero() && time.Now().Before(b.downUntil) {
			b.mu.Unlock()
			b.st.publishErrors.Add(1)
			return ErrUnavailable
		}
		if b.cur.size < b.opt.MaxPending {
			break
		}
		taken := b.taken
		b.mu.Unlock()
		if deadline == nil {
			t := time.NewTimer(b.opt.writeTimeout())
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-taken:
		case <-ctx.Done():
			b.st.publishErrors.Add(1)
			return ctx.Err()
		case <-deadline:
			b.st.publishErrors.Add(1)
			return ErrBacklog
		}
		b.mu.Lock()
	}
	key := seqKey{channel, e.origin}
	seq, ok := b.seqs[key]
	if !ok && len(b.seqs) >= maxSequences {
		// Commands to nodes long gone leave counters behind: start a new stream rather than grow.
		clear(b.seqs)
		b.stream = newStream()
	}
	b.seqs[key] = seq + 1
	e.stream, e.seq = b.stream, seq+1
	b.cur.add(channel, e)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return nil
}

// write is the writer goroutine: it sends whatever accumulated while the previous pipeline was on
// the wire, so an idle broker sends a packet at once and a busy one sends large batches.
func (b *RedisBroker) write() {
	defer close(b.done)
	for {
		select {
		case <-b.wake:
		case <-b.stop:
		}
		b.mu.Lock()
		bt := b.cur
		if len(bt.cmds) == 0 {
			closed := b.closed
			b.mu.Unlock()
			if closed {
				return
			}
			continue
		}
		b.cur, b.spare = b.spare, nil
		close(b.taken)
		b.taken = make(chan struct{})
		b.mu.Unlock()

		failed := b.send(bt)

		b.mu.Lock()
		if failed {
			if b.backoff == 0 {
				b.backoff = b.opt.ReconnectMin
			} else {
				b.backoff = min(2*b.backoff, b.opt.ReconnectMax)
			}
			b.downUntil = time.Now().Add(b.backoff)
		} else {
			b.backoff, b.downUntil = 0, time.Time{}
		}
		bt.reset()
		b.spare = bt
		if len(b.cur.cmds) > 0 {
			select {
			case b.wake <- struct{}{}:
			default:
			}
		}
		b.mu.Unlock()
	}
}

// send publishes bt in pipelines of MaxBatch and reports whether Redis failed.
func (b *RedisBroker) send(bt *batch) (failed bool) {
	for start := 0; start < len(bt.cmds); start += b.opt.MaxBatch {
		if b.abort.Load() {
			b.st.publishErrors.Add(uint64(len(bt.cmds) - start))
			return true
		}
		cmds := bt.cmds[start:min(start+b.opt.MaxBatch, len(bt.cmds))]
		ctx, cancel := context.WithTimeout(context.Background(), b.opt.writeTimeout())
		pipe := b.client.Pipeline()
		_ = pipe.BatchProcess(ctx, cmds...)
		_, err := pipe.Exec(ctx)
		cancel()
		b.st.batches.Add(1)
		if err == nil {
			b.st.published.Add(uint64(len(cmds)))
			continue
		}
		var lost uint64
		for _, c := range cmds {
			if c.Err() != nil {
				lost++
			}
		}
		if lost == 0 { // the pipeline never reached Redis (no connection): none of it went out
			lost = uint64(len(cmds))
		}
		b.st.published.Add(uint64(len(cmds)) - lost)
		b.st.publishErrors.Add(lost)
		if !failed {
			b.opt.Logger.Warn("wsredis: publish failed", "lost", lost, "err", err)
		}
		failed = true
	}
	return failed
}

// Subscribe receives the packets published with the runa-shaped Publish (on Options.Channel), except
// node's own.
func (b *RedisBroker) Subscribe(ctx context.Context, node string, handler func(hub.Packet) error) error {
	return b.SubscribeHub(ctx, hub.Member{Node: node, Packet: handler})
}

// SubscribeHub receives m.Hub's packets and commands for every node and for m.Address, on one Pub/Sub
// connection of its own; with LayoutChannel, the packets of the channels m's node has subscribers of
// (m.Channels, then Interest). It returns once Redis confirmed the subscription. The connection is
// made again (with backoff) whenever it is lost, until ctx is done or the broker is closed.
func (b *RedisBroker) SubscribeHub(ctx context.Context, m hub.Member) error {
	fixed := []string{b.hubChannel(m.Hub)}
	if m.Hub != "" && m.Address != "" {
		fixed = append(fixed, b.nodeChannel(m.Hub, m.Address))
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return hub.ErrBrokerClosed
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &subscription{b: b, m: m, fixed: fixed, ctx: sctx, cancel: cancel,
		want: map[string]bool{}, dirty: map[string]struct{}{}, iwake: make(chan struct{}, 1),
		seen: map[string]map[string]position{}}
	byChannel := b.opt.Layout == LayoutChannel && m.Hub != ""
	key := memberKey{m.Hub, m.Node}
	if byChannel {
		// Registered before the snapshot: a channel made meanwhile is announced to s.
		b.subMu.Lock()
		b.members[key] = s
		b.subMu.Unlock()
		if m.Channels != nil {
			chans := m.Channels() // not under s.imu: the hub holds its index's locks when it calls Interest
			s.imu.Lock()
			for _, ch := range chans {
				s.want[b.packetChannel(m.Hub, ch)] = true
			}
			s.imu.Unlock()
		}
	}
	all := s.channels()
	s.ps = b.client.Subscribe(sctx, all...)
	if err := s.confirm(len(all)); err != nil {
		cancel()
		_ = s.ps.Close()
		if byChannel {
			b.subMu.Lock()
			delete(b.members, key)
			b.subMu.Unlock()
		}
		return fmt.Errorf("wsredis: subscribe: %w", err)
	}
	b.subMu.Lock()
	b.subs[s] = struct{}{}
	b.subMu.Unlock()
	go s.run()
	if byChannel {
		go s.follow()
	}
	return nil
}

// packetChannel is the Redis channel of hub's packets to channel: the hub's own with LayoutHub or for
// a broadcast, "<Channel>:<hub>#<channel>" with LayoutChannel.
func (b *RedisBroker) packetChannel(hubName, channel string) string {
	if channel == "" || b.opt.Layout != LayoutChannel || hubName == "" {
		return b.hubChannel(hubName)
	}
	return b.hubChannel(hubName) + "#" + channel
}

// Interest subscribes node's connection to channel's packets (on) or unsubscribes it (off), with
// LayoutChannel; it only records the change, which the subscription's goroutine sends to Redis (in
// batches) at once. With LayoutHub every node receives every packet and Interest does nothing.
func (b *RedisBroker) Interest(hubName, node, channel string, on bool) {
	if b.opt.Layout != LayoutChannel || channel == "" {
		return
	}
	b.subMu.Lock()
	s := b.members[memberKey{hubName, node}]
	b.subMu.Unlock()
	if s == nil {
		return
	}
	rc := b.packetChannel(hubName, channel)
	s.imu.Lock()
	if on {
		s.want[rc] = true
	} else {
		delete(s.want, rc)
	}
	s.dirty[rc] = struct{}{}
	s.imu.Unlock()
	select {
	case s.iwake <- struct{}{}:
	default:
	}
}

// Close stops the writer once it has sent what was queued (ctx bounds the wait), ends every
// subscription and closes the client if the broker made it.
func (b *RedisBroker) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	var err error
	select {
	case <-b.done:
	case <-ctx.Done():
		err = ctx.Err()
		b.abort.Store(true) // the writer finishes the pipeline it is in and drops the rest
	}
	b.subMu.Lock()
	subs := b.subs
	b.subs = map[*subscription]struct{}{}
	clear(b.members)
	b.subMu.Unlock()
	for s := range subs {
		s.close()
	}
	if b.owned {
		<-b.done // the writer must not use a closed client
		if cerr := b.client.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

type memberKey struct{ hub, node string }

// subscription is one hub's Pub/Sub connection and its receiving goroutine (run); with LayoutChannel
// also the goroutine that follows the node's channels (follow).
type subscription struct {
	b      *RedisBroker
	m      hub.Member
	fixed  []string // the hub's channel and the node's command channel
	ctx    context.Context
	cancel context.CancelFunc
	psMu   sync.Mutex
	ps     *redis.PubSub // replaced by run when a connection goes silent

	imu   sync.Mutex
	want  map[string]bool     // Redis channels of the node's hub channels (LayoutChannel)
	dirty map[string]struct{} // changed in want since follow last looked
	iwake chan struct{}

	seenMu sync.Mutex
	seen   map[string]map[string]position // Redis channel -> origin -> last position
}

// position is where a sender's stream stands at a receiver.
type position struct{ stream, seq uint64 }

func (s *subscription) pubsub() *redis.PubSub {
	s.psMu.Lock()
	defer s.psMu.Unlock()
	return s.ps
}

// channels is every Redis channel s should hold.
func (s *subscription) channels() []string {
	out := slices.Clone(s.fixed)
	s.imu.Lock()
	for ch := range s.want {
		out = append(out, ch)
	}
	s.imu.Unlock()
	return out
}

// confirm waits for Redis to confirm n channels.
func (s *subscription) confirm(n int) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.b.opt.writeTimeout()+s.b.opt.PingInterval)
	defer cancel()
	for got := 0; got < n; {
		msg, err := s.ps.Receive(ctx)
		if err != nil {
			return err
		}
		if _, ok := msg.(*redis.Subscription); ok {
			got++
		}
	}
	return nil
}

func (s *subscription) close() {
	s.cancel()
	_ = s.pubsub().Close()
}

// follow sends the node's channel changes to Redis: what changed since it last looked, as one
// SUBSCRIBE and one UNSUBSCRIBE (go-redis remembers the channels and subscribes them again after a
// reconnection).
func (s *subscription) follow() {
	for {
		select {
		case <-s.iwake:
		case <-s.ctx.Done():
			return
		}
		var add, drop []string
		s.imu.Lock()
		for ch := range s.dirty {
			if s.want[ch] {
				add = append(add, ch)
			} else {
				drop = append(drop, ch)
			}
		}
		clear(s.dirty)
		s.imu.Unlock()
		ps := s.pubsub()
		for len(add) > 0 {
			n := min(len(add), 1024)
			if err := ps.Subscribe(s.ctx, add[:n]...); err != nil && s.ctx.Err() == nil {
				s.b.opt.Logger.Warn("wsredis: subscribe failed (retried on reconnection)", "err", err)
			}
			add = add[n:]
		}
		for len(drop) > 0 {
			n := min(len(drop), 1024)
			_ = ps.Unsubscribe(s.ctx, drop[:n]...)
			s.seenMu.Lock()
			for _, ch := range drop[:n] {
				delete(s.seen, ch) // a later subscription starts afresh: no false gaps
			}
			s.seenMu.Unlock()
			drop = drop[n:]
		}
	}
}

// run receives until the subscription ends. A lost connection is made again by go-redis on the next
// receive; run waits between attempts (ReconnectMin doubling to ReconnectMax) and counts.
func (s *subscription) run() {
	b := s.b
	defer func() {
		b.subMu.Lock()
		delete(b.subs, s)
		if b.members[memberKey{s.m.Hub, s.m.Node}] == s {
			delete(b.members, memberKey{s.m.Hub, s.m.Node})
		}
		b.subMu.Unlock()
		s.close()
	}()
	stop := context.AfterFunc(s.ctx, func() { _ = s.pubsub().Close() })
	defer stop()
	connected := true
	backoff := b.opt.ReconnectMin
	silent := 0
	for s.ctx.Err() == nil {
		ps := s.pubsub()
		msg, err := ps.ReceiveTimeout(s.ctx, b.opt.PingInterval)
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && connected {
				silent++
				if silent < 2 {
					_ = ps.Ping(s.ctx)
					continue
				}
				// Two silent intervals: the connection is dead without an error. Start afresh.
				_ = ps.Close()
				s.psMu.Lock()
				s.ps = b.client.Subscribe(s.ctx, s.channels()...)
				s.psMu.Unlock()
				if s.ctx.Err() != nil {
					return
				}
			}
			silent = 0
			if connected {
				connected = false
				b.st.disconnects.Add(1)
				b.opt.Logger.Warn("wsredis: subscription lost; reconnecting", "hub", s.m.Hub, "node", s.m.Node, "err", err)
			}
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return
			}
			backoff = min(2*backoff, b.opt.ReconnectMax)
			continue
		}
		silent = 0
		switch m := msg.(type) {
		case *redis.Subscription:
			if !connected && m.Kind == "subscribe" {
				connected, backoff = true, b.opt.ReconnectMin
				b.st.resub.Add(1)
				b.opt.Logger.Info("wsredis: subscription back", "hub", s.m.Hub, "node", s.m.Node)
			}
		case *redis.Message:
			s.receive(m.Channel, m.Payload)
		}
	}
}

// receive decodes one envelope and hands it to the hub. The payload is a string of its own, so the
// envelope's slices may alias it: the hub copies the wire bytes into its frame.
func (s *subscription) receive(channel, payload string) {
	b := s.b
	var e envelope
	if err := parseEnvelope(unsafe.Slice(unsafe.StringData(payload), len(payload)), &e); err != nil {
		b.st.malformed.Add(1)
		return
	}
	if e.origin == s.m.Node {
		return
	}
	s.seenMu.Lock()
	origins := s.seen[channel]
	if origins == nil {
		if len(s.seen) >= maxSeenChannels {
			clear(s.seen) // forget everything rather than grow forever
		}
		origins = map[string]position{}
		s.seen[channel] = origins
	}
	pos, ok := origins[e.origin]
	dup := ok && pos.stream == e.stream && e.seq <= pos.seq
	switch {
	case dup:
		b.st.duplicates.Add(1) // sent again by go-redis after a broken connection: delivered already
	case ok && pos.stream == e.stream && e.seq > pos.seq+1:
		b.st.gaps.Add(e.seq - pos.seq - 1)
	case !ok && len(origins) >= maxOrigins:
		clear(origins) // nodes come and go
	}
	if !dup {
		origins[e.origin] = position{e.stream, e.seq}
	}
	s.seenMu.Unlock()
	if dup {
		return
	}
	b.st.received.Add(1)
	switch e.kind {
	case kindPacket:
		if s.m.Packet != nil {
			_ = s.m.Packet(e.packet())
		}
	case kindCommand:
		if s.m.Command != nil {
			_ = s.m.Command(e.command())
		}
	}
}

// maxOrigins bounds the senders a subscription remembers positions of per Redis channel,
// maxSeenChannels the Redis channels, maxSequences the counters of a sender.
const (
	maxOrigins      = 4096
	maxSeenChannels = 1 << 16
	maxSequences    = 1 << 16
)

func newStream() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) >> 1 // a uvarint of at most 9 bytes
}

var (
	_ hub.InterestBroker = (*RedisBroker)(nil)
	_ hub.Checker        = (*RedisBroker)(nil)
)
