package hub

import (
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

func TestNewRateLimit(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		burst int
		want  rateLimit
	}{
		{"default", DefaultMessageRate, DefaultMessageBurst, rateLimit{interval: 10e6, burst: 200 * 10e6}},
		{"one a second", 1, 3, rateLimit{interval: 1e9, burst: 3e9}},
		{"fractional", 0.5, 1, rateLimit{interval: 2e9, burst: 2e9}},
		{"negative: no limit", -1, 10, rateLimit{}},
		{"+Inf: no limit", math.Inf(1), 10, rateLimit{}},
		{"beyond a nanosecond", 1e12, 2, rateLimit{interval: 1, burst: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := newRateLimit(tc.rate, tc.burst); got != tc.want {
				t.Fatalf("newRateLimit(%v, %d) = %+v, want %+v", tc.rate, tc.burst, got, tc.want)
			}
		})
	}
	// Absurd settings must not overflow: two bursts ahead of any time of a long-lived process fit.
	for _, r := range []rateLimit{newRateLimit(1e-30, math.MaxInt), newRateLimit(1e-30, 1), newRateLimit(math.SmallestNonzeroFloat64, 1<<40)} {
		if r.interval <= 0 || r.burst <= 0 || r.burst > math.MaxInt64/4 {
			t.Fatalf("overflow: %+v", r)
		}
	}
}

// take, the bucket itself, against a clock the test sets: 10 messages a second (one every 100 ms), a
// burst of 2.
func TestRateTake(t *testing.T) {
	const ms = int64(time.Millisecond)
	r := newRateLimit(10, 2)
	type msg struct {
		at   int64 // arrival, in ms on the hub's clock
		want rateVerdict
	}
	tests := []struct {
		name string
		msgs []msg
	}{
		{"a burst, then refused, then closed", []msg{
			{0, rateAccept}, {0, rateAccept}, {0, rateRefuse}, {0, rateRefuse}, {0, rateClose}, {0, rateClose},
		}},
		{"the bucket refills at the rate", []msg{
			{0, rateAccept}, {0, rateAccept}, {0, rateRefuse}, // empty, and one in debt
			{200, rateAccept}, // 200 ms: the debt repaid and one token back
			{200, rateRefuse},
		}},
		{"refused messages count: a client that ignores the 429s waits longer", []msg{
			{0, rateAccept}, {0, rateAccept}, {0, rateRefuse}, {0, rateRefuse}, // tat 400 ms
			{150, rateRefuse}, {250, rateRefuse}, // still in debt, and deeper each time: tat 600 ms
			{400, rateRefuse}, // 600 + 100 is 300 ms ahead of 400: over the burst; tat 700 ms
			{600, rateAccept},
		}},
		{"at the rate, forever", func() []msg {
			var m []msg
			for i := range 1000 {
				m = append(m, msg{int64(i) * 100, rateAccept})
			}
			return m
		}()},
		{"a little over the rate: refused, then closed", func() []msg {
			// One every 90 ms: each 10 ms further ahead than the last. The burst is full after 11,
			// another burst of debt after 20 more, and the next closes.
			var m []msg
			for i := range 31 {
				want := rateAccept
				if i > 10 {
					want = rateRefuse
				}
				m = append(m, msg{int64(i) * 90, want})
			}
			return append(m, msg{31 * 90, rateClose})
		}()},
		{"after a long pause the bucket is full, not fuller", []msg{
			{0, rateAccept}, {10_000, rateAccept}, {10_000, rateAccept}, {10_000, rateRefuse},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c Client
			for i, m := range tc.msgs {
				if got := c.take(m.at*ms, &r); got != m.want {
					t.Fatalf("message %d at %d ms: verdict %d, want %d", i, m.at, got, m.want)
				}
			}
		})
	}
	var c Client
	for range 1000 {
		if c.take(0, &rateLimit{}) != rateAccept {
			t.Fatal("no limit refused a message")
		}
	}
}

