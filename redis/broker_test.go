package wsredis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/surge-ws/ws/hub"
)

// inbox collects what a Member receives.
type inbox struct {
	mu      sync.Mutex
	packets []hub.Packet
	cmds    []hub.Command
	signal  chan struct{}
}

func newInbox() *inbox { return &inbox{signal: make(chan struct{}, 1)} }

func (in *inbox) member(hubName, node, address string) hub.Member {
	return hub.Member{Hub: hubName, Node: node, Address: address,
		Channels: func() []string { return []string{"room", "ch"} }, // the channels the tests publish to
		Packet: func(p hub.Packet) error {
			p.Encoded = append([]byte(nil), p.Encoded...) // borrowed
			in.mu.Lock()
			in.packets = append(in.packets, p)
			in.mu.Unlock()
			in.poke()
			return nil
		},
		Command: func(c hub.Command) error {
			c.Packet.Encoded = append([]byte(nil), c.Packet.Encoded...)
			in.mu.Lock()
			in.cmds = append(in.cmds, c)
			in.mu.Unlock()
			in.poke()
			return nil
		}}
}

func (in *inbox) poke() {
	select {
	case in.signal <- struct{}{}:
	default:
	}
}

func (in *inbox) counts() (int, int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.packets), len(in.cmds)
}

// waitCounts waits until the inbox holds packets and cmds, and fails if it ever holds more.
func (in *inbox) waitCounts(t *testing.T, what string, packets, cmds int) {
	t.Helper()
	within(t, 5*time.Second, what, func() bool {
		p, c := in.counts()
		if p > packets || c > cmds {
			t.Fatalf("%s: %d packets and %d commands, want %d and %d", what, p, c, packets, cmds)
		}
		return p == packets && c == cmds
	})
}

func newTestBroker(t *testing.T, c redis.UniversalClient, prefix string, layout Layout) *RedisBroker {
	t.Helper()
	b := NewBroker(Options{Client: c, Channel: prefix + "ws", Layout: layout, Logger: quietLogger()})
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	return b
}

func TestBrokerCarriesPacketsBetweenNodesOfOneHub(t *testing.T) {
	bothLayouts(t, testBrokerCarriesPacketsBetweenNodesOfOneHub)
}

func testBrokerCarriesPacketsBetweenNodesOfOneHub(t *testing.T, layout Layout) {
	c := testClient(t)
	prefix := testPrefix(t, c)
	a, b, other := newTestBroker(t, c, prefix, layout), newTestBroker(t, c, prefix, layout), newTestBroker(t, c, prefix, layout)
	inA, inB, inOther := newInbox(), newInbox(), newInbox()
	ctx := context.Background()
	for _, s := range []struct {
		br *RedisBroker
		m  hub.Member
	}{
		{a, inA.member("chat", "A", "aaaaaaaaaaaaaaaa-")},
		{b, inB.member("chat", "B", "bbbbbbbbbbbbbbbb-")},
		{other, inOther.member("news", "C", "cccccccccccccccc-")},
	} {
		if err := s.br.SubscribeHub(ctx, s.m); err != nil {
			t.Fatal(err)
		}
	}
	wire := `{"channel":"room","event":"say","data":{"text":"hi"}}`
	p := hub.Packet{Channel: "room", Event: "say", Data: []byte(`{"text":"hi"}`), Origin: "A", Encoded: []byte(wire)}
	if err := a.PublishHub(ctx, "chat", "room", p); err != nil {
		t.Fatal(err)
	}
	inB.waitCounts(t, "B gets A's packet", 1, 0)
	got := inB.packets[0]
	if got.Channel != "room" || got.Event != "say" || string(got.Data) != `{"text":"hi"}` ||
		string(got.Encoded) != wire || got.Origin != "A" {
		t.Fatalf("B got %+v", got)
	}
	// A packet without its wire form (a runa-shaped caller) is encoded by the broker.
	if err := a.PublishHub(ctx, "chat", "", hub.Packet{Event: "all", Data: []byte(`[1, 2]`), Origin: "A"}); err != nil {
		t.Fatal(err)
	}
	inB.waitCounts(t, "B gets A's broadcast", 2, 0)
	if got := inB.packets[1]; string(got.Encoded) != `{"event":"all","data":[1,2]}` || string(got.Data) != `[1,2]` {
		t.Fatalf("B got %+v (%s)", got, got.Encoded)
	}
	time.Sleep(50 * time.Millisecond)
	if n, _ := inA.counts(); n != 0 {
		t.Fatal("A got its own packet back")
	}
	if n, _ := inOther.counts(); n != 0 {
		t.Fatal("hub news got hub chat's packet")
	}
	if st := a.Stats(); st.Published != 2 || st.PublishErrors != 0 {
		t.Fatalf("A's stats %+v", st)
	}
	if st := b.Stats(); st.Received != 2 || st.Gaps != 0 {
		t.Fatalf("B's stats %+v", st)
	}
}

