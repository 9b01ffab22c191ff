package hub

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// step is one client message and the exact answer it must get ("" for none).
type step struct{ send, want string }

// runSteps sends each step's message from c and checks the answer, then that nothing else came.
func runSteps(t *testing.T, h *Hub, c *Client, p *fakePeer, steps []step) {
	t.Helper()
	for i, s := range steps {
		send(h, c, s.send)
		idle(t, c)
		if s.want == "" {
			if n := p.pending(); n != 0 {
				t.Fatalf("step %d %s: want no answer, got %s", i, s.send, p.nextRaw(t))
			}
			continue
		}
		if got := p.nextRaw(t); got != s.want {
			t.Fatalf("step %d %s:\n got  %s\nwant %s", i, s.send, got, s.want)
		}
	}
	idle(t, c)
	if n := p.pending(); n != 0 {
		t.Fatalf("%d frames after the last step: %s", n, p.nextRaw(t))
	}
}

func subscribeMsg(id, channel string) string {
	return `{"id":"` + id + `","event":"subscribe","channel":"` + channel + `"}`
}

func okReply(id, event string) string { return `{"id":"` + id + `","event":"` + event + `","ok":true}` }

func TestMaxChannelsPerClient(t *testing.T) {
	tooMany := func(id string, limit string) string {
		return `{"id":"` + id + `","event":"subscribe","ok":false,"code":403,"message":"too many channels (limit ` + limit + `)"}`
	}
	tests := []struct {
		name  string
		cfg   Config
		hook  bool // an OnSubscribe hook, which must not run for a refused subscribe
		steps []step
		want  []string // the client's channels at the end
	}{
		{"refused beyond the limit", Config{MaxChannelsPerClient: 2}, false, []step{
			{subscribeMsg("1", "a"), okReply("1", "subscribe")},
			{subscribeMsg("2", "b"), okReply("2", "subscribe")},
			{subscribeMsg("3", "c"), tooMany("3", "2")},
		}, []string{"a", "b"}},
		{"error push without an id", Config{MaxChannelsPerClient: 1}, false, []step{
			{`{"event":"subscribe","channel":"a"}`, ""},
			{`{"event":"subscribe","channel":"b"}`,
				`{"event":"error","data":{"event":"subscribe","code":403,"message":"too many channels (limit 1)"}}`},
		}, []string{"a"}},
		{"a channel the client is in is not refused", Config{MaxChannelsPerClient: 1}, false, []step{
			{subscribeMsg("1", "a"), okReply("1", "subscribe")},
			{subscribeMsg("2", "a"), okReply("2", "subscribe")},
		}, []string{"a"}},
		{"room again after an unsubscribe", Config{MaxChannelsPerClient: 1}, false, []step{
			{subscribeMsg("1", "a"), okReply("1", "subscribe")},
			{subscribeMsg("2", "b"), tooMany("2", "1")},
			{`{"id":"3","event":"unsubscribe","channel":"a"}`, okReply("3", "unsubscribe")},
			{subscribeMsg("4", "b"), okReply("4", "subscribe")},
		}, []string{"b"}},
		{"hooks do not run for a refused subscribe", Config{MaxChannelsPerClient: 1}, true, []step{
			{subscribeMsg("1", "a"), okReply("1", "subscribe")},
			{subscribeMsg("2", "b"), tooMany("2", "1")},
			{subscribeMsg("3", "a"), okReply("3", "subscribe")}, // hooked: a resubscribe is not refused
		}, []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, tc.cfg)
			var hooked atomic.Int64
			if tc.hook {
				h.OnSubscribe(func(*Context, string) error { hooked.Add(1); return nil })
			}
			c, p := connect(t, h)
			runSteps(t, h, c, p, tc.steps)
			checkChannels(t, h, c, tc.want)
			if tc.hook && hooked.Load() != 2 {
				t.Fatalf("the hook ran %d times, want 2 (not for the refused subscribe)", hooked.Load())
			}
		})
	}
}

