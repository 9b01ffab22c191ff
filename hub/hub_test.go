package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

func TestDefaults(t *testing.T) {
	h := New("", Config{})
	defer stopHub(h)
	if h.Name() != "default" {
		t.Fatal(h.Name())
	}
	cfg := h.Config()
	tc := h.TransportConfig()
	want := TransportConfig{MaxMessageSize: 64 << 10, WriteTimeout: 5 * time.Second,
		PingInterval: 30 * time.Second, PongTimeout: 10 * time.Second, SendBuffer: 32}
	if tc != want {
		t.Fatalf("transport config %+v", tc)
	}
	if cfg.ReceiveBuffer != 256 || cfg.Broker == nil || cfg.Presence == nil || cfg.Logger == nil {
		t.Fatalf("config %+v", cfg)
	}
	if cfg.MaxChannelsPerClient != 128 || cfg.MaxChannelLength != 255 || cfg.MessageRate != 100 || cfg.MessageBurst != 200 {
		t.Fatalf("limits %+v", cfg)
	}
	if cfg.Node == "" || cfg.Node == "local" {
		t.Fatalf("node %q", cfg.Node)
	}
	h2 := New("", Config{})
	defer stopHub(h2)
	if h2.Node() == h.Node() {
		t.Fatal("two default hubs share a node id")
	}
}

