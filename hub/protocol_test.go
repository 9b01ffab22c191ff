package hub

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProtocolResponses(t *testing.T) {
	h := newHub(t, Config{})
	h.On("echo", func(ctx *Context) error { return ctx.Reply(map[string]any{"data": ctx.Message().Data}) })
	h.On("quiet", func(ctx *Context) error { return nil })
	h.On("fail", func(ctx *Context) error { return errors.New("boom") })
	h.On("coded", func(ctx *Context) error { return NewError(422, "bad input") })
	h.On("explicit", func(ctx *Context) error { return ctx.Error(409, "conflict") })
	h.On("bind", func(ctx *Context) error {
		var in struct{ N int }
		if err := ctx.Bind(&in); err != nil {
			return err
		}
		return ctx.Reply(in.N * 2)
	})

	tests := []struct {
		name string
		in   string
		want string
	}{
		{"echo reply", `{"id":"2","event":"echo","data":{"text":"hello"}}`,
			`{"id":"2","event":"echo","ok":true,"data":{"data":{"text":"hello"}}}`},
		{"automatic ack", `{"id":"3","event":"quiet"}`, `{"id":"3","event":"quiet","ok":true}`},
		{"handler error", `{"id":"4","event":"fail"}`, `{"id":"4","event":"fail","ok":false,"code":500,"message":"boom"}`},
		{"coded error", `{"id":"5","event":"coded"}`, `{"id":"5","event":"coded","ok":false,"code":422,"message":"bad input"}`},
		{"ctx.Error", `{"id":"6","event":"explicit"}`, `{"id":"6","event":"explicit","ok":false,"code":409,"message":"conflict"}`},
		{"unknown event", `{"id":"7","event":"nope"}`,
			`{"id":"7","event":"nope","ok":false,"code":404,"message":"handler nope is not registered"}`},
		{"ping", `{"id":"8","event":"ping"}`, `{"id":"8","event":"ping","ok":true,"data":{"event":"pong"}}`},
		{"subscribe without channel", `{"id":"9","event":"subscribe"}`,
			`{"id":"9","event":"subscribe","ok":false,"code":400,"message":"channel is required"}`},
		{"unsubscribe without channel", `{"id":"10","event":"unsubscribe"}`,
			`{"id":"10","event":"unsubscribe","ok":false,"code":400,"message":"channel is required"}`},
		{"subscribe", `{"id":"11","event":"subscribe","channel":"room"}`, `{"id":"11","event":"subscribe","ok":true}`},
		{"unsubscribe", `{"id":"12","event":"unsubscribe","channel":"room"}`, `{"id":"12","event":"unsubscribe","ok":true}`},
		{"bind", `{"id":"13","event":"bind","data":{"n":21}}`, `{"id":"13","event":"bind","ok":true,"data":42}`},
		{"bind error", `{"id":"14","event":"bind","data":[1]}`, ""},
		{"missing event", `{"id":"15"}`, `{"id":"15","ok":false,"code":400,"message":"event is required"}`},
		{"malformed without id", `{"event":`, ""},
		{"escaped strings", `{"id":"\u0031\n","event":"quiet"}`, `{"id":"1\n","event":"quiet","ok":true}`},
	}
	c, p := connect(t, h)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			send(h, c, tc.in)
			got := p.nextRaw(t)
			if tc.want != "" && got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			if tc.want == "" {
				m := mustJSON(t, got)
				if m["ok"] == true || (m["ok"] == nil && m["event"] != EventError) {
					t.Fatalf("want an error, got %s", got)
				}
			}
			idle(t, c)
			if n := p.pending(); n != 0 {
				t.Fatalf("%d extra frames after the response", n)
			}
		})
	}
	if p.isClosed() {
		t.Fatal("connection closed")
	}
}

func TestBuiltinsWithoutID(t *testing.T) {
	h := newHub(t, Config{})
	c, p := connect(t, h)
	send(h, c, `{"event":"ping"}`)
	if got := p.nextRaw(t); got != `{"event":"ping","ok":true,"data":{"event":"pong"}}` {
		t.Fatalf("ping without id: %s", got)
	}
	send(h, c, `{"event":"subscribe","channel":"a"}`) // success without id: no frame
	send(h, c, `{"event":"subscribe"}`)
	if got := p.nextRaw(t); got != `{"event":"error","data":{"event":"subscribe","code":400,"message":"channel is required"}}` {
		t.Fatalf("got %s", got)
	}
	idle(t, c)
	if p.pending() != 0 {
		t.Fatal("unexpected frames")
	}
	if got := c.Channels(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("channels %v", got)
	}
}

