package hub

// One test per runa defect this package fixes (runa-compat.md section 4), each written so that runa's
// behaviour fails it.

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

// countingData counts how often it is encoded.
type countingData struct{ n *atomic.Int64 }

func (d countingData) MarshalJSON() ([]byte, error) {
	d.n.Add(1)
	return []byte(`{"v":1}`), nil
}

// Defect 1: runa encodes a packet twice per subscriber. Here the data is encoded once per publish and
// every subscriber is handed the same frame.
func TestDefect1EncodeOncePerPublish(t *testing.T) {
	h := newHub(t, Config{})
	var peers []*fakePeer
	for range 50 {
		c, p := connect(t, h)
		_ = c.Subscribe("room")
		peers = append(peers, p)
	}
	var n atomic.Int64
	if err := h.Publish("room", "e", countingData{&n}); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 1 {
		t.Fatalf("data encoded %d times for 50 subscribers", n.Load())
	}
	first := peers[0].nextFrame(t)
	for _, p := range peers[1:] {
		if p.nextFrame(t) != first {
			t.Fatal("subscribers got different frames")
		}
	}
	if got := string(payloadOf(t, first)); got != `{"channel":"room","event":"e","data":{"v":1}}` {
		t.Fatal(got)
	}
}

// Defect 2: runa keeps two goroutines, a ticker and a context per connection. Here an idle client has
// no goroutine and no context; a worker exists only while messages are being handled.
func TestDefect2NoGoroutinePerIdleClient(t *testing.T) {
	h := newHub(t, Config{})
	before := runtime.NumGoroutine()
	var clients []*Client
	for range 1000 {
		c, _ := connect(t, h) // waits for the connect's presence write to finish
		clients = append(clients, c)
	}
	if d := runtime.NumGoroutine() - before; d > 10 {
		t.Fatalf("%d goroutines for 1000 idle clients", d)
	}
	for _, c := range clients {
		send(h, c, `{"id":"1","event":"ping"}`)
	}
	for _, c := range clients {
		idle(t, c)
		if c.ctx != nil || c.box.queue != nil {
			t.Fatal("an idle client keeps a context or mailbox buffers")
		}
	}
	deadline := time.Now().Add(waitFor)
	for runtime.NumGoroutine()-before > 10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left after the messages were handled", runtime.NumGoroutine()-before)
		}
		time.Sleep(time.Millisecond)
	}
}

// With a Presence the hub writes to (Redis in a cluster), connecting and
// subscribing queue presence writes on the client's mailbox; once they are
// written the idle client keeps no queue either (100 bytes a client, 100 MB
// at a million).
func TestIdleClientKeepsNoQueueAfterPresenceWrites(t *testing.T) {
	pr := &presenceRecorder{Presence: NewMemoryPresence()}
	h := newHub(t, Config{Presence: pr})
	for range 100 {
		c, _ := connect(t, h)
		send(h, c, `{"id":"1","event":"subscribe","channel":"room"}`)
		idle(t, c)
		if c.box.queue != nil {
			t.Fatalf("an idle client keeps a mailbox queue of capacity %d after its presence writes", cap(c.box.queue))
		}
	}
}

// blockingPeer blocks in WritePrepared until released: a misbehaving transport.
type blockingPeer struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (p *blockingPeer) WritePrepared(*frame.Prepared) error {
	p.once.Do(func() { close(p.entered) })
	waitRelease(p.release)
	return nil
}
func (p *blockingPeer) Write(frame.OpCode, []byte) error    { return p.WritePrepared(nil) }
func (p *blockingPeer) Close(frame.CloseCode, string) error { return nil }
func (p *blockingPeer) RemoteAddr() net.Addr                { return nil }

// Defect 3: runa holds one mutex over clients, channels and handlers and copies the subscriber list
// on every publish. Here a publish holds no lock while writing (so a write that blocks, or a peer that
// calls back into the hub, stalls nothing else) and does not allocate per subscriber (see also
// TestPublishAllocsIndependentOfSubscribers).
func TestDefect3NoGlobalLockDuringPublish(t *testing.T) {
	h := newHub(t, Config{})
	c, _, _ := h.admit(upgradeRequest())
	bp := &blockingPeer{entered: make(chan struct{}), release: make(chan struct{})}
	h.open(c, bp)
	_ = c.Subscribe("a")
	done := make(chan error, 1)
	go func() { done <- h.Publish("a", "stuck", nil) }()
	await(t, bp.entered, "publish inside the blocking write")

	// While that publish is inside a write: subscribe to the same and other channels, publish elsewhere,
	// register handlers, list clients, connect and disconnect.
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		o, po := connect(t, h)
		_ = o.Subscribe("a")
		_ = o.Subscribe("b")
		_ = h.Publish("b", "free", nil)
		po.nextFrame(t)
		h.On("late", func(*Context) error { return nil })
		_ = h.Clients()
		_ = h.Channels()
		_ = o.Unsubscribe("a")
		_ = o.Close("bye")
	}()
	select {
	case <-finished:
	case <-time.After(waitFor):
		t.Fatal("hub operations blocked behind a publish's write")
	}
	close(bp.release)
	if err := await(t, done, "return of the publish once its write was released"); err != nil {
		t.Fatal(err)
	}
	_ = c.Close("")
	h.closed(c, 1000, "")
}