func TestBrokerCommandsReachTheirNode(t *testing.T) { bothLayouts(t, testBrokerCommandsReachTheirNode) }

func testBrokerCommandsReachTheirNode(t *testing.T, layout Layout) {
	c := testClient(t)
	prefix := testPrefix(t, c)
	a, b, cc := newTestBroker(t, c, prefix, layout), newTestBroker(t, c, prefix, layout), newTestBroker(t, c, prefix, layout)
	inB, inC := newInbox(), newInbox()
	ctx := context.Background()
	if err := b.SubscribeHub(ctx, inB.member("chat", "B", "bbbbbbbbbbbbbbbb-")); err != nil {
		t.Fatal(err)
	}
	if err := cc.SubscribeHub(ctx, inC.member("chat", "C", "cccccccccccccccc-")); err != nil {
		t.Fatal(err)
	}
	kick := hub.Command{Kind: hub.CommandKick, Target: "cccccccccccccccc-", IDs: []string{"cccccccccccccccc-1"},
		Reason: "bye", Origin: "A"}
	if err := a.Command(ctx, "chat", kick); err != nil {
		t.Fatal(err)
	}
	inC.waitCounts(t, "C gets the kick for its client", 0, 1)
	if got := inC.cmds[0]; got.Kind != hub.CommandKick || got.Reason != "bye" || len(got.IDs) != 1 ||
		got.IDs[0] != "cccccccccccccccc-1" || got.Origin != "A" {
		t.Fatalf("C got %+v", got)
	}
	send := hub.Command{Kind: hub.CommandSend, IDs: []string{"user-7"}, Origin: "A",
		Packet: hub.Packet{Event: "dm", Data: []byte(`"psst"`), Encoded: []byte(`{"event":"dm","data":"psst"}`)}}
	if err := a.Command(ctx, "chat", send); err != nil {
		t.Fatal(err)
	}
	inB.waitCounts(t, "B gets the send for a user", 0, 1)
	inC.waitCounts(t, "C gets the send for a user", 0, 2)
	if got := inB.cmds[0]; got.Kind != hub.CommandSend || string(got.Packet.Encoded) != `{"event":"dm","data":"psst"}` ||
		string(got.Packet.Data) != `"psst"` || got.Packet.Event != "dm" {
		t.Fatalf("B got %+v", got)
	}
}

// Concurrent publishes share pipelines: one PUBLISH per packet, whatever the number of nodes, in
// fewer round trips than packets; each publisher's packets arrive in order.
func TestBrokerBatchesAndKeepsOrder(t *testing.T) { bothLayouts(t, testBrokerBatchesAndKeepsOrder) }

func testBrokerBatchesAndKeepsOrder(t *testing.T, layout Layout) {
	srv := startRedis(t) // its own server: the PUBLISH count below is exact
	c := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer c.Close()
	a := newTestBroker(t, c, "", layout)
	var receivers []*RedisBroker
	var inboxes []*inbox
	for i := range 5 {
		r := newTestBroker(t, c, "", layout)
		in := newInbox()
		if err := r.SubscribeHub(context.Background(), in.member("h", "R"+strconv.Itoa(i), "")); err != nil {
			t.Fatal(err)
		}
		receivers, inboxes = append(receivers, r), append(inboxes, in)
	}
	const writers, each = 20, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				data := fmt.Sprintf(`[%d,%d]`, w, i)
				p := hub.Packet{Event: "e", Data: []byte(data), Origin: "A",
					Encoded: []byte(`{"event":"e","data":` + data + `}`)}
				if err := a.PublishHub(context.Background(), "h", "ch", p); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, in := range inboxes {
		if !t.Failed() {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("A %+v; receiver %d %+v", a.Stats(), i, receivers[i].Stats())
				}
			})
		}
		in.waitCounts(t, "receiver "+strconv.Itoa(i)+" gets every packet", writers*each, 0)
		next := make([]int, writers)
		for _, p := range in.packets {
			var w, n int
			fmt.Sscanf(string(p.Data), "[%d,%d]", &w, &n)
			if n != next[w] {
				t.Fatalf("receiver %d: writer %d's packet %d came after %d", i, w, n, next[w]-1)
			}
			next[w]++
		}
	}
	st := a.Stats()
	info := c.Info(context.Background(), "commandstats").Val()
	calls := commandCalls(info, "publish")
	if st.Published != writers*each || calls != writers*each {
		t.Fatalf("published %d, Redis counted %d PUBLISH, want %d", st.Published, calls, writers*each)
	}
	if st.Batches >= writers*each {
		t.Fatalf("%d pipelines for %d packets: no batching", st.Batches, writers*each)
	}
	t.Logf("%d packets in %d pipelines", st.Published, st.Batches)
}