// The rate limit in the hub: a client's messages over it are answered 429 with their id and not
// handled (nor seen by middleware), and the one that takes the client another burst into debt closes
// it with 1008; another client of the hub is unaffected. A rate of one message in 1000 s gives no
// refill during the test.
func TestRateLimit(t *testing.T) {
	const refused = `"ok":false,"code":429,"message":"rate limit exceeded"}`
	tests := []struct {
		name  string
		cfg   Config
		steps []step // sent in order; the last closes the connection
	}{
		{"with ids", Config{MessageRate: 0.001, MessageBurst: 2}, []step{
			{`{"id":"1","event":"count"}`, okReply("1", "count")},
			{`{"id":"2","event":"ping"}`, `{"id":"2","event":"ping","ok":true,"data":{"event":"pong"}}`},
			{`{"id":"3","event":"count"}`, `{"id":"3","event":"count",` + refused},
			{`{"id":"4","event":"ping"}`, `{"id":"4","event":"ping",` + refused},
			{`{"id":"5","event":"count"}`, ""},
		}},
		{"without ids, and malformed", Config{MessageRate: 0.001, MessageBurst: 1}, []step{
			{`{"event":"count"}`, ""},
			{`{"event":"count"}`, `{"event":"error","data":{"event":"count","code":429,"message":"rate limit exceeded"}}`},
			{`{not json`, ""},
		}},
		{"malformed over the limit", Config{MessageRate: 0.001, MessageBurst: 1}, []step{
			{`{"id":"1","event":"ping"}`, `{"id":"1","event":"ping","ok":true,"data":{"event":"pong"}}`},
			{`{not json`, `{"event":"error","data":{"code":429,"message":"rate limit exceeded"}}`},
			{`{"id":"2","event":`, ""},
		}},
		{"inline handlers", Config{MessageRate: 0.001, MessageBurst: 1, InlineHandlers: true}, []step{
			{`{"id":"1","event":"count"}`, okReply("1", "count")},
			{`{"id":"2","event":"count"}`, `{"id":"2","event":"count",` + refused},
			{`{"id":"3","event":"count"}`, ""},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, tc.cfg)
			var handled, seen atomic.Int64
			h.Use(func(next Handler) Handler {
				return func(ctx *Context) error { seen.Add(1); return next(ctx) }
			})
			h.On("count", func(*Context) error { handled.Add(1); return nil })
			c, p := connect(t, h)
			other, po := connect(t, h)
			last := len(tc.steps) - 1
			runSteps(t, h, c, p, tc.steps[:last])
			send(h, c, tc.steps[last].send)
			if code, reason := p.waitClosed(t); code != frame.ClosePolicyViolation || reason != "rate limit exceeded" {
				t.Fatalf("closed with %d %q, want 1008 \"rate limit exceeded\"", code, reason)
			}
			if n := seen.Load(); n != int64(tc.cfg.MessageBurst) {
				t.Fatalf("middleware saw %d messages, want the %d accepted", n, tc.cfg.MessageBurst)
			}
			if n := handled.Load(); n > 1 {
				t.Fatalf("the handler ran %d times: for a refused message", n)
			}
			// The other client has its own bucket.
			for i := range tc.cfg.MessageBurst {
				send(h, other, `{"id":"`+itoa(i)+`","event":"ping"}`)
				if got := po.next(t); got["ok"] != true {
					t.Fatalf("the other client was refused: %v", got)
				}
			}
			if po.isClosed() {
				t.Fatal("the other client was closed")
			}
		})
	}
}

