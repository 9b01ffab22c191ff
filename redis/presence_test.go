package wsredis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surge-ws/ws/hub"
)

func newTestPresence(t *testing.T, c redis.UniversalClient, prefix string, o Options) *RedisPresence {
	t.Helper()
	o.Client, o.PresencePrefix, o.Logger = c, prefix, quietLogger()
	p := NewPresence(o)
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

func info(node, address string, n int, channels ...string) hub.ClientInfo {
	return hub.ClientInfo{ID: address + strconv.FormatInt(int64(n), 36), UserID: "u" + strconv.Itoa(n%3),
		Name: "user " + strconv.Itoa(n), Node: node, Channels: channels, IP: "192.0.2.7",
		Connected: time.UnixMilli(1764700000000 + int64(n))}
}

func ids(list []hub.ClientInfo) []string {
	var out []string
	for _, c := range list {
		out = append(out, c.ID)
	}
	return out
}

func TestPresenceAcrossNodes(t *testing.T) {
	c := testClient(t)
	prefix := testPrefix(t, c)
	ctx := context.Background()
	a := newTestPresence(t, c, prefix, Options{})
	b := newTestPresence(t, c, prefix, Options{})
	if err := a.Join(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if err := b.Join(ctx, "B"); err != nil {
		t.Fatal(err)
	}
	const addrA = "aaaaaaaaaaaaaaaa-"
	for i := 1; i <= 3; i++ {
		chans := []string{"room"}
		if i == 3 {
			chans = []string{"side", "room"}
		}
		if err := a.Set(ctx, info("A", addrA, i, chans...)); err != nil {
			t.Fatal(err)
		}
	}
	_ = b.Set(ctx, info("B", "bbbbbbbbbbbbbbbb-", 1, "room"))
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := b.ClientsExcept(ctx, "B")
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(list); !slices.Equal(got, []string{addrA + "1", addrA + "2", addrA + "3"}) {
		t.Fatalf("B sees A's clients %v", got)
	}
	want := info("A", addrA, 3, "room", "side")
	if got := list[2]; got.UserID != want.UserID || got.Name != want.Name || got.Node != "A" ||
		!slices.Equal(got.Channels, want.Channels) || !got.Connected.Equal(want.Connected) || got.IP != want.IP {
		t.Fatalf("client %+v, want %+v", got, want)
	}
	if list, _ := b.ClientsExcept(ctx, "B", hub.ByChannel("side")); len(list) != 1 {
		t.Fatalf("filter: %+v", list)
	}
	if all, _ := a.Clients(ctx); len(all) != 4 {
		t.Fatalf("Clients lists %d, want 4", len(all))
	}
	chans, err := b.ChannelsExcept(ctx, "B")
	if err != nil || len(chans) != 2 || chans[0] != (hub.ChannelInfo{Name: "room", Clients: 3}) ||
		chans[1] != (hub.ChannelInfo{Name: "side", Clients: 1}) {
		t.Fatalf("channels %+v %v", chans, err)
	}
	if n, err := a.ChannelExcept(ctx, "A", "room"); n != 1 || err != nil {
		t.Fatalf("room on B: %d %v", n, err)
	}
	if st, err := a.StatsExcept(ctx, "nobody"); err != nil || st != (hub.PresenceStats{Nodes: 2, Clients: 4}) {
		t.Fatalf("stats %+v %v", st, err)
	}

	// Changes: a client leaves a channel, another disconnects.
	_ = a.Set(ctx, info("A", addrA, 3, "room"))
	_ = a.Remove(ctx, addrA+"1")
	_ = a.Remove(ctx, "unknown")
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := b.ClientsExcept(ctx, "B"); !slices.Equal(ids(list), []string{addrA + "2", addrA + "3"}) {
		t.Fatalf("after changes B sees %v", ids(list))
	}
	if chans, _ := b.ChannelsExcept(ctx, "B"); len(chans) != 1 || chans[0].Clients != 2 {
		t.Fatalf("after changes: %+v", chans)
	}

	// Close removes the node at once.
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := b.Clients(ctx); len(list) != 1 || list[0].Node != "B" {
		t.Fatalf("after A closed: %+v", list)
	}
	if n := c.Exists(ctx, a.channelsKey("A"), a.bucketKey("A", 1, 0)).Val(); n != 0 {
		t.Fatalf("A's keys are left: %d", n)
	}
}

// Presence writes in batches: a thousand connects cost a handful of pipelines, nothing per message, and
// nothing reads the keyspace (KEYS, SCAN).
func TestPresenceWritesInBatches(t *testing.T) {
	srv := startRedis(t) // its own server: the command counts below are exact
	c := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer c.Close()
	ctx := context.Background()
	p := newTestPresence(t, c, "p:", Options{FlushInterval: time.Hour, HeartbeatInterval: time.Hour, NodeTTL: 2 * time.Hour})
	other := newTestPresence(t, c, "p:", Options{FlushInterval: time.Hour, HeartbeatInterval: time.Hour, NodeTTL: 2 * time.Hour})
	for i := range 1000 {
		if err := p.Set(ctx, info("A", "aaaaaaaaaaaaaaaa-", i, "room", "c"+strconv.Itoa(i%10))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ClientsExcept(ctx, "B"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ChannelsExcept(ctx, "B"); err != nil {
		t.Fatal(err)
	}
	st := c.Info(ctx, "commandstats").Val()
	if n := commandCalls(st, "keys") + commandCalls(st, "scan"); n != 0 {
		t.Fatalf("%d KEYS/SCAN calls", n)
	}
	// 1000 clients: 64 buckets, one HSET each, plus the channel counts; two flushes at most (the
	// kick at FlushSize and the explicit one).
	if n := commandCalls(st, "hset"); n > 2*(64+1) {
		t.Fatalf("%d HSET for 1000 clients", n)
	}
	if fl := p.Stats().Flushes; fl > 3 {
		t.Fatalf("%d flushes for 1000 clients", fl)
	}
	list, _ := other.ClientsExcept(ctx, "B")
	if len(list) != 1000 {
		t.Fatalf("other node sees %d clients", len(list))
	}
	t.Logf("HSET calls %d, flushes %d, buckets %d", commandCalls(st, "hset"), p.Stats().Flushes, p.buckets)
}

// A node that stops beating (killed) drops out of the others' reads within NodeTTL, and one of them
// deletes its keys.
func TestPresenceDeadNodeDropsOut(t *testing.T) {
	c := testClient(t)
	prefix := testPrefix(t, c)
	ctx := context.Background()
	fast := Options{HeartbeatInterval: 50 * time.Millisecond, NodeTTL: 300 * time.Millisecond, FlushInterval: 20 * time.Millisecond}
	dead := newTestPresence(t, c, prefix, fast)
	alive := newTestPresence(t, c, prefix, fast)
	_ = alive.Join(ctx, "alive")
	for i := range 10 {
		_ = dead.Set(ctx, info("dead", "dddddddddddddddd-", i, "room"))
	}
	if err := dead.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := alive.ClientsExcept(ctx, "alive"); len(list) != 10 {
		t.Fatalf("alive sees %d clients of the other node", len(list))
	}
	dead.abandon() // as if SIGKILLed: no more heartbeats, nothing removed
	died := time.Now()
	within(t, 2*time.Second, "the dead node's clients leave the reads", func() bool {
		list, err := alive.ClientsExcept(ctx, "alive")
		return err == nil && len(list) == 0
	})
	gone := time.Since(died)
	within(t, 2*time.Second, "the dead node's keys are deleted", func() bool {
		return c.Exists(ctx, alive.channelsKey("dead")).Val() == 0 && !c.HExists(ctx, alive.nodesKey(), "dead").Val()
	})
	if gone > 300*time.Millisecond+200*time.Millisecond {
		t.Fatalf("dead node left the reads after %v, NodeTTL is 300ms", gone)
	}
	// The reap counts itself after the script's reply, so the keys can be gone a moment before.
	within(t, 2*time.Second, "the alive node counts the reap", func() bool { return alive.Stats().Reaped != 0 })
	if n := alive.Stats().Reaped; n != 1 {
		t.Fatalf("reaped %d", n)
	}
	if n := c.Exists(ctx, alive.bucketKey("dead", 1, 0)).Val(); n != 0 {
		t.Fatal("a client hash of the dead node is left")
	}
}

// A Redis that restarted empty gets every client of a live node back within a heartbeat.
func TestPresenceRewritesAfterRedisLostIt(t *testing.T) {
	srv := startRedis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.addr(), DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	ctx := context.Background()
	o := Options{HeartbeatInterval: 100 * time.Millisecond, FlushInterval: 20 * time.Millisecond}
	p := newTestPresence(t, c, "p:", o)
	reader := newTestPresence(t, c, "p:", o)
	for i := range 100 {
		_ = p.Set(ctx, info("A", "aaaaaaaaaaaaaaaa-", i, "room"))
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	srv.stop()
	time.Sleep(150 * time.Millisecond)
	srv.start()
	within(t, 2*time.Second, "the node's clients are back in Redis", func() bool {
		list, err := reader.ClientsExcept(ctx, "reader")
		n, _ := reader.ChannelExcept(ctx, "reader", "room")
		return err == nil && len(list) == 100 && n == 100
	})
	// The rewrite counts itself after its pipeline's reply, so the reader can see it a moment before.
	within(t, 2*time.Second, "the node counts its rewrite after the restart", func() bool { return p.Stats().Resyncs >= 2 })
}

// Redis memory per connected client, the figure docs/scaling.md quotes: 100,000 clients of one node,
// INFO memory before and after. The target is 150 bytes.
func TestPresenceMemoryPerClient(t *testing.T) {
	srv := startRedis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer c.Close()
	ctx := context.Background()
	used := func() int64 {
		for _, line := range strings.Split(c.Info(ctx, "memory").Val(), "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		t.Fatal("no used_memory in INFO memory")
		return 0
	}
	p := newTestPresence(t, c, "runa:ws:", Options{FlushInterval: time.Hour, HeartbeatInterval: time.Hour, NodeTTL: 2 * time.Hour, FlushSize: 1 << 30})
	if err := p.Join(ctx, "host-1234-0a1b2c3d"); err != nil {
		t.Fatal(err)
	}
	before := used()
	const n = 100_000
	for i := range n {
		ci := hub.ClientInfo{ID: "0123456789abcdef-" + strconv.FormatInt(int64(i+1), 36), UserID: "user-" + strconv.Itoa(i),
			Name: "User " + strconv.Itoa(i), Node: "host-1234-0a1b2c3d", Channels: []string{"room"},
			IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), Connected: time.Now()}
		_ = p.Set(ctx, ci)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	after := used()
	per := float64(after-before) / n
	t.Logf("Redis used_memory %d -> %d: %.1f bytes per client (%d buckets)", before, after, per, p.buckets)
	if per > 150 {
		t.Fatalf("%.1f bytes per client, target 150", per)
	}
	if list, err := p.ClientsExcept(ctx, "other"); err != nil || len(list) != n {
		t.Fatalf("read back %d clients: %v", len(list), err)
	}
	// What the figure rests on: every hash of the node kept Redis's compact encoding.
	for i := range p.buckets {
		if enc := c.ObjectEncoding(ctx, p.bucketKey("host-1234-0a1b2c3d", p.buckets, i)).Val(); enc != "listpack" {
			t.Fatalf("bucket %d of %d is %q, not listpack", i, p.buckets, enc)
		}
	}
}

// A process that takes the name of one that died (a restarted pod) starts clean: what its
// predecessor left is gone at once, not after NodeTTL.
func TestPresenceSameNameStartsClean(t *testing.T) {
	c := testClient(t)
	prefix := testPrefix(t, c)
	ctx := context.Background()
	old := newTestPresence(t, c, prefix, Options{})
	for i := range 5 {
		_ = old.Set(ctx, info("X", "0000000000000000-", i, "room"))
	}
	if err := old.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	old.abandon()
	next := newTestPresence(t, c, prefix, Options{})
	if err := next.Join(ctx, "X"); err != nil {
		t.Fatal(err)
	}
	_ = next.Set(ctx, info("X", "1111111111111111-", 1, "room"))
	if err := next.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	reader := newTestPresence(t, c, prefix, Options{})
	if list, _ := reader.ClientsExcept(ctx, "reader"); len(list) != 1 || list[0].ID != "1111111111111111-1" {
		t.Fatalf("after the restart under the same name: %v", ids(list))
	}
	if n, _ := reader.ChannelExcept(ctx, "reader", "room"); n != 1 {
		t.Fatalf("room counts %d", n)
	}
}

// A node without changes does not flush (no ticker: 55 idle nodes would wake
// 550 times a second for nothing), and a change is still written by itself,
// without waiting for a heartbeat.
func TestPresenceFlushesOnlyAfterChanges(t *testing.T) {
	c := testClient(t)
	prefix := testPrefix(t, c)
	ctx := context.Background()
	o := Options{FlushInterval: 10 * time.Millisecond, HeartbeatInterval: time.Hour, NodeTTL: 2 * time.Hour}
	a := newTestPresence(t, c, prefix, o)
	b := newTestPresence(t, c, prefix, o)
	if err := a.Join(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the join's first beat
	before, wakes := a.Stats().Flushes, a.wakes.Load()
	time.Sleep(300 * time.Millisecond) // 30 flush intervals, no heartbeat due
	if n := a.wakes.Load() - wakes; n != 0 {
		t.Fatalf("an idle node's writer woke %d times in 30 flush intervals", n)
	}
	if err := a.Set(ctx, info("A", "aaaaaaaaaaaaaaaa-", 1, "room")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := b.ClientsExcept(ctx, "B")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for the change to reach Redis by itself (FlushInterval 10ms); other node sees %d clients", len(list))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := a.Stats().Flushes - before; n != 1 {
		t.Fatalf("%d flushes for one change, want 1", n)
	}
}

// A node that the others took for dead after its last full write (its heartbeat late on an
// overloaded machine) has no registration, and nothing else names its keys: its Close must still
// delete them, and an older layout that was not deleted when the layout grew. Million-connection
// shutdowns left 6,208 and 5,632 keys (22 layouts of 256 buckets) before it did.
func TestPresenceCloseWithoutRegistrationDeletesKeys(t *testing.T) {
	c := testClient(t)
	prefix := testPrefix(t, c)
	ctx := context.Background()
	a := NewPresence(Options{Client: c, PresencePrefix: prefix, Logger: quietLogger(),
		FlushInterval: time.Hour, HeartbeatInterval: time.Hour, NodeTTL: 2 * time.Hour})
	if err := a.Join(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	for i := range 300 { // more than one bucket
		if err := a.Set(ctx, info("A", "aaaaaaaaaaaaaaaa-", i, "room")); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	keys := func() []string {
		var out []string
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			out = append(out, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if n := len(keys()); n < 3 {
		t.Fatalf("%d keys after the flush, want the registration, buckets and channel counts", n)
	}
	if err := c.HDel(ctx, a.nodesKey(), "A").Err(); err != nil { // what a reaper's HDEL leaves
		t.Fatal(err)
	}
	// An older layout whose deletion after the layout grew failed (an overloaded Redis).
	if err := c.HSet(ctx, prefix+"c:A:4:2", "x", "y").Err(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left := keys(); len(left) != 0 {
		t.Fatalf("after Close, %d keys left: %v", len(left), left)
	}
}