func TestConfigure(t *testing.T) {
	h := newHub(t, Config{SendBuffer: 8, Origin: []string{"a.com"}})
	h.Configure(Config{MaxMessageSize: 100, PingInterval: time.Second})
	cfg := h.Config()
	if cfg.SendBuffer != 8 || cfg.MaxMessageSize != 100 || cfg.PingInterval != time.Second ||
		len(cfg.Origin) != 1 || cfg.WriteTimeout != DefaultWriteTimeout {
		t.Fatalf("merged %+v", cfg)
	}
	b := NewMemoryBroker()
	h.Configure(Config{Broker: b, Node: "n1"})
	if h.Broker() != b || h.Node() != "n1" {
		t.Fatal("broker or node not replaced before Start")
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.Configure(Config{Logger: discardLogger()})
	h.Configure(Config{Broker: NewMemoryBroker(), Node: "n2", SendBuffer: 9})
	if h.Broker() != b || h.Node() != "n1" || h.Config().SendBuffer != 9 {
		t.Fatal("Broker or Node changed after Start, or a limit did not")
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct {
		patterns []string
		origin   string
		ok       bool
	}{
		{nil, "", true},
		{nil, "http://example.com", true},
		{nil, "https://EXAMPLE.com", true},
		{nil, "http://evil.com", false},
		{nil, "null", false},
		{[]string{"http://localhost:3000"}, "http://localhost:3000", true},
		{[]string{"http://localhost:3000"}, "https://localhost:3000", false},
		{[]string{"http://localhost:3000"}, "http://example.com", false}, // a list replaces same-host
		{[]string{"HTTP://LocalHost:3000/"}, "http://localhost:3000", true},
		{[]string{"localhost:3000"}, "https://localhost:3000", true},
		{[]string{"*.example.org"}, "https://app.example.org", true},
		{[]string{"*.example.org"}, "https://example.org", false},
		{[]string{"https://*.example.org"}, "http://app.example.org", false},
		{[]string{"https://*.example.org"}, "https://App.Example.org", true},
		{[]string{"*"}, "http://anything.net", true},
		{[]string{"*"}, "null", true},
		{[]string{"null"}, "null", true},
		{[]string{"a.com"}, "", true},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.patterns, ",")+"|"+tc.origin, func(t *testing.T) {
			h := newHub(t, Config{Origin: tc.patterns})
			r := upgradeRequest()
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			c, status, msg := h.admit(r)
			if tc.ok != (c != nil) {
				t.Fatalf("admit = %v %d %q, want ok=%v", c != nil, status, msg, tc.ok)
			}
			if !tc.ok && status != http.StatusForbidden {
				t.Fatalf("status %d", status)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	h := newHub(t, Config{Auth: func(r *http.Request) (Identity, error) {
		switch r.URL.Query().Get("token") {
		case "good":
			ck, _ := r.Cookie("session")
			return Identity{ID: "u-" + ck.Value, Name: r.Header.Get("X-Name")}, nil
		case "teapot":
			return Identity{}, NewError(418, "short and stout")
		}
		return Identity{}, errors.New("invalid token")
	}})
	r := upgradeRequest()
	if c, status, msg := h.admit(r); c != nil || status != 401 || msg != "invalid token" {
		t.Fatalf("no token: %v %d %q", c, status, msg)
	}
	r = httptestRequest("/ws?token=teapot")
	if c, status, msg := h.admit(r); c != nil || status != 418 || msg != "short and stout" {
		t.Fatalf("coded: %v %d %q", c, status, msg)
	}
	r = httptestRequest("/ws?token=good")
	r.AddCookie(&http.Cookie{Name: "session", Value: "42"})
	r.Header.Set("X-Name", "Ann")
	c, p := connectReq(t, h, r)
	if id := c.Identity(); id.ID != "u-42" || id.Name != "Ann" {
		t.Fatalf("identity %+v", id)
	}
	info := c.Info()
	if info.IP != "192.0.2.1" || info.UserAgent != "test-agent" || info.UserID != "u-42" {
		t.Fatalf("info %+v", info)
	}
	_ = p
}

func httptestRequest(target string) *http.Request {
	r := upgradeRequest()
	u := *r.URL
	r.URL = &u
	r.URL.RawQuery = strings.SplitN(target, "?", 2)[1]
	return r
}

func TestPublishBroadcast(t *testing.T) {
	h := newHub(t, Config{})
	a, pa := connect(t, h)
	b, pb := connect(t, h)
	_, pc := connect(t, h)
	for _, c := range []*Client{a, b} {
		if err := c.Subscribe("room"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Publish("room", "chat", map[string]any{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*fakePeer{pa, pb} {
		if got := p.nextRaw(t); got != `{"channel":"room","event":"chat","data":{"text":"hi"}}` {
			t.Fatal(got)
		}
	}
	if pc.pending() != 0 {
		t.Fatal("non-subscriber got the publish")
	}
	if err := h.Publish("nobody", "x", 1); err != nil {
		t.Fatal(err)
	}
	if err := h.Broadcast("news", "all"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*fakePeer{pa, pb, pc} {
		if got := p.nextRaw(t); got != `{"event":"news","data":"all"}` {
			t.Fatal(got)
		}
	}
	if err := h.Publish("", "news", nil); err != nil { // channel "" is a broadcast
		t.Fatal(err)
	}
	for _, p := range []*fakePeer{pa, pb, pc} {
		if got := p.nextRaw(t); got != `{"event":"news"}` {
			t.Fatal(got)
		}
	}
	if err := h.Publish("room", "x", func() {}); err == nil {
		t.Fatal("unencodable data accepted")
	}
	if err := h.Publish("room", "x", json.RawMessage(`{bad`)); !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("invalid raw data: %v", err)
	}
	st := h.Stats()
	if st.MessagesOut != 8 || st.BytesOut == 0 || st.Clients != 3 || st.Channels != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestContextPublishAndHook(t *testing.T) {
	h := newHub(t, Config{})
	var hooked []string
	h.OnPublish(func(ctx context.Context, channel, event string, data any) error {
		hooked = append(hooked, channel+"/"+event)
		if event == "forbidden" {
			return errors.New("vetoed")
		}
		return nil
	})
	h.On("chat.message", func(ctx *Context) error {
		return ctx.Publish("room", "chat.message", ctx.Message().Data)
	})
	h.On("bad", func(ctx *Context) error { return ctx.Publish("room", "forbidden", nil) })
	a, pa := connect(t, h)
	if err := a.Subscribe("room"); err != nil {
		t.Fatal(err)
	}
	send(h, a, `{"id":"1","event":"chat.message","data":{"text":"hi"}}`)
	if got := pa.nextRaw(t); got != `{"channel":"room","event":"chat.message","data":{"text":"hi"}}` {
		t.Fatal(got)
	}
	if got := pa.nextRaw(t); got != `{"id":"1","event":"chat.message","ok":true}` {
		t.Fatal(got)
	}
	send(h, a, `{"id":"2","event":"bad"}`)
	if got := pa.nextRaw(t); got != `{"id":"2","event":"bad","ok":false,"code":500,"message":"vetoed"}` {
		t.Fatal(got)
	}
	if err := h.Broadcast("forbidden", nil); err == nil {
		t.Fatal("hook did not veto Broadcast")
	}
	if strings.Join(hooked, " ") != "room/chat.message room/forbidden /forbidden" {
		t.Fatal(hooked)
	}
}

func TestSendAndKick(t *testing.T) {
	h := newHub(t, Config{Auth: func(r *http.Request) (Identity, error) {
		return Identity{ID: r.URL.Query().Get("user")}, nil
	}})
	a1, pa1 := connectReq(t, h, httptestRequest("/ws?user=alice"))
	_, pa2 := connectReq(t, h, httptestRequest("/ws?user=alice"))
	b, pb := connectReq(t, h, httptestRequest("/ws?user=bob"))
	_, pn := connectReq(t, h, httptestRequest("/ws?user="))

	if err := h.Send(a1.ID(), "direct", 1); err != nil {
		t.Fatal(err)
	}
	if got := pa1.nextRaw(t); got != `{"event":"direct","data":1}` {
		t.Fatal(got)
	}
	if err := h.Send("alice", "user", 2); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*fakePeer{pa1, pa2} {
		if got := p.nextRaw(t); got != `{"event":"user","data":2}` {
			t.Fatal(got)
		}
	}
	if err := h.SendMany([]string{"alice", b.ID(), a1.ID()}, "many", 3); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*fakePeer{pa1, pa2, pb} {
		if got := p.nextRaw(t); got != `{"event":"many","data":3}` {
			t.Fatal(got)
		}
	}
	if pa1.pending() != 0 || pn.pending() != 0 {
		t.Fatal("duplicate or stray delivery")
	}
	if err := h.Send("nobody", "x", nil); !errors.Is(err, ErrClientNotFound) {
		t.Fatal(err)
	}
	if err := h.Send("", "x", nil); !errors.Is(err, ErrClientNotFound) {
		t.Fatal("empty id matched anonymous clients")
	}
	if err := a1.Send("self", nil); err != nil {
		t.Fatal(err)
	}
	if got := pa1.nextRaw(t); got != `{"event":"self"}` {
		t.Fatal(got)
	}

	if err := h.Kick("bob", "bye bob"); err != nil {
		t.Fatal(err)
	}
	if code, reason := pb.waitClosed(t); code != CloseKicked || reason != "bye bob" {
		t.Fatalf("kick: %d %q", code, reason)
	}
	if err := h.Kick("bob", "again"); !errors.Is(err, ErrClientNotFound) {
		t.Fatal(err)
	}
	if err := h.KickMany([]string{"alice"}, ReasonKicked); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*fakePeer{pa1, pa2} {
		if code, reason := p.waitClosed(t); code != CloseKicked || reason != "kicked" {
			t.Fatalf("kick many: %d %q", code, reason)
		}
	}
	if err := h.KickMany([]string{"zed"}, ""); !errors.Is(err, ErrClientNotFound) {
		t.Fatal(err)
	}
	if err := a1.Send("late", nil); !errors.Is(err, ErrClientClosed) {
		t.Fatalf("send to a closed client: %v", err)
	}
	if st := h.Stats(); st.Clients != 1 {
		t.Fatalf("clients %d", st.Clients)
	}
}

func TestKickChannelAndClientClose(t *testing.T) {
	h := newHub(t, Config{})
	a, pa := connect(t, h)
	b, pb := connect(t, h)
	c, pc := connect(t, h)
	_ = a.Subscribe("room")
	_ = b.Subscribe("room")
	_ = c.Subscribe("other")
	if err := h.KickChannel("room", "room closed"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*fakePeer{pa, pb} {
		if code, reason := p.waitClosed(t); code != CloseKicked || reason != "room closed" {
			t.Fatalf("%d %q", code, reason)
		}
	}
	if pc.isClosed() {
		t.Fatal("kicked a client of another channel")
	}
	if _, ok := h.Channel("room"); ok {
		t.Fatal("emptied channel still listed")
	}
	if err := c.Close("done"); err != nil {
		t.Fatal(err)
	}
	if code, reason := pc.waitClosed(t); code != frame.CloseNormal || reason != "done" {
		t.Fatalf("%d %q", code, reason)
	}
	if err := c.Subscribe("x"); !errors.Is(err, ErrClientClosed) {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 100)
	d, pd := connect(t, h)
	_ = d.Close(CloseReason(long))
	if _, reason := pd.waitClosed(t); len(reason) > 123 || !strings.HasPrefix(long, reason) {
		t.Fatalf("reason not cut to 123 bytes on a rune boundary: %d", len(reason))
	}
}

func TestClientsAndChannels(t *testing.T) {
	h := newHub(t, Config{Auth: func(r *http.Request) (Identity, error) {
		return Identity{ID: r.URL.Query().Get("user"), Name: "N"}, nil
	}})
	a, _ := connectReq(t, h, httptestRequest("/ws?user=alice"))
	time.Sleep(time.Millisecond) // distinct connection times
	b, _ := connectReq(t, h, httptestRequest("/ws?user=bob"))
	_ = a.Subscribe("z")
	_ = a.Subscribe("a")
	_ = b.Subscribe("a")

	all := h.Clients()
	if len(all) != 2 || all[0].ID != a.ID() || all[1].ID != b.ID() {
		t.Fatalf("clients %+v", all)
	}
	if got := all[0].Channels; len(got) != 2 || got[0] != "a" || got[1] != "z" {
		t.Fatalf("channels not sorted: %v", got)
	}
	if got := h.Clients(ByChannel("z")); len(got) != 1 || got[0].ID != a.ID() {
		t.Fatalf("by channel %+v", got)
	}
	if got := h.Clients(ByID("bob")); len(got) != 1 || got[0].ID != b.ID() {
		t.Fatalf("by user id %+v", got)
	}
	if got := h.Clients(ByID(a.ID()), ByChannel("a")); len(got) != 1 {
		t.Fatalf("filters combine %+v", got)
	}
	if info, ok := h.Client(b.ID()); !ok || info.UserID != "bob" || info.Node != h.Node() {
		t.Fatalf("client %+v", info)
	}
	if info, ok := h.Client("alice"); !ok || info.ID != a.ID() {
		t.Fatalf("client by user %+v", info)
	}
	if _, ok := h.Client("nobody"); ok {
		t.Fatal("found nobody")
	}
	chans := h.Channels()
	if len(chans) != 2 || chans[0] != (ChannelInfo{"a", 2}) || chans[1] != (ChannelInfo{"z", 1}) {
		t.Fatalf("channels %+v", chans)
	}
	if ci, ok := h.Channel("a"); !ok || ci.Clients != 2 {
		t.Fatalf("channel %+v", ci)
	}
	_ = b.Unsubscribe("a")
	if ci, _ := h.Channel("a"); ci.Clients != 1 {
		t.Fatalf("after unsubscribe %+v", ci)
	}
	if st := h.Stats(); st.Channels != 2 || st.Clients != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStatsBytes(t *testing.T) {
	h := newHub(t, Config{})
	c, p := connect(t, h)
	small := `{"id":"1","event":"ping"}`
	big := `{"id":"2","event":"ping","data":"` + strings.Repeat("x", 200) + `"}`
	send(h, c, small)
	send(h, c, big)
	r1, r2 := p.nextFrame(t), p.nextFrame(t)
	idle(t, c)
	st := h.Stats()
	wantIn := uint64(2+4+len(small)) + uint64(4+4+len(big)) // masked client frames
	wantOut := uint64(r1.Len() + r2.Len())
	if st.MessagesIn != 2 || st.BytesIn != wantIn || st.MessagesOut != 2 || st.BytesOut != wantOut {
		t.Fatalf("stats %+v, want in %d out %d", st, wantIn, wantOut)
	}
	if r1.Len() != 2+len(payloadOf(t, r1)) {
		t.Fatal("out bytes are not wire bytes")
	}
}

func TestLifecycle(t *testing.T) {
	b := &closeRecorder{Broker: NewMemoryBroker()}
	pr := &presenceRecorder{Presence: NewMemoryPresence()}
	h := New("life", Config{Broker: b, Presence: pr})
	if h.Status() != StatusNew {
		t.Fatal(h.Status())
	}
	if err := h.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal("second Start:", err)
	}
	if h.Status() != StatusRunning {
		t.Fatal(h.Status())
	}
	release := make(chan struct{})
	h.On("slow", func(ctx *Context) error { waitRelease(release); return ctx.Reply("late") })
	c1, p1 := connect(t, h)
	c2, p2 := connect(t, h)
	_ = c1.Subscribe("room")
	_ = h.Publish("room", "queued", 1) // queued before Stop: flushed before the close
	send(h, c2, `{"id":"1","event":"slow"}`)

	stopped := make(chan error, 1)
	go func() { stopped <- stopHub(h) }()
	for _, p := range []*fakePeer{p1, p2} {
		if code, reason := p.waitClosed(t); code != frame.CloseGoingAway || reason != "server shutdown" {
			t.Fatalf("stop closed with %d %q", code, reason)
		}
	}
	if got := p1.nextRaw(t); got != `{"channel":"room","event":"queued","data":1}` {
		t.Fatal(got)
	}
	select {
	case <-stopped:
		t.Fatal("Stop returned while a handler was running")
	case <-time.After(20 * time.Millisecond):
	}
	if h.Status() != StatusStopping {
		t.Fatal(h.Status())
	}
	if c, status, _ := h.admit(upgradeRequest()); c != nil || status != http.StatusServiceUnavailable {
		t.Fatal("admitted during Stop")
	}
	close(release)
	if err := await(t, stopped, "Stop to return once the handler was released"); err != nil {
		t.Fatal(err)
	}
	if h.Status() != StatusStopped || !b.closed.Load() || !pr.closed.Load() {
		t.Fatalf("status %s, broker closed %v, presence closed %v", h.Status(), b.closed.Load(), pr.closed.Load())
	}
	if err := h.Check(context.Background()); !errors.Is(err, ErrHubStopped) {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); !errors.Is(err, ErrHubStopped) {
		t.Fatal(err)
	}
	if err := h.Publish("room", "x", nil); !errors.Is(err, ErrHubStopped) {
		t.Fatal(err)
	}
	if err := stopHub(h); err != nil {
		t.Fatal(err)
	}
	if pr.removes.Load() != 2 {
		t.Fatalf("presence removes %d", pr.removes.Load())
	}
}

func TestStopDeadline(t *testing.T) {
	h := New("deadline", Config{Logger: discardLogger()})
	c, release := stopWithStuckClient(t, h)
	close(release)
	idle(t, c)
}

// stopWithStuckClient connects a client whose handler waits for release,
// and stops h with a 20 ms deadline, which it must miss.
func stopWithStuckClient(t *testing.T, h *Hub) (*Client, chan struct{}) {
	t.Helper()
	release := make(chan struct{})
	h.On("stuck", func(ctx *Context) error { waitRelease(release); return nil })
	c, _ := connect(t, h)
	send(h, c, `{"event":"stuck"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := h.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop: %v", err)
	}
	return c, release
}

type checkFailBroker struct{ Broker }

func (checkFailBroker) Check(context.Context) error { return errors.New("redis down") }

func TestCheckUsesChecker(t *testing.T) {
	h := newHub(t, Config{Broker: checkFailBroker{NewMemoryBroker()}})
	if err := h.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "redis down") {
		t.Fatal(err)
	}
}

func TestOpenDuringStop(t *testing.T) {
	h := New("x", Config{})
	c, _, _ := h.admit(upgradeRequest())
	if err := stopHub(h); err != nil {
		t.Fatal(err)
	}
	p := newFakePeer(h, c)
	h.open(c, p)
	if code, _ := p.waitClosed(t); code != frame.CloseGoingAway {
		t.Fatal(code)
	}
}

func TestInlineHandlersRunOnTheCallerInOrder(t *testing.T) {
	h := New("default", Config{InlineHandlers: true})
	var seen []string
	h.On("note", func(ctx *Context) error {
		seen = append(seen, string(ctx.Message().Data))
		return ctx.Subscribe("room") // queues a presence job behind the inline handler
	})
	c, p := connect(t, h)
	for i := range 3 {
		h.message(c, frame.OpText, []byte(`{"id":"`+strconv.Itoa(i)+`","event":"note","data":`+strconv.Itoa(i)+`}`))
		// Inline: the handler has run and the ack is written when message returns.
		if len(seen) != i+1 || seen[i] != strconv.Itoa(i) {
			t.Fatalf("after message %d seen %v", i, seen)
		}
	}
	for i := range 3 {
		if r := p.next(t); r["id"] != strconv.Itoa(i) || r["ok"] != true {
			t.Fatalf("reply %d: %v", i, r)
		}
	}
}

// Built-in events that run no user code are handled on the caller (the
// transport's input goroutine) even with InlineHandlers off: the reply is
// written before message returns.
func TestBuiltinsRunInlineWithoutUserCode(t *testing.T) {
	h := New("default", Config{})
	c, p := connect(t, h)
	h.message(c, frame.OpText, []byte(`{"id":"1","event":"subscribe","channel":"room"}`))
	if p.pending() != 1 {
		t.Fatalf("subscribe not answered synchronously: %d frames", p.pending())
	}
	if r := p.next(t); r["id"] != "1" || r["ok"] != true {
		t.Fatalf("reply %v", r)
	}
	// With a subscribe hook, user code takes part: the worker runs it.
	h2 := New("default", Config{})
	hooked := make(chan bool, 1)
	h2.OnSubscribe(func(ctx *Context, ch string) error { hooked <- true; return nil })
	c2, p2 := connect(t, h2)
	h2.message(c2, frame.OpText, []byte(`{"id":"1","event":"subscribe","channel":"room"}`))
	await(t, hooked, "the subscribe hook to run")
	if r := p2.next(t); r["ok"] != true {
		t.Fatalf("hooked subscribe reply %v", r)
	}
}

// closingPresence refuses writes once closed, as wsredis does.
type closingPresence struct {
	Presence
	closed atomic.Bool
}

func (p *closingPresence) Set(ctx context.Context, info ClientInfo) error {
	if p.closed.Load() {
		return ErrPresenceClosed
	}
	return p.Presence.Set(ctx, info)
}

func (p *closingPresence) Remove(ctx context.Context, id string) error {
	if p.closed.Load() {
		return ErrPresenceClosed
	}
	return p.Presence.Remove(ctx, id)
}

func (p *closingPresence) Close(ctx context.Context) error {
	p.closed.Store(true)
	return p.Presence.Close(ctx)
}

// lockedBuffer is a log destination for handlers on several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A client still leaving when a drain ran out finds the Presence closed by Stop, which took the
// node's clients out of it already: no warning per client (a million-connection shutdown logged
// thousands per node).
func TestStopDeadlineLogsNoPresenceWarnings(t *testing.T) {
	var logs lockedBuffer
	pr := &closingPresence{Presence: NewMemoryPresence()}
	h := New("deadline", Config{Presence: pr, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	c, release := stopWithStuckClient(t, h)
	if !pr.closed.Load() {
		t.Fatal("Stop did not close the Presence")
	}
	close(release) // the client's removal runs now, against the closed Presence
	idle(t, c)
	if s := logs.String(); strings.Contains(s, "presence") {
		t.Fatalf("logged:\n%s", s)
	}
}
