package wsredis

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/hub"
)

// node is a hub served on a loopback port, on a Broker and Presence of its own.
type node struct {
	h   *hub.Hub
	b   *RedisBroker
	url string
}

func startNode(t *testing.T, addr, name string) *node {
	return startNodeLayout(t, addr, name, LayoutChannel)
}

func startNodeLayout(t *testing.T, addr, name string, layout Layout) *node {
	t.Helper()
	o := Options{Addr: addr, DialTimeout: 200 * time.Millisecond, Layout: layout, Logger: quietLogger()}
	b := NewBroker(o)
	o.PresencePrefix = "p:"
	// A send queue of 1024: a client of these tests must not be closed as a slow consumer when the
	// race detector and a busy machine hold its reader up for a while (32 messages is 64 ms here).
	h := hub.New("chat", hub.Config{Broker: b, Presence: NewPresence(o), Node: name, Logger: quietLogger(),
		SendBuffer: 1024})
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := hub.NewMux()
	m.Mount("/ws", h)
	srv := m.Server(nil)
	ln, err := conn.Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Stop(ctx)
		_ = srv.Shutdown(ctx)
		_ = ln.Close()
	})
	return &node{h: h, b: b, url: "ws://" + ln.Addr().String() + "/ws"}
}

// ticks is a client that records the data of the "tick" packets it receives, with their arrival.
type ticks struct {
	mu     sync.Mutex
	closed string
	got    []int
	at     []time.Time
	resp   chan struct{}
}