// A refused message's answer keeps its place after the answers of the messages before it, which are
// still waiting for a slow handler.
func TestRateLimitAnswerOrder(t *testing.T) {
	h := newHub(t, Config{MessageRate: 0.001, MessageBurst: 2})
	release := make(chan struct{})
	h.On("slow", func(*Context) error { waitRelease(release); return nil })
	c, p := connect(t, h)
	send(h, c, `{"id":"1","event":"slow"}`)
	send(h, c, `{"id":"2","event":"ping"}`)
	send(h, c, `{"id":"3","event":"ping"}`) // refused while 1 and 2 wait
	close(release)
	for _, want := range []string{
		okReply("1", "slow"),
		`{"id":"2","event":"ping","ok":true,"data":{"event":"pong"}}`,
		`{"id":"3","event":"ping","ok":false,"code":429,"message":"rate limit exceeded"}`,
	} {
		if got := p.nextRaw(t); got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
}

// The bucket refills on the hub's real clock: 5 messages a second, a burst of 1.
func TestRateLimitRefills(t *testing.T) {
	h := newHub(t, Config{MessageRate: 5, MessageBurst: 1})
	c, p := connect(t, h)
	ping := func(id string) map[string]any {
		send(h, c, `{"id":"`+id+`","event":"ping"}`)
		return p.next(t)
	}
	if r := ping("1"); r["ok"] != true {
		t.Fatalf("first message: %v", r)
	}
	if r := ping("2"); r["code"] != float64(429) {
		t.Fatalf("second message at once: %v", r)
	}
	time.Sleep(500 * time.Millisecond) // the debt of one and a token back: 400 ms
	if r := ping("3"); r["ok"] != true {
		t.Fatalf("after 500 ms: %v", r)
	}
}

// The rate limit over the real transport: the flooding client gets 429s with its ids and then 1008
// "rate limit exceeded"; a client that keeps to the limit on the same hub is answered throughout.
func TestServeRateLimit(t *testing.T) {
	const burst = 5
	h := New("default", Config{MessageRate: 0.001, MessageBurst: burst})
	addr := serveHub(t, h, "/ws")
	flood, good := mustDial(t, addr, "/ws"), mustDial(t, addr, "/ws")
	for i := range 2 * burst {
		flood.send(`{"id":"` + itoa(i) + `","event":"ping"}`)
	}
	flood.send(`{"id":"last","event":"ping"}`)
	for i := range 2 * burst {
		want := `{"id":"` + itoa(i) + `","event":"ping","ok":true,"data":{"event":"pong"}}`
		if i >= burst {
			want = `{"id":"` + itoa(i) + `","event":"ping","ok":false,"code":429,"message":"rate limit exceeded"}`
		}
		if got := flood.nextRaw(); got != want {
			t.Fatalf("flood answer %d:\n got  %s\nwant %s", i, got, want)
		}
	}
	if code, reason := flood.closed(); code != frame.ClosePolicyViolation || reason != "rate limit exceeded" {
		t.Fatalf("flood closed with %d %q, want 1008 \"rate limit exceeded\"", code, reason)
	}
	good.exchange([]step{{`{"id":"1","event":"ping"}`, `{"id":"1","event":"ping","ok":true,"data":{"event":"pong"}}`}})
	select {
	case <-good.done:
		t.Fatal("the good client was closed")
	default:
	}
}

// Configure changes the rate limit of the connections already open: it is read per message.
func TestRateLimitConfigure(t *testing.T) {
	h := newHub(t, Config{MessageRate: 0.001, MessageBurst: 1})
	c, p := connect(t, h)
	runSteps(t, h, c, p, []step{
		{`{"id":"1","event":"ping"}`, `{"id":"1","event":"ping","ok":true,"data":{"event":"pong"}}`},
		{`{"id":"2","event":"ping"}`, `{"id":"2","event":"ping","ok":false,"code":429,"message":"rate limit exceeded"}`},
	})
	h.Configure(Config{MessageRate: -1})
	for range 10 {
		runSteps(t, h, c, p, []step{{`{"id":"3","event":"ping"}`, `{"id":"3","event":"ping","ok":true,"data":{"event":"pong"}}`}})
	}
}
