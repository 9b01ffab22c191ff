package interop

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/surge-ws/ws/hub"
)

// TestHubSlowConsumerGorilla: a gorilla client subscribes to room and stops
// reading while the hub publishes large messages there. Its send queue
// (SendBuffer 8) fills once the kernel's buffers are full, and the transport
// closes it with 1008 "send buffer full". Meanwhile another subscriber, which
// reads, gets every message, and no Publish fails because of the slow one.
// When the slow client reads again it finds an unbroken prefix of the
// messages, then the close frame; Stats counts it in SlowClients.
func TestHubSlowConsumerGorilla(t *testing.T) {
	const (
		sendBuffer = 8
		window     = sendBuffer / 2 // publish i only once fast has read i-window: fast's queue never fills
		maxN       = 1000           // 32 MB: far beyond any loopback buffer; the slow queue must have overflowed by then
	)
	// WriteTimeout is long so that the slow client is closed by its full
	// queue, not by the write timeout, however slowly this machine runs.
	h := seedHub(hub.Config{SendBuffer: sendBuffer, WriteTimeout: 30 * time.Second})
	addr := serveHub(t, h)
	fast := dialGorillaHub(t, addr, "fast", 0)
	slow := dialGorillaHub(t, addr, "slow", 32<<10) // a small receive buffer: fewer bytes to publish before it backs up
	for _, g := range []*gorillaHub{fast, slow} {
		g.send(`{"id":"s","event":"subscribe","channel":"room"}`)
		checkResponse(t, g.next(), "s", "subscribe", true)
	}

	type load struct {
		Channel string `json:"channel"`
		Event   string `json:"event"`
		Data    struct {
			Seq int    `json:"seq"`
			Pad string `json:"pad"`
		} `json:"data"`
	}
	pad := strings.Repeat("x", 32<<10)

	// The fast subscriber reads everything, reporting each seq, until "done".
	seqs := make(chan int, maxN+1)
	fastErr := make(chan error, 1)
	go func() {
		defer close(seqs)
		_ = fast.c.SetReadDeadline(time.Now().Add(60 * time.Second))
		for {
			_, p, err := fast.c.ReadMessage()
			if err != nil {
				fastErr <- err
				return
			}
			var m load
			if err := json.Unmarshal(p, &m); err != nil {
				fastErr <- err
				return
			}
			if m.Event == "done" {
				fastErr <- nil
				return
			}
			if m.Channel != "room" || m.Event != "load" || len(m.Data.Pad) != len(pad) {
				fastErr <- errors.New("fast subscriber got a wrong message: " + string(p[:min(len(p), 200)]))
				return
			}
			seqs <- m.Data.Seq
		}
	}()

	var fastGot []int
	waitFast := func(seq int) {
		t.Helper()
		for len(fastGot) == 0 || fastGot[len(fastGot)-1] < seq {
			select {
			case s, ok := <-seqs:
				if !ok {
					t.Fatalf("the fast subscriber stopped after %d messages: %v", len(fastGot), <-fastErr)
				}
				fastGot = append(fastGot, s)
			case <-time.After(20 * time.Second):
				t.Fatalf("the fast subscriber is stuck after %d messages", len(fastGot))
			}
		}
	}

	n, overflowAt := 0, -1
	for ; n < maxN; n++ {
		if n >= window {
			waitFast(n - window)
		}
		if err := h.Publish("room", "load", map[string]any{"seq": n, "pad": pad}); err != nil {
			t.Fatalf("Publish %d: %v", n, err)
		}
		if overflowAt < 0 && h.Stats().Dropped > 0 {
			overflowAt = n // the slow client's queue refused message n
		}
		if overflowAt >= 0 && n >= overflowAt+3 {
			n++
			break // a few more publishes, to the closing client too
		}
	}
	if overflowAt < 0 {
		t.Fatalf("%d messages of %d bytes and the slow client's queue never filled", maxN, len(pad))
	}
	t.Logf("the slow client's queue overflowed at message %d of %d", overflowAt, n)

	// The slow client reads again (promptly: the server waits CloseTimeout,
	// 5 s, for its close frame to go out): a prefix, then 1008.
	_ = slow.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	var slowGot int
	var closeErr *websocket.CloseError
	for {
		_, p, err := slow.c.ReadMessage()
		if err != nil {
			if !errors.As(err, &closeErr) {
				t.Fatalf("slow client: after %d messages: %v, want a close frame", slowGot, err)
			}
			break
		}
		var m load
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatalf("slow client: message %d: %v", slowGot, err)
		}
		if m.Event != "load" || m.Data.Seq != slowGot || len(m.Data.Pad) != len(pad) {
			t.Fatalf("slow client: message %d is seq %d event %q (%d bytes pad): the prefix is broken",
				slowGot, m.Data.Seq, m.Event, len(m.Data.Pad))
		}
		slowGot++
	}
	_ = slow.c.Close()
	if closeErr.Code != websocket.ClosePolicyViolation || closeErr.Text != "send buffer full" {
		t.Fatalf("slow client closed with %d %q, want 1008 \"send buffer full\"", closeErr.Code, closeErr.Text)
	}
	if slowGot == 0 || slowGot > overflowAt {
		t.Fatalf("slow client read %d messages before the close; want some, and none from %d on", slowGot, overflowAt)
	}
	t.Logf("the slow client read %d messages, then 1008 \"send buffer full\"", slowGot)

	// The fast subscriber got every message, in order.
	if err := h.Publish("room", "done", nil); err != nil {
		t.Fatal(err)
	}
	waitFast(n - 1)
	if err := <-fastErr; err != nil {
		t.Fatalf("fast subscriber: %v", err)
	}
	for i, s := range fastGot {
		if s != i {
			t.Fatalf("fast subscriber: message %d is seq %d", i, s)
		}
	}
	if len(fastGot) != n {
		t.Fatalf("fast subscriber got %d messages, want %d", len(fastGot), n)
	}

	// closed() counts SlowClients a moment before it unregisters the client.
	waitFor(t, "SlowClients to count the slow client, and the client to go", func() bool {
		s := h.Stats()
		return s.SlowClients == 1 && s.Clients == 1
	})
	s := h.Stats()
	if s.SlowClients != 1 || s.Clients != 1 || s.Dropped == 0 {
		t.Fatalf("stats %+v: want 1 client left and dropped frames counted", s)
	}
	if ci, _ := h.Channel("room"); ci.Clients != 1 {
		t.Fatalf("room has %d subscribers, want the fast one", ci.Clients)
	}
	if list := h.Clients(hub.ByID("slow")); len(list) != 0 {
		t.Fatalf("the slow client is still listed: %+v", list)
	}
	t.Logf("stats: %+v", s)
}