func TestOnSubscribeVeto(t *testing.T) {
	h := newHub(t, Config{})
	var seen []string
	h.OnSubscribe(func(ctx *Context, ch string) error {
		seen = append(seen, ch)
		if strings.HasPrefix(ch, "private:") {
			return errors.New("not allowed")
		}
		return nil
	})
	h.OnSubscribe(func(ctx *Context, ch string) error {
		if ch == "vip" && !ctx.Can("vip") {
			return NewError(402, "pay first")
		}
		return nil
	})
	c, p := connect(t, h)
	send(h, c, `{"id":"1","event":"subscribe","channel":"private:x"}`)
	if got := p.nextRaw(t); got != `{"id":"1","event":"subscribe","ok":false,"code":403,"message":"not allowed"}` {
		t.Fatalf("veto: %s", got)
	}
	send(h, c, `{"id":"2","event":"subscribe","channel":"vip"}`)
	if got := p.nextRaw(t); got != `{"id":"2","event":"subscribe","ok":false,"code":402,"message":"pay first"}` {
		t.Fatalf("coded veto: %s", got)
	}
	send(h, c, `{"id":"3","event":"subscribe","channel":"public"}`)
	if got := p.next(t); got["ok"] != true {
		t.Fatalf("allowed subscribe: %v", got)
	}
	if got := c.Channels(); len(got) != 1 || got[0] != "public" {
		t.Fatalf("channels %v", got)
	}
	// Server-side subscriptions are trusted: no hook.
	if err := c.Subscribe("private:y"); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 {
		t.Fatalf("hook saw %v", seen)
	}
}

func TestMiddlewareOrder(t *testing.T) {
	h := newHub(t, Config{})
	var mu sync.Mutex
	var trace []string
	mark := func(s string) { mu.Lock(); trace = append(trace, s); mu.Unlock() }
	h.Use(func(next Handler) Handler {
		return func(ctx *Context) error { mark("outer>"); err := next(ctx); mark("<outer"); return err }
	})
	h.Use(func(next Handler) Handler {
		return func(ctx *Context) error { mark("inner>"); err := next(ctx); mark("<inner"); return err }
	})
	h.On("x", func(ctx *Context) error { mark("x"); return nil })
	c, p := connect(t, h)
	for _, msg := range []string{`{"id":"1","event":"x"}`, `{"id":"2","event":"ping"}`, `{"id":"3","event":"unknown"}`} {
		send(h, c, msg)
		p.next(t)
	}
	idle(t, c)
	want := "outer> inner> x <inner <outer outer> inner> <inner <outer outer> inner> <inner <outer"
	if got := strings.Join(trace, " "); got != want {
		t.Fatalf("trace\n got %s\nwant %s", got, want)
	}
}

func TestMiddlewareCanAnswer(t *testing.T) {
	h := newHub(t, Config{})
	h.Use(func(next Handler) Handler {
		return func(ctx *Context) error {
			if ctx.Message().Event != EventPing && !ctx.Can("use") {
				return NewError(403, "forbidden")
			}
			return next(ctx)
		}
	})
	h.On("x", func(ctx *Context) error { return nil })
	c, p := connect(t, h)
	send(h, c, `{"id":"1","event":"x"}`)
	if got := p.nextRaw(t); got != `{"id":"1","event":"x","ok":false,"code":403,"message":"forbidden"}` {
		t.Fatal(got)
	}
}

func TestHandlerPanic(t *testing.T) {
	h := newHub(t, Config{Logger: discardLogger()})
	h.On("bad", func(ctx *Context) error { panic("oops") })
	c, p := connect(t, h)
	send(h, c, `{"id":"1","event":"bad"}`)
	if got := p.nextRaw(t); got != `{"id":"1","event":"bad","ok":false,"code":500,"message":"internal error"}` {
		t.Fatal(got)
	}
	send(h, c, `{"event":"bad"}`)
	if got := p.nextRaw(t); got != `{"event":"error","data":{"event":"bad","code":500,"message":"internal error"}}` {
		t.Fatal(got)
	}
	send(h, c, `{"id":"2","event":"ping"}`)
	if got := p.next(t); got["ok"] != true {
		t.Fatal("connection unusable after a panic")
	}
}