func TestMaxChannelsPerClientDefaultAndOff(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     int  // Config.MaxChannelsPerClient
		ok      int  // subscribes that succeed
		refused bool // whether the next one is refused
	}{
		{"default", 0, DefaultMaxChannelsPerClient, true},
		{"set", 5, 5, true},
		{"negative is no limit", -1, 1000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, Config{MaxChannelsPerClient: tc.cfg})
			c, _ := connect(t, h)
			for i := range tc.ok {
				if err := c.Subscribe("c" + itoa(i)); err != nil {
					t.Fatalf("subscribe %d: %v", i, err)
				}
			}
			err := c.Subscribe("one-more")
			if tc.refused != errors.Is(err, ErrTooManyChannels) {
				t.Fatalf("subscribe %d: %v", tc.ok+1, err)
			}
			if want := tc.ok + btoi(!tc.refused); len(c.Channels()) != want {
				t.Fatalf("%d channels, want %d", len(c.Channels()), want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Server-side subscriptions are trusted (no hooks) but limited: a handler often subscribes a client
// to a channel the client named.
func TestServerSideSubscribeLimits(t *testing.T) {
	h := newHub(t, Config{MaxChannelsPerClient: 1, MaxChannelLength: 4})
	h.On("join", func(ctx *Context) error {
		var room string
		if err := ctx.Bind(&room); err != nil {
			return err
		}
		return ctx.Subscribe(room)
	})
	c, p := connect(t, h)
	if err := c.Subscribe("toolong"); !errors.Is(err, ErrChannelTooLong) {
		t.Fatalf("long channel: %v", err)
	}
	if err := c.Subscribe("a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe("b"); !errors.Is(err, ErrTooManyChannels) {
		t.Fatalf("second channel: %v", err)
	}
	runSteps(t, h, c, p, []step{
		{`{"id":"1","event":"join","data":"b"}`,
			`{"id":"1","event":"join","ok":false,"code":403,"message":"too many channels (limit 1)"}`},
		{`{"id":"2","event":"join","data":"toolong"}`,
			`{"id":"2","event":"join","ok":false,"code":400,"message":"channel too long (limit 4 bytes)"}`},
		{`{"id":"3","event":"join","data":"a"}`, okReply("3", "join")},
	})
	checkChannels(t, h, c, []string{"a"})
}

func TestMaxChannelLength(t *testing.T) {
	const tooLong = `"message":"channel too long (limit 8 bytes)"}`
	long := strings.Repeat("x", 9)
	tests := []struct {
		name  string
		cfg   Config
		steps []step
		want  []string
	}{
		{"subscribe at and over the limit", Config{MaxChannelLength: 8}, []step{
			{subscribeMsg("1", "12345678"), okReply("1", "subscribe")},
			{subscribeMsg("2", long), `{"id":"2","event":"subscribe","ok":false,"code":400,` + tooLong},
		}, []string{"12345678"}},
		{"bytes, not characters", Config{MaxChannelLength: 8}, []step{
			{subscribeMsg("1", "éééé"), okReply("1", "subscribe")}, // 8 bytes
			{subscribeMsg("2", "ééééx"), `{"id":"2","event":"subscribe","ok":false,"code":400,` + tooLong},
		}, []string{"éééé"}},
		{"unsubscribe", Config{MaxChannelLength: 8}, []step{
			{`{"id":"1","event":"unsubscribe","channel":"` + long + `"}`,
				`{"id":"1","event":"unsubscribe","ok":false,"code":400,` + tooLong},
		}, nil},
		{"any event with a channel; the handler does not run", Config{MaxChannelLength: 8}, []step{
			{`{"id":"1","event":"count","channel":"` + long + `"}`, `{"id":"1","event":"count","ok":false,"code":400,` + tooLong},
			{`{"event":"count","channel":"` + long + `"}`, `{"event":"error","data":{"event":"count","code":400,` + tooLong + `}`},
			{`{"id":"2","event":"count","channel":"12345678"}`, okReply("2", "count")},
		}, nil},
		{"default 255", Config{}, []step{
			{subscribeMsg("1", strings.Repeat("x", 255)), okReply("1", "subscribe")},
			{subscribeMsg("2", strings.Repeat("x", 256)),
				`{"id":"2","event":"subscribe","ok":false,"code":400,"message":"channel too long (limit 255 bytes)"}`},
		}, []string{strings.Repeat("x", 255)}},
		{"negative is no limit", Config{MaxChannelLength: -1}, []step{
			{subscribeMsg("1", strings.Repeat("x", 1000)), okReply("1", "subscribe")},
		}, []string{strings.Repeat("x", 1000)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, tc.cfg)
			var handled atomic.Int64
			h.On("count", func(*Context) error { handled.Add(1); return nil })
			c, p := connect(t, h)
			runSteps(t, h, c, p, tc.steps)
			checkChannels(t, h, c, tc.want)
			if n := handled.Load(); n > 1 {
				t.Fatalf("the handler ran for a refused message (%d runs)", n)
			}
		})
	}
}

// mustDial dials the hub served at addr (see serveHub).
func mustDial(t *testing.T, addr, path string) *wireClient {
	t.Helper()
	w, err := dialHub(t, "ws://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// exchange sends each step's message from w and checks the exact answer.
func (w *wireClient) exchange(steps []step) {
	w.t.Helper()
	for i, s := range steps {
		w.send(s.send)
		if s.want == "" {
			continue
		}
		if got := w.nextRaw(); got != s.want {
			w.t.Fatalf("step %d %s:\n got  %s\nwant %s", i, s.send, got, s.want)
		}
	}
}

// The channel limits over the real transport: the client that goes beyond them gets the exact answers
// and keeps its connection; a well-behaved client of the same hub is unaffected.
func TestServeChannelLimits(t *testing.T) {
	h := New("default", Config{MaxChannelsPerClient: 2, MaxChannelLength: 8})
	addr := serveHub(t, h, "/ws")
	greedy, good := mustDial(t, addr, "/ws"), mustDial(t, addr, "/ws")

	greedy.exchange([]step{
		{subscribeMsg("1", "a"), okReply("1", "subscribe")},
		{subscribeMsg("2", "b"), okReply("2", "subscribe")},
		{subscribeMsg("3", "c"), `{"id":"3","event":"subscribe","ok":false,"code":403,"message":"too many channels (limit 2)"}`},
		{subscribeMsg("4", "123456789"), `{"id":"4","event":"subscribe","ok":false,"code":400,"message":"channel too long (limit 8 bytes)"}`},
		{`{"id":"5","event":"ping"}`, `{"id":"5","event":"ping","ok":true,"data":{"event":"pong"}}`},
	})
	good.exchange([]step{
		{subscribeMsg("1", "c"), okReply("1", "subscribe")},
		{subscribeMsg("2", "12345678"), okReply("2", "subscribe")},
	})
	if err := h.Publish("c", "news", 1); err != nil {
		t.Fatal(err)
	}
	if got := good.nextRaw(); got != `{"channel":"c","event":"news","data":1}` {
		t.Fatalf("good client got %s", got)
	}
	if err := h.Publish("a", "news", 2); err != nil {
		t.Fatal(err)
	}
	if got := greedy.nextRaw(); got != `{"channel":"a","event":"news","data":2}` {
		t.Fatalf("greedy client got %s (it is in a and b only)", got)
	}
	select {
	case <-greedy.done:
		t.Fatal("a refused subscribe closed the connection")
	case <-good.done:
		t.Fatal("the good client was closed")
	default:
	}
}

// Each limit is a Config field that New and Configure take (Configure merges non-zero fields), with its
// default for zero and "no limit" kept as a negative value (MessageBurst: negative counts as zero).
func TestConfigLimits(t *testing.T) {
	tests := []struct {
		name string
		set  func(*Config, int)
		get  func(Config) int
		def  int
		neg  int // what -1 becomes
	}{
		{"MaxChannelsPerClient", func(c *Config, v int) { c.MaxChannelsPerClient = v },
			func(c Config) int { return c.MaxChannelsPerClient }, DefaultMaxChannelsPerClient, -1},
		{"MaxChannelLength", func(c *Config, v int) { c.MaxChannelLength = v },
			func(c Config) int { return c.MaxChannelLength }, DefaultMaxChannelLength, -1},
		{"MessageRate", func(c *Config, v int) { c.MessageRate = float64(v) },
			func(c Config) int { return int(c.MessageRate) }, DefaultMessageRate, -1},
		{"MessageBurst", func(c *Config, v int) { c.MessageBurst = v },
			func(c Config) int { return c.MessageBurst }, DefaultMessageBurst, DefaultMessageBurst},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cfg Config
			tc.set(&cfg, 7)
			h := newHub(t, cfg)
			if got := tc.get(h.Config()); got != 7 {
				t.Fatalf("New: %d, want 7", got)
			}
			h.Configure(Config{})
			if got := tc.get(h.Config()); got != 7 {
				t.Fatalf("after Configure of zero: %d, want 7", got)
			}
			cfg = Config{}
			tc.set(&cfg, -1)
			h.Configure(cfg)
			if got := tc.get(h.Config()); got != tc.neg {
				t.Fatalf("Configure -1: %d, want %d", got, tc.neg)
			}
			if got := tc.get(newHub(t, Config{}).Config()); got != tc.def {
				t.Fatalf("default %d, want %d", got, tc.def)
			}
		})
	}
}
