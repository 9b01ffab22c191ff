package hub

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestMemoryBrokerBetweenHubs(t *testing.T) {
	b := NewMemoryBroker()
	pr := NewMemoryPresence()
	h1 := newHub(t, Config{Broker: b, Presence: pr, Node: "n1"})
	h2 := newHub(t, Config{Broker: b, Presence: pr, Node: "n2"})
	for _, h := range []*Hub{h1, h2} {
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	c1, p1 := connect(t, h1)
	c2, p2 := connect(t, h2)
	_ = c1.Subscribe("room")
	_ = c2.Subscribe("room")
	idle(t, c1)
	idle(t, c2)

	if err := h1.Publish("room", "chat", "hi"); err != nil {
		t.Fatal(err)
	}
	want := `{"channel":"room","event":"chat","data":"hi"}`
	for _, p := range []*fakePeer{p1, p2} {
		if got := p.nextRaw(t); got != want {
			t.Fatal(got)
		}
	}
	if err := h2.Broadcast("all", 1); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*fakePeer{p1, p2} {
		if got := p.nextRaw(t); got != `{"event":"all","data":1}` {
			t.Fatal(got)
		}
	}
	// Exactly once each: the publisher's own packet coming back through the broker is dropped.
	time.Sleep(10 * time.Millisecond)
	if p1.pending() != 0 || p2.pending() != 0 {
		t.Fatal("a packet was delivered twice")
	}
	// A broker echoing a node's own packet back: dropped by the hub too.
	if err := h1.fromBroker(Packet{Channel: "room", Event: "echo", Origin: "n1"}); err != nil {
		t.Fatal(err)
	}
	if p1.pending() != 0 {
		t.Fatal("own-origin packet delivered")
	}

	// The shared presence gives each hub the cluster's clients and channels.
	for _, h := range []*Hub{h1, h2} {
		if got := h.Clients(); len(got) != 2 {
			t.Fatalf("%s sees %d clients", h.Node(), len(got))
		}
		if got := h.Channels(); len(got) != 1 || got[0].Clients != 2 {
			t.Fatalf("%s sees channels %+v", h.Node(), got)
		}
		if info, ok := h.Client(c2.ID()); !ok || info.Node != "n2" {
			t.Fatalf("client of n2 via %s: %+v", h.Node(), info)
		}
	}
}

func TestMemoryBroker(t *testing.T) {
	b := NewMemoryBroker()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []string
	sub := func(node string) func(Packet) error {
		return func(p Packet) error {
			mu.Lock()
			got = append(got, node+":"+p.Channel+":"+p.Event)
			mu.Unlock()
			return nil
		}
	}
	if err := b.Subscribe(ctx, "a", sub("a")); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe(context.Background(), "b", sub("b")); err != nil {
		t.Fatal(err)
	}
	_ = b.Publish(context.Background(), "ch", Packet{Event: "e1", Origin: "a"})
	cancel() // a's subscription ends
	deadline := time.Now().Add(waitFor)
	for {
		b.mu.RLock()
		n := len(b.subs)
		b.mu.RUnlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("subscription not removed on cancel")
		}
		time.Sleep(time.Millisecond)
	}
	_ = b.Publish(context.Background(), "", Packet{Event: "e2", Origin: "c"})
	mu.Lock()
	if len(got) != 2 || got[0] != "b:ch:e1" || got[1] != "b::e2" {
		t.Fatalf("deliveries %v", got)
	}
	mu.Unlock()
	if err := b.Subscribe(ctx, "x", sub("x")); err == nil {
		t.Fatal("subscribe with a done context")
	}
	_ = b.Close(context.Background())
	if err := b.Publish(context.Background(), "ch", Packet{}); !errors.Is(err, ErrBrokerClosed) {
		t.Fatal(err)
	}
	if err := b.Subscribe(context.Background(), "y", sub("y")); !errors.Is(err, ErrBrokerClosed) {
		t.Fatal(err)
	}
}

func TestMemoryPresence(t *testing.T) {
	p := NewMemoryPresence()
	ctx := context.Background()
	t0 := time.Now()
	_ = p.Set(ctx, ClientInfo{ID: "c2", UserID: "u", Node: "n", Channels: []string{"b", "a"}, Connected: t0.Add(time.Second)})
	_ = p.Set(ctx, ClientInfo{ID: "c1", Node: "n", Channels: []string{"a"}, Connected: t0})
	_ = p.Set(ctx, ClientInfo{ID: "c3", Node: "m", Connected: t0})
	list, err := p.Clients(ctx)
	if err != nil || len(list) != 3 || list[0].ID != "c1" || list[1].ID != "c3" || list[2].ID != "c2" {
		t.Fatalf("clients %+v %v", list, err)
	}
	if list[2].Channels[0] != "a" {
		t.Fatal("channels not sorted")
	}
	if list, _ := p.Clients(ctx, ByChannel("b")); len(list) != 1 || list[0].ID != "c2" {
		t.Fatalf("by channel %+v", list)
	}
	if list, _ := p.Clients(ctx, ByID("u")); len(list) != 1 || list[0].ID != "c2" {
		t.Fatalf("by user %+v", list)
	}
	chans, _ := p.Channels(ctx)
	if len(chans) != 2 || chans[0] != (ChannelInfo{"a", 2}) || chans[1] != (ChannelInfo{"b", 1}) {
		t.Fatalf("channels %+v", chans)
	}
	_ = p.Set(ctx, ClientInfo{ID: "c2", Node: "n"}) // replaces
	_ = p.Remove(ctx, "c1")
	_ = p.Remove(ctx, "unknown")
	if chans, _ := p.Channels(ctx); len(chans) != 0 {
		t.Fatalf("channels after changes %+v", chans)
	}
	_ = p.Close(ctx)
	if _, err := p.Clients(ctx); !errors.Is(err, ErrPresenceClosed) {
		t.Fatal(err)
	}
	if err := p.Set(ctx, ClientInfo{ID: "x"}); !errors.Is(err, ErrPresenceClosed) {
		t.Fatal(err)
	}
}

