package wsredis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surge-ws/ws/hub"
)

// RedisPresence is a hub.ClusterPresence on Redis. See the package documentation for the keys it
// keeps and what reads cost. One RedisPresence serves one hub's node. Its methods are safe for
// concurrent use.
type RedisPresence struct {
	opt    Options
	client redis.UniversalClient
	owned  bool
	prefix string

	mu       sync.Mutex
	node     string
	address  string              // the node's connection id prefix, learned from the first id
	clients  map[string]string   // this node's clients as last Set: id -> encodeClient
	counts   map[string]int      // this node's clients per channel
	dirty    map[string]struct{} // clients changed since the last flush
	dirtyCh  map[string]struct{} // channels whose count changed since the last flush
	buckets  int                 // the layout to write: hashes per node, a power of two
	written  int                 // the layout Redis has (0: nothing written yet)
	resync   bool                // write everything at the next flush
	due      bool                // a flush is scheduled for the changes made since the last one
	closed   bool
	started  bool
	wake     chan struct{} // flush now (FlushSize reached, or a resync)
	changed  chan struct{} // the first change since the last flush: flush within FlushInterval
	stop     chan struct{}
	done     chan struct{}
	lastBeat time.Time

	st    struct{ flushes, flushErrors, resyncs, reaped atomic.Uint64 }
	wakes atomic.Uint64 // rounds of loop, for tests
}

// PresenceStats are a RedisPresence's counters since it was made.
type PresenceStats struct {
	Flushes     uint64 `json:"flushes"`      // pipelines of buffered changes written
	FlushErrors uint64 `json:"flush_errors"` // pipelines that failed (their changes are written again)
	Resyncs     uint64 `json:"resyncs"`      // full rewrites: at join, after Redis lost this node's keys, on growth
	Reaped      uint64 `json:"reaped"`       // dead nodes whose keys this node deleted
}

// Presence returns a RedisPresence on client whose keys start with prefix (runa's
// wsredis.Presence(client, "runa:ws:")). The caller keeps client.
func Presence(client redis.UniversalClient, prefix string) *RedisPresence {
	return NewPresence(Options{Client: client, PresencePrefix: prefix})
}

// NewPresence returns a RedisPresence configured by o. Nothing is written before the node joins
// (hub.Hub.Start) or its first client is Set.
func NewPresence(o Options) *RedisPresence {
	o = o.withDefaults()
	c, owned := o.client()
	return &RedisPresence{
		opt: o, client: c, owned: owned, prefix: o.PresencePrefix,
		clients: map[string]string{}, counts: map[string]int{},
		dirty: map[string]struct{}{}, dirtyCh: map[string]struct{}{},
		buckets: 1, resync: true,
		wake: make(chan struct{}, 1), changed: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// Keys. The registry is one hash, node -> "<expires ms> <clients> <buckets> <heartbeat ms> <address>",
// in Redis's clock. A node's clients are in <buckets> hashes, its channel counts in one.
func (p *RedisPresence) nodesKey() string { return p.prefix + "nodes" }
func (p *RedisPresence) bucketKey(node string, buckets, i int) string {
	return p.prefix + "c:" + node + ":" + strconv.Itoa(buckets) + ":" + strconv.Itoa(i)
}
func (p *RedisPresence) channelsKey(node string) string { return p.prefix + "ch:" + node }

func bucketOf(id string, buckets int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() & uint32(buckets-1))
}

// Buckets grow fourfold when a node has more than bucketFill clients per bucket on average, so that
// every hash stays under Redis's listpack limit (hash-max-listpack-entries, 128 by default).
const (
	bucketFill = 64
	maxBuckets = 1 << 16
)

// beatScript renews a registration and reports whether it was missing (a Redis that restarted, or
// other nodes that took this node for dead).
var beatScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = string.format('%d %s %s %d %s', now + tonumber(ARGV[2]), ARGV[3], ARGV[4], now, ARGV[5])
return redis.call('HSET', KEYS[1], ARGV[1], v)`)

// liveScript returns Redis's clock (ms) and the registry.
var liveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return {string.format('%d', now), redis.call('HGETALL', KEYS[1])}`)

