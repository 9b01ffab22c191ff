package hub

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// twoNodes starts two hubs named "test" on one MemoryBroker and MemoryPresence, as nodes n1 and n2.
func twoNodes(t *testing.T) (h1, h2 *Hub) {
	t.Helper()
	b := NewMemoryBroker()
	pr := NewMemoryPresence()
	h1 = newHub(t, Config{Broker: b, Presence: pr, Node: "n1"})
	h2 = newHub(t, Config{Broker: b, Presence: pr, Node: "n2"})
	for _, h := range []*Hub{h1, h2} {
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return h1, h2
}

// runa's Send, Kick and KickChannel reach local clients only (defect 11). Here a command travels
// through the ClusterBroker to the node that holds the client.
func TestClusterSendAndKick(t *testing.T) {
	h1, h2 := twoNodes(t)
	r := upgradeRequest()
	h2.Configure(Config{Auth: func(*http.Request) (Identity, error) { return Identity{ID: "u"}, nil }})
	c2, p2 := connectReq(t, h2, r)
	c1, p1 := connect(t, h1)

	if err := h1.Send(c2.ID(), "by-id", 1); err != nil {
		t.Fatal(err)
	}
	if got := p2.nextRaw(t); got != `{"event":"by-id","data":1}` {
		t.Fatalf("send by connection id on another node: %s", got)
	}
	if err := h1.SendMany([]string{"u", c1.ID()}, "by-user", 2); err != nil {
		t.Fatal(err)
	}
	if got := p2.nextRaw(t); got != `{"event":"by-user","data":2}` {
		t.Fatalf("send by user id on another node: %s", got)
	}
	if got := p1.nextRaw(t); got != `{"event":"by-user","data":2}` {
		t.Fatalf("send to the local connection: %s", got)
	}
	// A connection id of this node that is gone is not looked for elsewhere.
	if err := h1.Send(h1.Address()+"zzz", "e", 1); !errors.Is(err, ErrClientNotFound) {
		t.Fatalf("send to a gone local id: %v", err)
	}

	if err := h1.Kick(c2.ID(), "go away"); err != nil {
		t.Fatal(err)
	}
	if code, reason := p2.waitClosed(t); code != CloseKicked || reason != "go away" {
		t.Fatalf("kicked on another node with %d %q", code, reason)
	}
	time.Sleep(10 * time.Millisecond)
	if p1.isClosed() {
		t.Fatal("a kick for n2's client closed n1's")
	}

	c3, p3 := connect(t, h2)
	if err := c3.Subscribe("room"); err != nil {
		t.Fatal(err)
	}
	if err := h1.KickChannel("room", "room closed"); err != nil {
		t.Fatal(err)
	}
	if code, reason := p3.waitClosed(t); code != CloseKicked || reason != "room closed" {
		t.Fatalf("kick channel on another node: %d %q", code, reason)
	}
}

// A command reaches the node whose address the connection id carries, and no other.
func TestCommandGoesToOneNode(t *testing.T) {
	b := &commandRecorder{MemoryBroker: NewMemoryBroker()}
	h1 := newHub(t, Config{Broker: b, Node: "n1"})
	h2 := newHub(t, Config{Broker: b, Node: "n2"})
	h3 := newHub(t, Config{Broker: b, Node: "n3"})
	for _, h := range []*Hub{h1, h2, h3} {
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	c3, _ := connect(t, h3)
	if err := h1.Kick(c3.ID(), "x"); err != nil {
		t.Fatal(err)
	}
	cmds := b.commands()
	if len(cmds) != 1 || cmds[0].Target != h3.Address() || cmds[0].Kind != CommandKick ||
		len(cmds[0].IDs) != 1 || cmds[0].IDs[0] != c3.ID() || cmds[0].Origin != "n1" {
		t.Fatalf("commands %+v, want one kick for %s", cmds, h3.Address())
	}
	if err := h1.Kick("some-user", "x"); err != nil {
		t.Fatal(err)
	}
	if cmds := b.commands(); len(cmds) != 2 || cmds[1].Target != "" {
		t.Fatalf("a user id goes to every node: %+v", cmds)
	}
}

// Hubs of different names on one Broker never see each other's packets.
func TestHubsApartOnOneBroker(t *testing.T) {
	b := NewMemoryBroker()
	ha := New("a", Config{Broker: b, Node: "na"})
	hb := New("b", Config{Broker: b, Node: "nb"})
	ha2 := New("a", Config{Broker: b, Node: "na2"})
	for _, h := range []*Hub{ha, hb, ha2} {
		t.Cleanup(func() { _ = stopHub(h) })
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	cb, pb := connect(t, hb)
	ca2, pa2 := connect(t, ha2)
	_ = cb.Subscribe("room")
	_ = ca2.Subscribe("room")
	if err := ha.Publish("room", "e", 1); err != nil {
		t.Fatal(err)
	}
	if got := pa2.nextRaw(t); got != `{"channel":"room","event":"e","data":1}` {
		t.Fatalf("hub a's other node got %s", got)
	}
	time.Sleep(10 * time.Millisecond)
	if pb.pending() != 0 {
		t.Fatal("hub b got hub a's packet")
	}
}

// A packet that comes from a Broker with its wire form is sent as those bytes: nothing is encoded
// again on the receiving node.
func TestFromBrokerSendsEncodedBytes(t *testing.T) {
	h := newHub(t, Config{Node: "n1"})
	c, p := connect(t, h)
	_ = c.Subscribe("room")
	wire := `{"channel":"room","event":"e","data":"as sent"}`
	if err := h.fromBroker(Packet{Channel: "room", Event: "e", Data: []byte(`"not this"`), Origin: "n2",
		Encoded: []byte(wire)}); err != nil {
		t.Fatal(err)
	}
	if got := p.nextRaw(t); got != wire {
		t.Fatalf("delivered %s, want the encoded bytes %s", got, wire)
	}
}

// The hub hands the Broker the packet's wire form, the same bytes its local subscribers get.
func TestPublishHandsEncodedToBroker(t *testing.T) {
	b := &commandRecorder{MemoryBroker: NewMemoryBroker()}
	h := newHub(t, Config{Broker: b, Node: "n1"})
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, p := connect(t, h)
	_ = c.Subscribe("room")
	if err := h.Publish("room", "e", map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	local := p.nextRaw(t)
	got := b.encoded()
	if len(got) != 1 || got[0] != local || local != `{"channel":"room","event":"e","data":{"n":1}}` {
		t.Fatalf("broker got %q, local subscriber %q", got, local)
	}
}

// commandRecorder records the commands and the encoded packets that reach a MemoryBroker.
type commandRecorder struct {
	*MemoryBroker
	mu   sync.Mutex
	cmds []Command
	enc  []string
}

func (b *commandRecorder) Command(ctx context.Context, hub string, cmd Command) error {
	b.mu.Lock()
	cmd.IDs = append([]string(nil), cmd.IDs...)
	b.cmds = append(b.cmds, cmd)
	b.mu.Unlock()
	return b.MemoryBroker.Command(ctx, hub, cmd)
}

func (b *commandRecorder) PublishHub(ctx context.Context, hub, channel string, p Packet) error {
	b.mu.Lock()
	b.enc = append(b.enc, string(p.Encoded))
	b.mu.Unlock()
	return b.MemoryBroker.PublishHub(ctx, hub, channel, p)
}

func (b *commandRecorder) commands() []Command {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Command(nil), b.cmds...)
}

func (b *commandRecorder) encoded() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.enc...)
}

// With a ClusterPresence the hub counts its own clients exactly and asks the Presence for the others'.
func TestClusterCounts(t *testing.T) {
	h1, h2 := twoNodes(t)
	a, _ := connect(t, h1)
	b, _ := connect(t, h2)
	c, _ := connect(t, h2)
	for _, x := range []*Client{a, b, c} {
		_ = x.Subscribe("room")
		idle(t, x)
	}
	_ = c.Subscribe("side")
	idle(t, c)
	for _, h := range []*Hub{h1, h2} {
		if ci, ok := h.Channel("room"); !ok || ci.Clients != 3 {
			t.Fatalf("%s: room %+v", h.Node(), ci)
		}
		if ci, ok := h.Channel("side"); !ok || ci.Clients != 1 {
			t.Fatalf("%s: side %+v", h.Node(), ci)
		}
		if got := h.Channels(); !slices.Equal(got, []ChannelInfo{{"room", 3}, {"side", 1}}) {
			t.Fatalf("%s: channels %+v", h.Node(), got)
		}
		if st := h.ClusterStats(); st != (ClusterStats{Nodes: 2, Clients: 3, Channels: 2}) {
			t.Fatalf("%s: cluster stats %+v", h.Node(), st)
		}
		if list := h.Clients(ByChannel("side")); len(list) != 1 || list[0].ID != c.ID() {
			t.Fatalf("%s: clients in side %+v", h.Node(), list)
		}
	}
}

// A hub on an InterestBroker announces its channels: those it had when it started, then each first
// subscriber and each last one leaving, in order.
func TestInterestAnnouncements(t *testing.T) {
	b := &interestRecorder{MemoryBroker: NewMemoryBroker()}
	h := newHub(t, Config{Broker: b, Node: "n1"})
	c1, _ := connect(t, h)
	c2, _ := connect(t, h)
	_ = c1.Subscribe("before")
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := b.member.Channels(); len(got) != 1 || got[0] != "before" {
		t.Fatalf("channels at start %v", got)
	}
	_ = c1.Subscribe("room")
	_ = c2.Subscribe("room") // not the first: no announcement
	_ = c1.Unsubscribe("room")
	_ = c2.Unsubscribe("room") // the last: off
	_ = c1.Close("bye")        // leaves "before"
	want := []string{"+room", "-room", "-before"}
	within := time.Now().Add(waitFor)
	for {
		got := b.announced()
		if slices.Equal(got, want) {
			break
		}
		if time.Now().After(within) {
			t.Fatalf("announced %v, want %v", got, want)
		}
		time.Sleep(time.Millisecond)
	}
}

type interestRecorder struct {
	*MemoryBroker
	mu     sync.Mutex
	member Member
	seen   []string
}

func (b *interestRecorder) SubscribeHub(ctx context.Context, m Member) error {
	b.member = m
	return b.MemoryBroker.SubscribeHub(ctx, m)
}

func (b *interestRecorder) Interest(hub, node, channel string, on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if hub != "test" || node != "n1" {
		b.seen = append(b.seen, "wrong hub or node")
	}
	if on {
		b.seen = append(b.seen, "+"+channel)
	} else {
		b.seen = append(b.seen, "-"+channel)
	}
}

func (b *interestRecorder) announced() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.seen)
}