func dialTicks(t *testing.T, url, channel string) *ticks {
	t.Helper()
	k := &ticks{resp: make(chan struct{}, 1)}
	d := &conn.Dialer{Handler: conn.HandlerFuncs{Message: func(_ *conn.Conn, _ frame.OpCode, p []byte) {
		var m struct {
			Event string
			Data  int
			OK    *bool
		}
		if json.Unmarshal(p, &m) != nil {
			return
		}
		if m.OK != nil {
			k.resp <- struct{}{}
			return
		}
		k.mu.Lock()
		k.got, k.at = append(k.got, m.Data), append(k.at, time.Now())
		k.mu.Unlock()
	}, Close: func(_ *conn.Conn, code frame.CloseCode, reason string) {
		k.mu.Lock()
		k.closed = strconv.Itoa(int(code)) + " " + reason
		k.mu.Unlock()
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := d.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(frame.CloseNormal, "") })
	if err := c.Write(frame.OpText, []byte(`{"id":"1","event":"subscribe","channel":"`+channel+`"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.resp:
	case <-time.After(5 * time.Second):
		t.Fatal("no answer to subscribe within 5s")
	}
	return k
}

func (k *ticks) snapshot() ([]int, []time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]int(nil), k.got...), append([]time.Time(nil), k.at...)
}

// Redis stopped and started again under a steady publish stream: the publishing node's own
// subscriber gets every packet throughout, the other node's gets them again within 2 s of Redis being
// back, and the counters account for every packet that did not cross.
func TestPublishStreamThroughRedisRestart(t *testing.T) {
	bothLayouts(t, testPublishStreamThroughRedisRestart)
}

func testPublishStreamThroughRedisRestart(t *testing.T, layout Layout) {
	srv := startRedis(t)
	a, b := startNodeLayout(t, srv.addr(), "A", layout), startNodeLayout(t, srv.addr(), "B", layout)
	local, remote := dialTicks(t, a.url, "room"), dialTicks(t, b.url, "room")

	var down, up time.Time
	sent, refused, lastAccepted := 0, 0, -1
	start := time.Now()
	for time.Since(start) < 4500*time.Millisecond {
		switch el := time.Since(start); {
		case down.IsZero() && el > 500*time.Millisecond:
			srv.stop()
			down = time.Now()
		case up.IsZero() && el > 1500*time.Millisecond:
			srv.start()
			up = time.Now()
		}
		if err := a.h.Publish("room", "tick", sent); err != nil {
			if !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrBacklog) {
				t.Fatalf("publish %d: %v", sent, err)
			}
			refused++
		} else {
			lastAccepted = sent
		}
		sent++
		time.Sleep(2 * time.Millisecond)
	}

	// Local fan-out never stopped: every packet, in order, none late.
	within(t, 5*time.Second, "the local subscriber gets every packet", func() bool {
		got, _ := local.snapshot()
		return len(got) == sent
	})
	got, at := local.snapshot()
	for i, v := range got {
		if v != i {
			t.Fatalf("local subscriber: packet %d is %d", i, v)
		}
	}
	duringOutage := 0
	for _, ts := range at {
		if ts.After(down) && ts.Before(up) {
			duringOutage++
		}
	}
	if duringOutage < 100 {
		t.Fatalf("the local subscriber got %d packets while Redis was down", duringOutage)
	}

	// The remote's tail is still on its way when the local one is complete:
	// packets in flight are not lost.
	within(t, 5*time.Second, "the remote subscriber gets the last accepted packet", func() bool {
		got, _ := remote.snapshot()
		return len(got) > 0 && got[len(got)-1] == lastAccepted
	})

	// Cross-node delivery came back within 2 s of Redis.
	rgot, rat := remote.snapshot()
	resumed := time.Duration(-1)
	for i, ts := range rat {
		if ts.After(up) && i > 0 {
			resumed = ts.Sub(up)
			break
		}
	}
	if resumed < 0 || resumed > 2*time.Second {
		t.Fatalf("remote delivery resumed %v after Redis came back (remote got %d, closed %q; A %+v; B %+v)", resumed, len(rgot), remote.closed, a.b.Stats(), b.b.Stats())
	}
	for i := 1; i < len(rgot); i++ {
		if rgot[i] <= rgot[i-1] {
			t.Fatalf("remote subscriber: %d after %d", rgot[i], rgot[i-1])
		}
	}
	sa, sb := a.b.Stats(), b.b.Stats()
	lost := sent - len(rgot)
	t.Logf("sent %d (refused %d), remote got %d after resuming %v; A: %+v; B: %+v",
		sent, refused, len(rgot), resumed.Round(time.Millisecond), sa, sb)
	// Every packet that crossed nodes or not is accounted for: refused at the sender, or a gap the
	// receiver counted.
	if uint64(lost) != uint64(refused)+sb.Gaps || uint64(refused) > sa.PublishErrors {
		t.Fatalf("lost %d across nodes, counted refused %d + gaps %d (publish errors %d)",
			lost, refused, sb.Gaps, sa.PublishErrors)
	}
	if lost == 0 {
		t.Fatal("nothing was lost while Redis was down for a second")
	}
}

// With LayoutChannel a packet reaches the nodes that have subscribers of its channel and no other:
// Redis holds a node's channel while the node has a subscriber.
func TestLayoutChannelReachesInterestedNodesOnly(t *testing.T) {
	srv := startRedis(t)
	a, b, c := startNode(t, srv.addr(), "A"), startNode(t, srv.addr(), "B"), startNode(t, srv.addr(), "C")
	onB := dialTicks(t, b.url, "room") // subscribed after B started: announced through Interest
	_ = dialTicks(t, c.url, "other")
	for i := range 10 {
		if err := a.h.Publish("room", "tick", i); err != nil {
			t.Fatal(err)
		}
	}
	within(t, 5*time.Second, "B's client gets the ten packets", func() bool {
		got, _ := onB.snapshot()
		return len(got) == 10
	})
	if got := c.b.Stats().Received; got != 0 {
		t.Fatalf("C, without a subscriber of room, received %d packets", got)
	}
	// A broadcast still reaches every node.
	if err := a.h.Broadcast("all", 1); err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, "C receives the broadcast", func() bool { return c.b.Stats().Received == 1 })

	// Redis holds ws:chat#room for B alone, and lets it go when B's last subscriber leaves.
	rc := a.b.client
	numsub := func(ch string) int64 {
		return rc.PubSubNumSub(context.Background(), ch).Val()[ch]
	}
	if n := numsub("ws:chat#room"); n != 1 {
		t.Fatalf("ws:chat#room has %d subscribers, want 1 (B)", n)
	}
	if n := numsub("ws:chat#other"); n != 1 {
		t.Fatalf("ws:chat#other has %d subscribers, want 1 (C)", n)
	}
	b.h.KickChannel("room", "bye")
	within(t, 5*time.Second, "B unsubscribes room when its subscriber leaves", func() bool { return numsub("ws:chat#room") == 0 })
}