// reentrantPeer closes its client from inside WritePrepared, as a transport may when its queue is full.
type reentrantPeer struct {
	h *Hub
	c *Client
}

func (p *reentrantPeer) WritePrepared(*frame.Prepared) error {
	p.h.closed(p.c, frame.ClosePolicyViolation, string(ReasonSendBufferFull))
	return errPeerFull
}
func (p *reentrantPeer) Write(frame.OpCode, []byte) error { return p.WritePrepared(nil) }
func (p *reentrantPeer) Close(code frame.CloseCode, r string) error {
	p.h.closed(p.c, code, r)
	return nil
}
func (p *reentrantPeer) RemoteAddr() net.Addr { return nil }

func TestDefect3ReentrantCloseDuringPublish(t *testing.T) {
	h := newHub(t, Config{})
	var peers []*fakePeer
	for i := range 20 {
		if i%2 == 0 {
			c, _, _ := h.admit(upgradeRequest())
			h.open(c, &reentrantPeer{h, c})
			_ = c.Subscribe("room")
			continue
		}
		c, p := connect(t, h)
		_ = c.Subscribe("room")
		peers = append(peers, p)
	}
	done := make(chan error, 1)
	go func() { done <- h.Broadcast("x", nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitFor):
		t.Fatal("deadlock: a peer closing itself during a publish")
	}
	if err := h.Publish("room", "y", nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		p.nextFrame(t)
		p.nextFrame(t)
	}
	if ci, _ := h.Channel("room"); ci.Clients != 10 {
		t.Fatalf("room has %d clients", ci.Clients)
	}
}

// Defect 4: runa drops close codes and reasons (everything reaches the client as 1006). Here kick,
// shutdown and a full send buffer each close with their own code and reason.
func TestDefect4CloseCodesReachTheClient(t *testing.T) {
	h := New("codes", Config{})
	kicked, pk := connect(t, h)
	_, pfull := connect(t, h)
	pfull.limit = 1
	_, pstop := connect(t, h)

	if err := h.Kick(kicked.ID(), "misbehaving"); err != nil {
		t.Fatal(err)
	}
	if code, reason := pk.waitClosed(t); code != 4000 || reason != "misbehaving" {
		t.Fatalf("kick: %d %q", code, reason)
	}
	_ = h.Broadcast("one", nil)
	_ = h.Broadcast("two", nil) // pfull's queue holds one: it overflows
	if code, reason := pfull.waitClosed(t); code != 1008 || reason != "send buffer full" {
		t.Fatalf("full: %d %q", code, reason)
	}
	if err := stopHub(h); err != nil {
		t.Fatal(err)
	}
	if code, reason := pstop.waitClosed(t); code != 1001 || reason != "server shutdown" {
		t.Fatalf("stop: %d %q", code, reason)
	}
}

// Defect 5: in runa the first full send buffer disconnects a client and fails the whole Publish. Here
// the slow client is closed and the publish succeeds for everyone else.
func TestDefect5SlowConsumerDoesNotFailPublish(t *testing.T) {
	h := newHub(t, Config{})
	var peers []*fakePeer
	for i := range 5 {
		c, p := connect(t, h)
		_ = c.Subscribe("room")
		if i == 0 {
			p.limit = 1
			_ = c.Send("fill", nil) // its queue is now full
		}
		peers = append(peers, p)
	}
	if err := h.Publish("room", "news", 1); err != nil {
		t.Fatalf("publish failed because of one slow client: %v", err)
	}
	if code, reason := peers[0].waitClosed(t); code != 1008 || reason != "send buffer full" {
		t.Fatalf("slow client closed with %d %q", code, reason)
	}
	for _, p := range peers[1:] {
		if got := p.nextRaw(t); got != `{"channel":"room","event":"news","data":1}` {
			t.Fatal(got)
		}
	}
	if err := h.Publish("room", "again", 2); err != nil {
		t.Fatal(err)
	}
	for _, p := range peers[1:] {
		p.nextFrame(t)
	}
	st := h.Stats()
	if st.SlowClients != 1 || st.Dropped != 1 || st.Clients != 4 {
		t.Fatalf("stats %+v", st)
	}
}