// reapScript removes a node and its keys, at once, if its registration expired (or ARGV[3] is
// "force": a node clearing what an earlier process of the same name left, or its own keys on Close,
// when ARGV[4] gives its own bucket count for a registration that is gone). It returns 1 if it did.
// It deletes the smaller layouts too (bucket counts only grow, by 4): a flush that grew the layout
// deletes the old one afterwards, best effort, and under overload that can fail: 22 of 52 nodes of
// a million-connection run left their 256-bucket layout behind. That is at most 4/3 of the node's
// bucket count in UNLINKs (1,365 for a node of 20,000 clients), once per node that leaves.
var reapScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
local n = ARGV[4]
if v then
  local exp
  exp, n = string.match(v, '^(%d+) %d+ (%d+)')
  if ARGV[3] ~= 'force' then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    if tonumber(exp) > now then return 0 end
  end
  redis.call('HDEL', KEYS[1], ARGV[1])
elseif not n or ARGV[3] ~= 'force' then
  return 0
end
local m = tonumber(n)
while m >= 1 do
  for i = 0, m - 1 do
    redis.call('UNLINK', ARGV[2] .. 'c:' .. ARGV[1] .. ':' .. m .. ':' .. i)
  end
  m = math.floor(m / 4)
end
redis.call('UNLINK', ARGV[2] .. 'ch:' .. ARGV[1])
return 1`)

// nodeEntry is a decoded registration.
type nodeEntry struct {
	name             string
	expires, beat    int64
	clients, buckets int
	address          string
}

func parseEntry(name, v string) (nodeEntry, bool) {
	f := strings.SplitN(v, " ", 5)
	if len(f) < 4 {
		return nodeEntry{}, false
	}
	e := nodeEntry{name: name}
	var err [4]error
	e.expires, err[0] = strconv.ParseInt(f[0], 10, 64)
	e.clients, err[1] = strconv.Atoi(f[1])
	e.buckets, err[2] = strconv.Atoi(f[2])
	e.beat, err[3] = strconv.ParseInt(f[3], 10, 64)
	if len(f) == 5 {
		e.address = f[4]
	}
	return e, errors.Join(err[:]...) == nil && e.buckets > 0
}

// Join registers node: its heartbeats and flushes start.
func (p *RedisPresence) Join(ctx context.Context, node string) error {
	p.mu.Lock()
	err := p.bindLocked(node)
	p.mu.Unlock()
	if err != nil {
		return err
	}
	return p.flush(ctx, true)
}

// bindLocked sets the node (once) and starts the writer goroutine. p.mu is held.
func (p *RedisPresence) bindLocked(node string) error {
	if p.closed {
		return hub.ErrPresenceClosed
	}
	if p.node == "" {
		if node == "" {
			return errors.New("wsredis: presence: empty node")
		}
		p.node = node
	}
	if !p.started {
		p.started = true
		go p.loop()
	}
	return nil
}

// Buffered reports that Set and Remove only buffer (hub.BufferedPresence): they take the
// Presence's lock, which is held only for work in memory (a flush copies the changes under it,
// and a full rewrite of the node every client: about 1 ms per 20,000), and never wait on Redis.
func (p *RedisPresence) Buffered() bool { return true }

// Set buffers info as this node's client; it reaches Redis with the next flush (FlushInterval).
func (p *RedisPresence) Set(ctx context.Context, info hub.ClientInfo) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.bindLocked(info.Node); err != nil {
		return err
	}
	if p.address == "" {
		p.address = addressOf(info.ID)
	}
	if old, ok := p.clients[info.ID]; ok {
		p.countLocked(channelsOf(old), -1)
	}
	chans := slices.Clone(info.Channels)
	slices.Sort(chans)
	info.Channels = chans
	// Only the encoding is kept (some 35 bytes): the channels are read back
	// from it when the client changes or leaves, rarer than a client is held.
	p.clients[info.ID] = encodeClient(&info)
	p.countLocked(chans, 1)
	p.dirty[info.ID] = struct{}{}
	p.growLocked()
	p.changedLocked()
	return nil
}

// Remove buffers the removal of a client of this node.
func (p *RedisPresence) Remove(ctx context.Context, clientID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return hub.ErrPresenceClosed
	}
	old, ok := p.clients[clientID]
	if !ok {
		return nil
	}
	p.countLocked(channelsOf(old), -1)
	delete(p.clients, clientID)
	p.dirty[clientID] = struct{}{}
	p.changedLocked()
	return nil
}

func (p *RedisPresence) countLocked(chans []string, d int) {
	for _, ch := range chans {
		n := p.counts[ch] + d
		if n <= 0 {
			delete(p.counts, ch)
		} else {
			p.counts[ch] = n
		}
		p.dirtyCh[ch] = struct{}{}
	}
}

// growLocked switches to four times the buckets when they fill up; the next flush rewrites the node.
func (p *RedisPresence) growLocked() {
	for len(p.clients) > bucketFill*p.buckets && p.buckets < maxBuckets {
		p.buckets *= 4
		p.resync = true
	}
}

// changedLocked schedules the flush of what just changed: at once past
// FlushSize changes, otherwise within FlushInterval. A node without changes
// sleeps until its heartbeat (no ticker: 55 idle nodes would wake 550 times
// a second).
func (p *RedisPresence) changedLocked() {
	if len(p.dirty) >= p.opt.FlushSize {
		p.kick()
		return
	}
	if !p.due {
		p.due = true
		select {
		case p.changed <- struct{}{}:
		default:
		}
	}
}

func (p *RedisPresence) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// addressOf is the node address part of a connection id ("<hex>-<counter>"), or "".
func addressOf(id string) string {
	i := strings.IndexByte(id, '-')
	if i <= 0 || i+1 >= len(id) {
		return ""
	}
	for _, c := range id[:i] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return ""
		}
	}
	return id[:i+1]
}

// loop flushes FlushInterval after the first change since the last flush
// (at once when kicked), and beats and reaps every HeartbeatInterval.
func (p *RedisPresence) loop() {
	defer close(p.done)
	flushAt := time.NewTimer(time.Hour)
	flushAt.Stop()
	beatAt := time.NewTimer(p.opt.HeartbeatInterval)
	defer flushAt.Stop()
	defer beatAt.Stop()
	var lastReap time.Time
	for {
		select {
		case <-p.stop:
			return
		case <-p.changed:
			flushAt.Reset(p.opt.FlushInterval)
			continue
		case <-flushAt.C:
		case <-beatAt.C:
		case <-p.wake:
		}
		p.wakes.Add(1)
		ctx, cancel := context.WithTimeout(context.Background(), p.opt.writeTimeout())
		p.mu.Lock()
		beat := time.Since(p.lastBeat) >= p.opt.HeartbeatInterval
		p.mu.Unlock()
		if err := p.flush(ctx, beat); err != nil {
			p.opt.Logger.Warn("wsredis: presence flush failed", "err", err)
		}
		if time.Since(lastReap) >= p.opt.HeartbeatInterval {
			lastReap = time.Now()
			if err := p.reap(ctx); err != nil {
				p.opt.Logger.Warn("wsredis: presence reap failed", "err", err)
			}
		}
		cancel()
		p.mu.Lock()
		next := time.Until(p.lastBeat.Add(p.opt.HeartbeatInterval))
		p.mu.Unlock()
		beatAt.Reset(max(next, p.opt.FlushInterval)) // a failing Redis is retried, not hammered
	}
}

// Flush writes the buffered changes now (all of this node's entries after a resync) in one pipeline
// with the node's heartbeat. The presence does it by itself every FlushInterval.
func (p *RedisPresence) Flush(ctx context.Context) error { return p.flush(ctx, true) }

// flush writes the buffered changes, if any (always, with force), and the heartbeat.
func (p *RedisPresence) flush(ctx context.Context, force bool) error {
	p.mu.Lock()
	if p.node == "" {
		p.mu.Unlock()
		return nil
	}
	node, address, buckets, written, full := p.node, p.address, p.buckets, p.written, p.resync
	type change struct{ id, value string }
	var changes []change
	var chans map[string]int // channel -> count (0: delete)
	if full {
		changes = make([]change, 0, len(p.clients))
		for id, v := range p.clients {
			changes = append(changes, change{id, v})
		}
		chans = make(map[string]int, len(p.counts))
		for ch, n := range p.counts {
			chans[ch] = n
		}
	} else {
		if len(p.dirty) == 0 && len(p.dirtyCh) == 0 && !force {
			p.due = false
			p.mu.Unlock()
			return nil
		}
		for id := range p.dirty {
			changes = append(changes, change{id, p.clients[id]}) // "": removed
		}
		chans = make(map[string]int, len(p.dirtyCh))
		for ch := range p.dirtyCh {
			chans[ch] = p.counts[ch]
		}
	}
	dirty, dirtyCh := p.dirty, p.dirtyCh
	p.dirty, p.dirtyCh = map[string]struct{}{}, map[string]struct{}{}
	p.resync = false
	p.due = false
	nclients := len(p.clients)
	p.mu.Unlock()

	pipe := p.client.Pipeline()
	if full && written == 0 {
		// A process of the same name may have left keys: start clean.
		reapScript.Eval(ctx, pipe, []string{p.nodesKey()}, node, p.prefix, "force")
	}
	sets := map[int][]any{}
	dels := map[int][]string{}
	for _, c := range changes {
		i := bucketOf(c.id, buckets)
		f := clientField(address, c.id)
		if c.value == "" {
			dels[i] = append(dels[i], f)
		} else {
			sets[i] = append(sets[i], f, c.value)
		}
	}
	for i, kv := range sets {
		pipe.HSet(ctx, p.bucketKey(node, buckets, i), kv...)
	}
	for i, fs := range dels {
		pipe.HDel(ctx, p.bucketKey(node, buckets, i), fs...)
	}
	var chSet []any
	var chDel []string
	for ch, n := range chans {
		if n > 0 {
			chSet = append(chSet, ch, n)
		} else {
			chDel = append(chDel, ch)
		}
	}
	if full {
		pipe.Del(ctx, p.channelsKey(node))
	}
	if len(chSet) > 0 {
		pipe.HSet(ctx, p.channelsKey(node), chSet...)
	}
	if len(chDel) > 0 {
		pipe.HDel(ctx, p.channelsKey(node), chDel...)
	}
	beat := beatScript.Eval(ctx, pipe, []string{p.nodesKey()}, node, p.opt.NodeTTL.Milliseconds(),
		nclients, buckets, address)
	_, err := pipe.Exec(ctx)
	p.st.flushes.Add(1)
	if err != nil {
		p.st.flushErrors.Add(1)
		p.mu.Lock()
		if full {
			p.resync = true
		}
		for id := range dirty {
			p.dirty[id] = struct{}{}
		}
		for ch := range dirtyCh {
			p.dirtyCh[ch] = struct{}{}
		}
		p.mu.Unlock()
		return fmt.Errorf("wsredis: presence flush: %w", err)
	}
	if full {
		p.st.resyncs.Add(1)
		if written != 0 && written != buckets {
			// The old layout goes once the registration names the new one.
			old := p.client.Pipeline()
			for i := range written {
				old.Unlink(ctx, p.bucketKey(node, written, i))
			}
			_, _ = old.Exec(ctx)
		}
	}
	p.mu.Lock()
	p.written = buckets
	p.lastBeat = time.Now()
	if n, _ := beat.Int64(); n == 1 && !full {
		p.resync = true // Redis had lost this node (restarted, or took it for dead): write it all again
		p.kick()
	}
	p.mu.Unlock()
	return nil
}

// reap deletes the nodes whose registration expired, with their keys (reapScript: one node does it).
func (p *RedisPresence) reap(ctx context.Context) error {
	_, dead, err := p.live(ctx)
	if err != nil {
		return err
	}
	for _, e := range dead {
		n, err := reapScript.Run(ctx, p.client, []string{p.nodesKey()}, e.name, p.prefix, "").Int()
		if err != nil {
			return err
		}
		if n == 1 {
			p.st.reaped.Add(1)
			p.opt.Logger.Info("wsredis: removed a dead node's presence", "node", e.name)
		}
	}
	return nil
}

// live reads the registry: the live nodes and the dead ones (expired, not yet reaped).
func (p *RedisPresence) live(ctx context.Context) (live, dead []nodeEntry, err error) {
	res, err := liveScript.Run(ctx, p.client, []string{p.nodesKey()}).Slice()
	if err != nil {
		return nil, nil, fmt.Errorf("wsredis: presence registry: %w", err)
	}
	if len(res) != 2 {
		return nil, nil, errors.New("wsredis: presence registry: unexpected reply")
	}
	now, _ := strconv.ParseInt(fmt.Sprint(res[0]), 10, 64)
	kv, _ := res[1].([]any)
	for i := 0; i+1 < len(kv); i += 2 {
		name, _ := kv[i].(string)
		v, _ := kv[i+1].(string)
		e, ok := parseEntry(name, v)
		if !ok {
			continue
		}
		if e.expires > now {
			live = append(live, e)
		} else {
			dead = append(dead, e)
		}
	}
	return live, dead, nil
}

// others is the live nodes but except.
func (p *RedisPresence) others(ctx context.Context, except string) ([]nodeEntry, error) {
	if p.isClosed() {
		return nil, hub.ErrPresenceClosed
	}
	live, _, err := p.live(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(live, func(e nodeEntry) bool { return e.name == except }), nil
}

func (p *RedisPresence) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Clients lists every live node's clients that pass every filter (this node's as last flushed).
func (p *RedisPresence) Clients(ctx context.Context, filters ...hub.Filter) ([]hub.ClientInfo, error) {
	return p.ClientsExcept(ctx, "", filters...)
}

// ClientsExcept lists the clients of every live node but node that pass every filter, sorted by
// connection time then id. It reads each of those nodes' client hashes once (one pipeline): the cost
// is that of the clients listed before filtering.
func (p *RedisPresence) ClientsExcept(ctx context.Context, node string, filters ...hub.Filter) ([]hub.ClientInfo, error) {
	nodes, err := p.others(ctx, node)
	if err != nil {
		return nil, err
	}
	pipe := p.client.Pipeline()
	type read struct {
		e   *nodeEntry
		cmd *redis.MapStringStringCmd
	}
	var reads []read
	for i := range nodes {
		e := &nodes[i]
		if e.clients == 0 {
			continue
		}
		for b := range e.buckets {
			reads = append(reads, read{e, pipe.HGetAll(ctx, p.bucketKey(e.name, e.buckets, b))})
		}
	}
	if len(reads) == 0 {
		return nil, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("wsredis: presence clients: %w", err)
	}
	var out []hub.ClientInfo
	for _, r := range reads {
		for f, v := range r.cmd.Val() {
			info := hub.ClientInfo{ID: clientID(r.e.address, f), Node: r.e.name, LastSeen: time.UnixMilli(r.e.beat)}
			if !decodeClient(v, &info) {
				continue
			}
			if matchAll(info, filters) {
				out = append(out, info)
			}
		}
	}
	slices.SortFunc(out, func(a, b hub.ClientInfo) int {
		return cmp.Or(a.Connected.Compare(b.Connected), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func matchAll(c hub.ClientInfo, filters []hub.Filter) bool {
	for _, f := range filters {
		if f != nil && !f(c) {
			return false
		}
	}
	return true
}

// Channels counts the clients per channel over every live node, sorted by name.
func (p *RedisPresence) Channels(ctx context.Context) ([]hub.ChannelInfo, error) {
	return p.ChannelsExcept(ctx, "")
}

// ChannelsExcept counts the clients per channel over every live node but node: one HGETALL of each
// node's channel counts.
func (p *RedisPresence) ChannelsExcept(ctx context.Context, node string) ([]hub.ChannelInfo, error) {
	nodes, err := p.others(ctx, node)
	if err != nil {
		return nil, err
	}
	pipe := p.client.Pipeline()
	var cmds []*redis.MapStringStringCmd
	for _, e := range nodes {
		cmds = append(cmds, pipe.HGetAll(ctx, p.channelsKey(e.name)))
	}
	if len(cmds) == 0 {
		return []hub.ChannelInfo{}, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("wsredis: presence channels: %w", err)
	}
	counts := map[string]int{}
	for _, c := range cmds {
		for ch, v := range c.Val() {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				counts[ch] += n
			}
		}
	}
	out := make([]hub.ChannelInfo, 0, len(counts))
	for name, n := range counts {
		out = append(out, hub.ChannelInfo{Name: name, Clients: n})
	}
	slices.SortFunc(out, func(a, b hub.ChannelInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// ChannelExcept counts one channel's clients over every live node but node: one HGET per node.
func (p *RedisPresence) ChannelExcept(ctx context.Context, node, channel string) (int, error) {
	nodes, err := p.others(ctx, node)
	if err != nil || len(nodes) == 0 {
		return 0, err
	}
	pipe := p.client.Pipeline()
	var cmds []*redis.StringCmd
	for _, e := range nodes {
		cmds = append(cmds, pipe.HGet(ctx, p.channelsKey(e.name), channel))
	}
	_, err = pipe.Exec(ctx)
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("wsredis: presence channel: %w", err)
	}
	total := 0
	for _, c := range cmds {
		if n, err := c.Int(); err == nil {
			total += n
		}
	}
	return total, nil
}

// StatsExcept counts the live nodes but node and their clients, from the registry alone (the client
// counts are as of each node's last flush).
func (p *RedisPresence) StatsExcept(ctx context.Context, node string) (hub.PresenceStats, error) {
	nodes, err := p.others(ctx, node)
	if err != nil {
		return hub.PresenceStats{}, err
	}
	st := hub.PresenceStats{Nodes: len(nodes)}
	for _, e := range nodes {
		st.Clients += e.clients
	}
	return st, nil
}

// Stats returns the presence's counters.
func (p *RedisPresence) Stats() PresenceStats {
	return PresenceStats{Flushes: p.st.flushes.Load(), FlushErrors: p.st.flushErrors.Load(),
		Resyncs: p.st.resyncs.Load(), Reaped: p.st.reaped.Load()}
}

// Check pings Redis.
func (p *RedisPresence) Check(ctx context.Context) error {
	if err := p.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("wsredis: presence: %w", err)
	}
	return nil
}

// Close stops the writer and removes this node and its keys from Redis (other nodes see its clients
// gone at once), then closes the client if the presence made it.
func (p *RedisPresence) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	node, started := p.node, p.started
	p.mu.Unlock()
	var err error
	if started {
		close(p.stop)
		<-p.done
	}
	if node != "" {
		// The node's own layout goes too when its registration is gone: the
		// others may have taken it for dead (heartbeats late on an overloaded
		// machine) after its last full write, and then nothing else names
		// those keys. A million-connection shutdown left 6,208 such keys.
		p.mu.Lock()
		written := p.written
		p.mu.Unlock()
		err = reapScript.Run(ctx, p.client, []string{p.nodesKey()}, node, p.prefix, "force", written).Err()
		if err != nil {
			err = fmt.Errorf("wsredis: presence close: %w", err)
		}
	}
	if p.owned {
		if cerr := p.client.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

var (
	_ hub.ClusterPresence  = (*RedisPresence)(nil)
	_ hub.BufferedPresence = (*RedisPresence)(nil)
	_ hub.Checker          = (*RedisPresence)(nil)
)

// abandon stops the presence as a killed process would: no more heartbeats, nothing removed. Tests
// use it to play a dead node.
func (p *RedisPresence) abandon() {
	p.mu.Lock()
	p.closed = true
	started := p.started
	p.mu.Unlock()
	if started {
		close(p.stop)
		<-p.done
	}
}
