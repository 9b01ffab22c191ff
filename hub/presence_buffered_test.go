package hub

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// bufferedRecorder wraps a MemoryPresence, says whether it is buffered, and
// records every write with whether it ran on a hub worker goroutine.
type bufferedRecorder struct {
	Presence
	buffered bool

	mu       sync.Mutex
	onWorker int
	writes   map[string][]string // client id -> "set <channels>" / "remove", in call order
}

func newBufferedRecorder(buffered bool) *bufferedRecorder {
	return &bufferedRecorder{Presence: NewMemoryPresence(), buffered: buffered, writes: map[string][]string{}}
}

func (p *bufferedRecorder) Buffered() bool { return p.buffered }

func (p *bufferedRecorder) note(id, what string) {
	buf := make([]byte, 16<<10)
	buf = buf[:runtime.Stack(buf, false)]
	p.mu.Lock()
	defer p.mu.Unlock()
	if bytes.Contains(buf, []byte("(*worker).loop")) {
		p.onWorker++
	}
	p.writes[id] = append(p.writes[id], what)
}

func (p *bufferedRecorder) Set(ctx context.Context, info ClientInfo) error {
	chans := slices.Sorted(slices.Values(info.Channels))
	p.note(info.ID, fmt.Sprint("set ", chans))
	return p.Presence.Set(ctx, info)
}

func (p *bufferedRecorder) Remove(ctx context.Context, id string) error {
	p.note(id, "remove")
	return p.Presence.Remove(ctx, id)
}

// presenceLifecycle connects clients, subscribes each to two channels and
// unsubscribes one, closes them all, and returns what the Presence saw.
func presenceLifecycle(t *testing.T, pr *bufferedRecorder) (clients []*Client) {
	h := newHub(t, Config{Presence: pr})
	for range 40 {
		c, _ := connect(t, h)
		send(h, c, `{"id":"1","event":"subscribe","channel":"a"}`)
		send(h, c, `{"id":"2","event":"subscribe","channel":"b"}`)
		send(h, c, `{"id":"3","event":"unsubscribe","channel":"a"}`)
		clients = append(clients, c)
	}
	for _, c := range clients {
		idle(t, c)
		h.closed(c, 1000, "")
	}
	deadline := time.Now().Add(waitFor)
	for {
		pr.mu.Lock()
		done := 0
		for _, c := range clients {
			if w := pr.writes[c.ID()]; len(w) > 0 && w[len(w)-1] == "remove" {
				done++
			}
		}
		pr.mu.Unlock()
		if done == len(clients) {
			return clients
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d clients removed from the Presence within %v", done, len(clients), waitFor)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A BufferedPresence is written on the goroutine where the client changed:
// no worker goroutine is started for a connect, a subscribe or a close
// (a node closing all its clients at once started one per client), and the
// writes still arrive in order, the removal last.
func TestBufferedPresenceWrittenInPlace(t *testing.T) {
	pr := newBufferedRecorder(true)
	clients := presenceLifecycle(t, pr)
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.onWorker != 0 {
		t.Fatalf("%d writes to a buffered Presence ran on a hub worker", pr.onWorker)
	}
	want := []string{"set []", "set [a]", "set [a b]", "set [b]", "remove"}
	for _, c := range clients {
		if got := pr.writes[c.ID()]; !slices.Equal(got, want) {
			t.Fatalf("client %s: Presence saw %q, want %q", c.ID(), got, want)
		}
	}
	if n, _ := pr.Presence.Clients(context.Background()); len(n) != 0 {
		t.Fatalf("%d clients left in the Presence after every client closed", len(n))
	}
}

// Any other Presence is written on the client's worker, bounded by
// WriteTimeout, where a slow one delays no input: the counterpart that shows
// the check above can fail. Writes waiting for the worker coalesce, so only
// the last state and the removal are certain.
func TestUnbufferedPresenceWrittenOnWorker(t *testing.T) {
	pr := newBufferedRecorder(false)
	clients := presenceLifecycle(t, pr)
	pr.mu.Lock()
	defer pr.mu.Unlock()
	total := 0
	for _, c := range clients {
		w := pr.writes[c.ID()]
		total += len(w)
		if len(w) < 2 || w[len(w)-2] != "set [b]" {
			t.Fatalf("client %s: Presence saw %q, want the last set to be [b] before the removal", c.ID(), w)
		}
	}
	if pr.onWorker != total {
		t.Fatalf("%d of %d writes ran on a hub worker, want all", pr.onWorker, total)
	}
}

// A client flooding subscribe and unsubscribe costs the input goroutine at
// most one buffered Presence write per message its rate limit lets through
// (and the flood ends in 1008), while a well-behaved client beside it has
// its writes made in order.
func TestBufferedPresenceFloodIsBoundedByRate(t *testing.T) {
	pr := newBufferedRecorder(true)
	const burst = 20
	h := newHub(t, Config{Presence: pr, MessageRate: 1, MessageBurst: burst})
	flooder, _ := connect(t, h)
	calm, _ := connect(t, h)
	for i := range 500 {
		ev := "subscribe"
		if i%2 == 1 {
			ev = "unsubscribe"
		}
		send(h, flooder, `{"id":"1","event":"`+ev+`","channel":"x"}`)
	}
	send(h, calm, `{"id":"1","event":"subscribe","channel":"room"}`)
	idle(t, flooder)
	idle(t, calm)

	pr.mu.Lock()
	defer pr.mu.Unlock()
	// The open's write, one per message within the burst (a second may
	// refill one token), and the removal when the flood closes it.
	if n := len(pr.writes[flooder.ID()]); n > 1+burst+2+1 {
		t.Fatalf("the flooding client caused %d Presence writes, want at most %d", n, 1+burst+2+1)
	}
	if got, want := pr.writes[calm.ID()], []string{"set []", "set [room]"}; !slices.Equal(got, want) {
		t.Fatalf("the well-behaved client's Presence writes: %q, want %q", got, want)
	}
	if !flooder.isClosed() {
		t.Fatal("the flooding client is still open after 500 messages at a burst of 20")
	}
}
