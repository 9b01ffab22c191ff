package hub

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

// BenchmarkPublish publishes to a channel of n subscribers on in-memory peers that accept every frame
// at once (so it measures the hub, not a transport). ns/op and allocs/op are per publish.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run("subs="+strconv.Itoa(n), func(b *testing.B) {
			h := New("bench", Config{Logger: discardLogger()})
			clients := subscribeN(b, h, "room", n)
			data := json.RawMessage(`{"user":"ann","text":"hello, world"}`)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := h.Publish("room", "chat.message", data); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/delivery")
			closeAll(h, clients)
		})
	}
}

func closeAll(h *Hub, clients []*Client) {
	for _, c := range clients {
		h.closed(c, 1000, "")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = h.Stop(ctx)
}

// BenchmarkDispatch is one message's handling on the worker: decode, middleware, handler, reply
// encoded and queued. "raw" replies with the message's data as it came; "map" is the seed's echo
// handler, replying {"data": <data>}.
func BenchmarkDispatch(b *testing.B) {
	handlers := []struct {
		name string
		h    Handler
	}{
		{"raw", func(ctx *Context) error { return ctx.Reply(ctx.Message().Data) }},
		{"map", func(ctx *Context) error { return ctx.Reply(map[string]any{"data": ctx.Message().Data}) }},
	}
	for _, hd := range handlers {
		b.Run(hd.name, func(b *testing.B) {
			h := New("bench", Config{Logger: discardLogger()})
			h.Use(func(next Handler) Handler { return func(ctx *Context) error { return next(ctx) } })
			h.On("echo", hd.h)
			c, _ := benchClient(b, h)
			b.ReportAllocs()
			for b.Loop() {
				h.dispatch(c, echoMsg)
			}
			b.StopTimer()
			closeAll(h, []*Client{c})
		})
	}
}

// BenchmarkMessage is the transport's view: message() hands each message to the client's mailbox and
// the worker handles it; the clock stops when every reply has been queued.
func BenchmarkMessage(b *testing.B) {
	h := New("bench", Config{Logger: discardLogger(), ReceiveBuffer: 1 << 30, MessageRate: -1})
	h.On("echo", func(ctx *Context) error { return ctx.Reply(ctx.Message().Data) })
	c, p := benchClient(b, h)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N { // not b.Loop: the clock must run until the worker has finished
		h.message(c, frame.OpText, echoMsg)
	}
	for p.n.Load() < int64(b.N) {
		time.Sleep(10 * time.Microsecond)
	}
	b.StopTimer()
	closeAll(h, []*Client{c})
}

var echoMsg = []byte(`{"id":"42","event":"echo","data":{"user":"ann","text":"hello, world"}}`)

// benchClient opens one client of h on a countPeer, idle once its presence write is done.
func benchClient(b *testing.B, h *Hub) (*Client, *countPeer) {
	c, _, _ := h.admit(upgradeRequest())
	p := &countPeer{}
	h.open(c, p)
	idle(b, c)
	return c, p
}