// failingPresence fails every call: the hub logs and answers from local state.
type failingPresence struct{ Presence }

func (failingPresence) Set(context.Context, ClientInfo) error { return errors.New("down") }
func (failingPresence) Remove(context.Context, string) error  { return errors.New("down") }
func (failingPresence) Clients(context.Context, ...Filter) ([]ClientInfo, error) {
	return nil, errors.New("down")
}
func (failingPresence) Close(context.Context) error { return nil }

func TestPresenceFailureFallsBackToLocal(t *testing.T) {
	h := newHub(t, Config{Presence: failingPresence{}, Logger: discardLogger()})
	c, _ := connect(t, h)
	_ = c.Subscribe("a")
	if got := h.Clients(); len(got) != 1 || got[0].ID != c.ID() {
		t.Fatalf("%+v", got)
	}
	if got := h.Channels(); len(got) != 1 {
		t.Fatalf("%+v", got)
	}
}

// The default Presence is a view of the hub's own clients: nothing is written, no worker runs.
func TestDefaultPresenceIsLocalView(t *testing.T) {
	h := newHub(t, Config{})
	c, _, _ := h.admit(upgradeRequest())
	h.open(c, newFakePeer(h, c))
	c.box.mu.Lock()
	busy := c.box.running
	c.box.mu.Unlock()
	if busy {
		t.Fatal("connect started a worker for the default presence")
	}
	_ = c.Subscribe("room")
	list, err := h.Presence().Clients(context.Background(), ByChannel("room"))
	if err != nil || len(list) != 1 || list[0].ID != c.ID() {
		t.Fatalf("%+v %v", list, err)
	}
	chans, _ := h.Presence().Channels(context.Background())
	if len(chans) != 1 || chans[0] != (ChannelInfo{"room", 1}) {
		t.Fatalf("%+v", chans)
	}
}

// Every publish goes to the Broker, whether or not this node has a subscriber: the subscribers may all
// be on other nodes.
func TestPublishReachesBroker(t *testing.T) {
	tests := []struct {
		name    string
		publish func(t *testing.T, h *Hub, c *Client, p *fakePeer) error
		want    Packet
	}{
		{"no local subscriber", func(_ *testing.T, h *Hub, _ *Client, _ *fakePeer) error {
			return h.Publish("elsewhere", "e", 1)
		}, Packet{Channel: "elsewhere", Event: "e", Data: []byte("1")}},
		{"a local subscriber", func(t *testing.T, h *Hub, c *Client, p *fakePeer) error {
			if err := c.Subscribe("here"); err != nil {
				return err
			}
			err := h.Publish("here", "e", 2)
			p.nextFrame(t)
			return err
		}, Packet{Channel: "here", Event: "e", Data: []byte("2")}},
		{"broadcast", func(t *testing.T, h *Hub, _ *Client, p *fakePeer) error {
			err := h.Broadcast("b", 3)
			p.nextFrame(t)
			return err
		}, Packet{Event: "b", Data: []byte("3")}},
		{"from a handler, no local subscriber", func(t *testing.T, h *Hub, c *Client, p *fakePeer) error {
			h.On("say", func(ctx *Context) error { return ctx.Publish("elsewhere", "said", ctx.Message().Data) })
			send(h, c, `{"id":"1","event":"say","data":4}`)
			if got := p.nextRaw(t); got != okReply("1", "say") {
				t.Fatalf("handler answered %s", got)
			}
			return nil
		}, Packet{Channel: "elsewhere", Event: "said", Data: []byte("4")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &publishRecorder{Broker: NewMemoryBroker()}
			h := newHub(t, Config{Broker: b, Node: "n1"})
			c, p := connect(t, h)
			if err := tc.publish(t, h, c, p); err != nil {
				t.Fatal(err)
			}
			got := b.packets()
			if len(got) != 1 {
				t.Fatalf("the broker got %d packets, want 1: %+v", len(got), got)
			}
			tc.want.Origin = "n1"
			if g := got[0]; g.Channel != tc.want.Channel || g.Event != tc.want.Event ||
				string(g.Data) != string(tc.want.Data) || g.Origin != tc.want.Origin {
				t.Fatalf("the broker got %+v, want %+v", g, tc.want)
			}
		})
	}
}
