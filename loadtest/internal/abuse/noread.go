package abuse

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/proto"
)

// pubWindow is how many publishes may wait for their acknowledgement: the
// publisher is a well-behaved client and must not trip the server's inbound
// limits itself.
const pubWindow = 8

var noReadCase = Case{
	Name:   "never-read",
	Server: ServerChat,
	What:   "-noread subscribers of room (4 KiB receive buffer) never read while one publisher sends -publish messages of -publish-size bytes to room; -readers subscribers read",
	Expect: "close 1008 send buffer full for each non-reader; every reader gets every message",
	run:    func(ctx context.Context, e *env) error { return e.neverRead(ctx) },
	check: func(e *env, got map[string]int64) error {
		if n := got["close 1008 send buffer full"]; n != int64(e.sz.NoRead) {
			return fmt.Errorf("%d of %d non-readers closed with 1008 send buffer full", n, e.sz.NoRead)
		}
		return nil
	},
}

func (e *env) neverRead(ctx context.Context) error {
	// The non-readers: subscribed, then left alone.
	var stuck []*wsConn
	defer func() {
		for _, c := range stuck {
			_ = c.nc.Close()
		}
	}()
	for range e.sz.NoRead {
		o := e.src()
		o.rcvbuf = 4096
		c, err := e.dial(ctx, o)
		if err != nil {
			continue
		}
		stuck = append(stuck, c)
		if !e.roundTrip(c, "s", "subscribe", "room", nil) {
			e.fail("a non-reader's subscribe was not answered ok")
		}
	}

	// The readers count the publishes (they are bystanders, not offenders:
	// what they get is checked, not tallied).
	readers := make([]*bystander, e.sz.Readers)
	for i := range readers {
		b, err := e.bystander(ctx, "room")
		if err != nil {
			e.fail("reader %d: %v", i, err)
			return nil
		}
		readers[i] = b
		defer b.close()
	}

	// The publishers: each sends at most three quarters of the server's
	// burst, so none meets the rate limit (they are not the offence).
	perPub := max(1, e.o.MessageBurst*3/4)
	var acked, refused int64
	var refusal string
	for first := 0; first < e.sz.Publish; first += perPub {
		pub, err := e.bystander(ctx, "")
		if err != nil {
			e.fail("publisher: %v", err)
			return nil
		}
		ok := e.publish(ctx, pub, first, min(first+perPub, e.sz.Publish))
		acked += pub.acks.Load()
		refused += pub.refused.Load()
		if r := pub.lastRefusal(); r != "" {
			refusal = r
		}
		pub.close()
		if !ok {
			return nil
		}
	}
	if refused > 0 {
		e.fail("the publishers' messages were refused %d times (%s)", refused, refusal)
	}
	want := int64(e.sz.Publish)
	wait := time.Now().Add(e.o.Timeout)
	for time.Now().Before(wait) {
		done := true
		for _, b := range readers {
			done = done && b.pushes.Load() == want
		}
		if done {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i, b := range readers {
		if n := b.pushes.Load(); n != want {
			e.fail("reader %d got %d of %d messages", i, n, want)
		}
	}

	// What each non-reader got in the end: what the kernel buffered, then
	// (if the server gave up on it) a close frame.
	var wg sync.WaitGroup
	for _, c := range stuck {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.got.Add(drain(c, time.Now().Add(e.o.Timeout), nil, nil))
		}()
	}
	wg.Wait()
	return nil
}

// publish sends messages [first, end) to room through pub, at most
// pubWindow unacknowledged, and waits for the last acknowledgement.
func (e *env) publish(ctx context.Context, pub *bystander, first, end int) bool {
	pad := strings.Repeat("x", e.sz.PublishSize)
	deadline := time.Now().Add(e.o.Timeout)
	answered := func() int64 { return pub.acks.Load() + pub.refused.Load() }
	for i := first; i <= end; i++ {
		for int64(i-first)-answered() >= pubWindow || (i == end && answered() < int64(end-first)) {
			if time.Now().After(deadline) || ctx.Err() != nil || pub.ended.Load() {
				e.fail("publisher: acknowledgement %d not received within %s", first+int(answered()), e.o.Timeout)
				return false
			}
			time.Sleep(time.Millisecond)
		}
		if i == end {
			return true
		}
		deadline = time.Now().Add(e.o.Timeout)
		req := proto.AppendRequest(nil, id("p", i), "chat.message", "", fmt.Appendf(nil, `{"seq":%d,"text":%q}`, i, pad))
		if err := pub.c.write(appendMasked(nil, frame.OpText, req), e.o.Timeout); err != nil {
			e.fail("publisher: write: %v", err)
			return false
		}
	}
	return true
}

// bystander is a well-behaved client of a case: it reads everything and
// counts the pushes of chat.message and its own acknowledgements.
type bystander struct {
	c       *wsConn
	pushes  atomic.Int64
	acks    atomic.Int64
	refused atomic.Int64
	ended   atomic.Bool
	mu      sync.Mutex
	refusal string
	done    chan struct{}
}

// bystander connects from the probe's address (it is not an offender),
// subscribes to channel (unless empty) and starts reading.
func (e *env) bystander(ctx context.Context, channel string) (*bystander, error) {
	c, err := dialWS(ctx, e.t, dialOpts{src: e.o.ProbeSource}, e.o.Timeout)
	if err != nil {
		return nil, err
	}
	b := &bystander{c: c, done: make(chan struct{})}
	if channel != "" {
		if err := c.write(text(nil, "s", "subscribe", channel, nil), e.o.Timeout); err != nil {
			c.nc.Close()
			return nil, err
		}
	}
	go b.read()
	if channel != "" {
		deadline := time.Now().Add(e.o.Timeout)
		for b.acks.Load() == 0 {
			if time.Now().After(deadline) || b.ended.Load() {
				b.close()
				return nil, fmt.Errorf("subscribe to %s not acknowledged within %s", channel, e.o.Timeout)
			}
			time.Sleep(time.Millisecond)
		}
		b.acks.Store(0)
	}
	return b, nil
}

func (b *bystander) read() {
	defer close(b.done)
	defer b.ended.Store(true)
	for {
		f, err := b.c.next(time.Time{})
		if err != nil || f.Op == frame.OpClose {
			return
		}
		var m proto.Msg
		if f.Op != frame.OpText || proto.Scan(f.Payload, &m) != nil {
			continue
		}
		switch {
		case m.Reply && m.OK:
			b.acks.Add(1)
		case m.Reply:
			b.refused.Add(1)
			b.mu.Lock()
			b.refusal = classify(f)
			b.mu.Unlock()
		case string(m.Event) == "chat.message":
			b.pushes.Add(1)
		}
	}
}

func (b *bystander) lastRefusal() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refusal
}

func (b *bystander) close() {
	_ = b.c.nc.Close()
	<-b.done
}