// Defect 6: runa runs handlers on the read loop, so a slow handler starves pongs and drops the client.
// Here message() (the read path) returns at once while the handler blocks, and the connection lives.
func TestDefect6SlowHandlerDoesNotBlockReadPath(t *testing.T) {
	h := newHub(t, Config{})
	release := make(chan struct{})
	h.On("slow", func(ctx *Context) error { waitRelease(release); return nil })
	c, p := connect(t, h)
	send(h, c, `{"id":"1","event":"slow"}`)
	returned := make(chan struct{})
	go func() {
		for range 10 {
			send(h, c, `{"id":"2","event":"ping"}`)
		}
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(time.Second):
		t.Fatal("the read path blocked behind a slow handler")
	}
	time.Sleep(10 * time.Millisecond)
	if p.isClosed() {
		t.Fatal("client dropped")
	}
	close(release)
	for range 11 {
		p.nextFrame(t)
	}
}

// Defect 7: runa writes presence on every inbound message and pong. Here presence is written on
// connect, subscribe, unsubscribe and disconnect only.
func TestDefect7PresenceNotWrittenPerMessage(t *testing.T) {
	pr := &presenceRecorder{Presence: NewMemoryPresence()}
	h := newHub(t, Config{Presence: pr})
	c, p := connect(t, h)
	if pr.sets.Load() != 1 {
		t.Fatalf("connect: %d sets", pr.sets.Load())
	}
	for range 100 {
		send(h, c, `{"id":"1","event":"ping"}`)
	}
	for range 100 {
		p.nextFrame(t)
	}
	idle(t, c)
	if pr.sets.Load() != 1 {
		t.Fatalf("100 messages wrote presence %d times", pr.sets.Load()-1)
	}
	send(h, c, `{"id":"2","event":"subscribe","channel":"room"}`)
	p.nextFrame(t)
	idle(t, c)
	if pr.sets.Load() != 2 {
		t.Fatalf("subscribe: %d sets", pr.sets.Load())
	}
	list, _ := pr.Clients(context.Background(), ByChannel("room"))
	if len(list) != 1 || list[0].ID != c.ID() {
		t.Fatalf("presence after subscribe: %+v", list)
	}
	send(h, c, `{"id":"3","event":"unsubscribe","channel":"room"}`)
	p.nextFrame(t)
	idle(t, c)
	if pr.sets.Load() != 3 {
		t.Fatalf("unsubscribe: %d sets", pr.sets.Load())
	}
	_ = p.Close(1000, "")
	idle(t, c)
	if pr.removes.Load() != 1 || pr.sets.Load() != 3 {
		t.Fatalf("disconnect: %d removes, %d sets", pr.removes.Load(), pr.sets.Load())
	}
	if list, _ := pr.Clients(context.Background()); len(list) != 0 {
		t.Fatalf("presence after disconnect: %+v", list)
	}
}