// commandCalls reads the calls of one command from INFO commandstats.
func commandCalls(info, cmd string) int {
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

// While Redis is down, publishes fail at once (counted); when it is back, the subscription comes
// back by itself and the receiver counts the packets it missed.
func TestBrokerSurvivesRedisRestart(t *testing.T) { bothLayouts(t, testBrokerSurvivesRedisRestart) }

func testBrokerSurvivesRedisRestart(t *testing.T, layout Layout) {
	srv := startRedis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.addr(), DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	a, b := newTestBroker(t, c, "", layout), newTestBroker(t, c, "", layout)
	in := newInbox()
	if err := b.SubscribeHub(context.Background(), in.member("h", "B", "")); err != nil {
		t.Fatal(err)
	}
	publish := func(i int) error {
		d := strconv.Itoa(i)
		return a.PublishHub(context.Background(), "h", "ch", hub.Packet{Event: "e", Data: []byte(d), Origin: "A",
			Encoded: []byte(`{"event":"e","data":` + d + `}`)})
	}
	sent, refused := 0, 0
	for i := range 50 {
		if publish(i) != nil {
			t.Fatal("publish failed with Redis up")
		}
		sent++
	}
	in.waitCounts(t, "packets before the restart", 50, 0)
	srv.stop()
	stopped := time.Now()
	for time.Since(stopped) < time.Second {
		if err := publish(sent); err != nil {
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("publish with Redis down: %v", err)
			}
			refused++
		}
		sent++
		time.Sleep(time.Millisecond)
	}
	srv.start()
	back := time.Now()
	// Publish until B receives again; that must happen within 2 s of Redis being back.
	var resumed time.Duration
	for {
		before, _ := in.counts()
		if publish(sent) != nil {
			refused++
		}
		sent++
		time.Sleep(5 * time.Millisecond)
		if now, _ := in.counts(); now > before && now > 50 {
			resumed = time.Since(back)
			break
		}
		if time.Since(back) > 2*time.Second {
			t.Fatalf("no packet reached B within 2s of Redis being back (stats A %+v B %+v)", a.Stats(), b.Stats())
		}
	}
	got, _ := in.counts()
	sa, sb := a.Stats(), b.Stats()
	t.Logf("resumed %v after Redis came back; sent %d, refused %d, B received %d; A %+v; B %+v",
		resumed, sent, refused, got, sa, sb)
	if refused == 0 {
		t.Fatal("no publish was refused while Redis was down for a second: they were queued for later")
	}
	if sa.PublishErrors < uint64(refused) || sa.PublishErrors == 0 {
		t.Fatalf("publish errors %d, refused %d: a second without Redis must fail publishes", sa.PublishErrors, refused)
	}
	if sb.Disconnects == 0 || sb.Resubscribes == 0 {
		t.Fatalf("B's subscription: %+v", sb)
	}
	// Every packet that was given a sequence number either arrived or is counted as a gap.
	within(t, 2*time.Second, "B accounts for every packet", func() bool {
		got, _ = in.counts()
		sb = b.Stats()
		return uint64(got)+sb.Gaps == uint64(sent-refused)
	})
}

// bothLayouts runs f with each Layout.
func bothLayouts(t *testing.T, f func(*testing.T, Layout)) {
	t.Run("channel", func(t *testing.T) { f(t, LayoutChannel) })
	t.Run("hub", func(t *testing.T) { f(t, LayoutHub) })
}