func TestOrderingUnderSlowHandler(t *testing.T) {
	h := newHub(t, Config{ReceiveBuffer: 1000})
	release := make(chan struct{})
	var mu sync.Mutex
	var order []string
	h.On("slow", func(ctx *Context) error {
		waitRelease(release)
		mu.Lock()
		order = append(order, ctx.Message().ID)
		mu.Unlock()
		return nil
	})
	h.On("fast", func(ctx *Context) error {
		mu.Lock()
		order = append(order, ctx.Message().ID)
		mu.Unlock()
		return nil
	})
	c, p := connect(t, h)
	other, op := connect(t, h)
	start := time.Now()
	send(h, c, `{"id":"0","event":"slow"}`)
	for i := 1; i < 100; i++ {
		send(h, c, `{"id":"`+itoa(i)+`","event":"fast"}`)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("message() blocked behind a slow handler for %v", d)
	}
	// Another client is served while this one's handler is blocked.
	send(h, other, `{"id":"x","event":"ping"}`)
	if got := op.next(t); got["ok"] != true {
		t.Fatal(got)
	}
	close(release)
	for i := 0; i < 100; i++ {
		if got := p.next(t); got["id"] != itoa(i) {
			t.Fatalf("response %d has id %v", i, got["id"])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, id := range order {
		if id != itoa(i) {
			t.Fatalf("handled out of order: %v", order)
		}
	}
}

func TestContextCancelledOnDisconnect(t *testing.T) {
	h := newHub(t, Config{})
	started := make(chan struct{})
	done := make(chan error, 1)
	h.On("wait", func(ctx *Context) error {
		close(started)
		select {
		case <-ctx.Context().Done():
			done <- context.Cause(ctx.Context())
		case <-time.After(2 * waitFor): // the test fails on its own wait; do not hold Stop up
			done <- errors.New("context not cancelled")
		}
		return nil
	})
	c, p := connect(t, h)
	if c.ctx != nil {
		t.Fatal("an idle client has a context")
	}
	send(h, c, `{"id":"1","event":"wait"}`)
	await(t, started, "the handler to start")
	_ = p.Close(1000, "bye")
	select {
	case err := <-done:
		if !errors.Is(err, ErrClientClosed) {
			t.Fatalf("cause %v", err)
		}
	case <-time.After(waitFor):
		t.Fatal("context not cancelled on disconnect")
	}
}

func TestSetContext(t *testing.T) {
	h := newHub(t, Config{})
	type key struct{}
	h.Use(func(next Handler) Handler {
		return func(ctx *Context) error {
			ctx.SetContext(context.WithValue(ctx.Context(), key{}, "v"))
			return next(ctx)
		}
	})
	h.On("x", func(ctx *Context) error { return ctx.Reply(ctx.Context().Value(key{})) })
	c, p := connect(t, h)
	send(h, c, `{"id":"1","event":"x"}`)
	if got := p.nextRaw(t); got != `{"id":"1","event":"x","ok":true,"data":"v"}` {
		t.Fatal(got)
	}
}

func TestContextAccessors(t *testing.T) {
	h := newHub(t, Config{Auth: func(r *http.Request) (Identity, error) {
		return Identity{ID: "u1", Name: "Ann", Meta: map[string]any{"permissions": []any{"chat"}}}, nil
	}})
	got := make(chan string, 1)
	h.On("x", func(ctx *Context) error {
		if ctx.Hub() != h || ctx.Client().Hub() != h {
			return errors.New("wrong hub")
		}
		id := ctx.Identity()
		got <- id.ID + "/" + id.Name + "/" + ctx.Message().Channel + "/" +
			strconv.FormatBool(ctx.Can("chat")) + strconv.FormatBool(ctx.Can("admin"))
		if err := ctx.Subscribe("s"); err != nil {
			return err
		}
		if err := ctx.Send("hello", "you"); err != nil {
			return err
		}
		if err := ctx.Reply(1); err != nil {
			return err
		}
		if err := ctx.Reply(2); !errors.Is(err, ErrAlreadyReplied) {
			return errors.New("second reply accepted")
		}
		return ctx.Unsubscribe("s")
	})
	c, p := connect(t, h)
	send(h, c, `{"id":"1","event":"x","channel":"ch"}`)
	if s := await(t, got, "the handler's report"); s != "u1/Ann/ch/truefalse" {
		t.Fatal(s)
	}
	if s := p.nextRaw(t); s != `{"event":"hello","data":"you"}` {
		t.Fatal(s)
	}
	if s := p.nextRaw(t); s != `{"id":"1","event":"x","ok":true,"data":1}` {
		t.Fatal(s)
	}
	idle(t, c)
	if p.pending() != 0 || len(c.Channels()) != 0 {
		t.Fatal("extra frames or channels")
	}
}

func TestMessageTooBig(t *testing.T) {
	h := newHub(t, Config{MaxMessageSize: 16})
	c, p := connect(t, h)
	send(h, c, `{"event":"ping","data":"0123456789"}`)
	if code, reason := p.waitClosed(t); code != 1009 || reason != string(ReasonTooBig) {
		t.Fatalf("closed %d %q", code, reason)
	}
}

func TestReceiveBufferFull(t *testing.T) {
	h := newHub(t, Config{ReceiveBuffer: 2})
	release := make(chan struct{})
	h.On("slow", func(ctx *Context) error { waitRelease(release); return nil })
	c, p := connect(t, h)
	for range 4 {
		send(h, c, `{"event":"slow"}`)
	}
	if code, reason := p.waitClosed(t); code != 1008 || reason != string(ReasonReceiveFull) {
		t.Fatalf("closed %d %q", code, reason)
	}
	close(release)
}

func TestNonDataOpcodesIgnored(t *testing.T) {
	h := newHub(t, Config{})
	c, p := connect(t, h)
	h.message(c, 0x9, []byte("ping")) // a control frame never reaches the dispatcher
	h.message(c, 0x2, []byte(`{"id":"1","event":"ping"}`))
	if got := p.next(t); got["id"] != "1" {
		t.Fatal(got)
	}
}