// Defect 9: runa's connection ids are a per-process counter (equal across nodes), or the Identity.ID,
// so a user's second tab replaces the first. Here ids are unique across hubs and a user's
// connections all stay connected and are all reached by Send and Kick with the user id.
func TestDefect9ConnectionIDs(t *testing.T) {
	auth := func(r *http.Request) (Identity, error) { return Identity{ID: "user-1"}, nil }
	h1 := newHub(t, Config{Auth: auth})
	h2 := newHub(t, Config{Auth: auth})
	seen := map[string]bool{}
	var tabs []*fakePeer
	for _, h := range []*Hub{h1, h2, h1, h2} {
		c, p := connect(t, h)
		if seen[c.ID()] {
			t.Fatalf("connection id %s repeated across nodes", c.ID())
		}
		if c.ID() == "user-1" {
			t.Fatal("the user id is used as the connection id")
		}
		seen[c.ID()] = true
		tabs = append(tabs, p)
	}
	if tabs[0].isClosed() || h1.Stats().Clients != 2 {
		t.Fatal("the second connection of a user replaced the first")
	}
	if err := h1.Send("user-1", "hi", nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*fakePeer{tabs[0], tabs[2]} {
		if got := p.nextRaw(t); got != `{"event":"hi"}` {
			t.Fatal(got)
		}
	}
	if err := h1.Kick("user-1", "bye"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*fakePeer{tabs[0], tabs[2]} {
		if code, _ := p.waitClosed(t); code != CloseKicked {
			t.Fatal(code)
		}
	}
	if tabs[1].isClosed() || tabs[3].isClosed() {
		t.Fatal("kick on one node closed the other node's clients")
	}
}

// Defect 14: runa sends a second automatic ack after a Reply, drops errors of messages without an id,
// and drops the client on malformed JSON.
func TestDefect14OneResponseAndVisibleErrors(t *testing.T) {
	h := newHub(t, Config{})
	h.On("reply", func(ctx *Context) error { return ctx.Reply("r") })
	h.On("fail", func(ctx *Context) error { return NewError(409, "nope") })
	c, p := connect(t, h)

	send(h, c, `{"id":"1","event":"reply"}`)
	if got := p.nextRaw(t); got != `{"id":"1","event":"reply","ok":true,"data":"r"}` {
		t.Fatal(got)
	}
	idle(t, c)
	if p.pending() != 0 {
		t.Fatalf("a second response followed the Reply: %s", p.nextRaw(t))
	}

	send(h, c, `{"event":"fail"}`)
	if got := p.nextRaw(t); got != `{"event":"error","data":{"event":"fail","code":409,"message":"nope"}}` {
		t.Fatal(got)
	}

	// Malformed JSON: answered (by id when the id could be read before the error), never dropped.
	send(h, c, `{"id":"2","event":`)
	if m := p.next(t); m["id"] != "2" || m["ok"] != false || m["code"] != float64(400) {
		t.Fatalf("malformed JSON with an id: %v", m)
	}
	send(h, c, `not json`)
	m := p.next(t)
	data, _ := m["data"].(map[string]any)
	if m["event"] != "error" || data["code"] != float64(400) {
		t.Fatalf("malformed JSON: %v", m)
	}
	if p.isClosed() {
		t.Fatal("malformed JSON dropped the client")
	}
	send(h, c, `{"id":"3","event":"ping"}`)
	if got := p.next(t); got["id"] != "3" || got["ok"] != true {
		t.Fatal(got)
	}
}

// countPeer accepts every frame without allocating.
type countPeer struct{ n atomic.Int64 }

func (p *countPeer) WritePrepared(*frame.Prepared) error { p.n.Add(1); return nil }
func (p *countPeer) Write(frame.OpCode, []byte) error    { p.n.Add(1); return nil }
func (p *countPeer) Close(frame.CloseCode, string) error { return nil }
func (p *countPeer) RemoteAddr() net.Addr                { return nil }

// subscribeN opens n clients on countPeers subscribed to channel.
func subscribeN(tb testing.TB, h *Hub, channel string, n int) []*Client {
	tb.Helper()
	out := make([]*Client, n)
	for i := range out {
		c, _, _ := h.admit(upgradeRequest())
		h.open(c, &countPeer{})
		if err := c.Subscribe(channel); err != nil {
			tb.Fatal(err)
		}
		out[i] = c
	}
	for _, c := range out {
		idle(tb, c)
	}
	return out
}

// Allocations per publish do not grow with the number of subscribers (defects 1 and 3).
func TestPublishAllocsIndependentOfSubscribers(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 clients")
	}
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector; make test runs this without -race")
	}
	// AllocsPerRun counts every allocation of the process: wait until the
	// goroutines other tests' hubs left behind (idle workers) are gone.
	waitQuiet(t)
	h := New("allocs", Config{})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		for _, c := range h.all.snapshot() {
			h.closed(c, 1000, "")
		}
		_ = h.Stop(ctx)
	}()
	subscribeN(t, h, "one", 1)
	subscribeN(t, h, "many", 10000)
	data := json.RawMessage(`{"text":"hello"}`)
	// AllocsPerRun counts every allocation of the process, so goroutines left
	// by other tests can only add to a figure: the least of a few tries is
	// the publish's own.
	one := minAllocs(5, 200, func() { _ = h.Publish("one", "e", data) })
	many := minAllocs(5, 20, func() { _ = h.Publish("many", "e", data) })
	t.Logf("allocs per publish: 1 subscriber %.1f, 10,000 subscribers %.1f", one, many)
	if many > one {
		t.Fatalf("allocations grow with subscribers: %.1f for 1, %.1f for 10,000", one, many)
	}
}

func minAllocs(tries, runs int, f func()) float64 {
	least := math.Inf(1)
	for range tries {
		least = min(least, testing.AllocsPerRun(runs, f))
	}
	return least
}

// waitQuiet waits until no goroutine but the caller runs code of this
// package, so that process-wide allocation counts are the caller's own.
func waitQuiet(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		busy := 0
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "surge-ws/ws/hub.") && !strings.Contains(g, t.Name()) && !strings.Contains(g, "hub.TestMain") {
				busy++
			}
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of other tests still run", busy)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
