package abuse

import (
	"context"
	"fmt"
	"time"

	"github.com/surge-ws/ws/hub"
)

// The hub's default per-connection message limit (Config.MessageRate and
// MessageBurst), which the well-behaved clients of the cases keep under.
const (
	defaultMessageRate  = hub.DefaultMessageRate
	defaultMessageBurst = hub.DefaultMessageBurst
)

// paced writes n frames made by gen as a client that keeps under the
// server's message rate would: up to three quarters of the burst at once,
// then a fifth of a second's worth every 250 ms (80 % of the rate). It
// returns how many frames were written.
func (e *env) paced(ctx context.Context, c *wsConn, n int, gen func(dst []byte, i int) []byte) int {
	first := max(1, e.o.MessageBurst*3/4)
	step := max(1, int(e.o.MessageRate/5))
	sent := 0
	for sent < n {
		k := min(step, n-sent)
		if sent == 0 {
			k = min(first, n)
		} else if !sleepCtx(ctx, 250*time.Millisecond) {
			break
		}
		base := sent
		w := e.pump(c, k, func(dst []byte, i int) []byte { return gen(dst, base+i) })
		sent += w
		if w < k {
			break
		}
	}
	return sent
}

// overRateCase: a client over the rate limit but not flooding gets 429s
// for the excess and keeps its connection.
var overRateCase = Case{
	Name:   "over-rate",
	Server: ServerChat,
	What:   "one client sends the rate limit's burst + 50 echo requests at once, waits 1 s, sends one more",
	Expect: "reply ok for the burst, reply error 429 rate limit exceeded for the excess; the connection stays open and the last echo is answered ok",
	run: func(ctx context.Context, e *env) error {
		c, err := e.dial(ctx, e.src())
		if err != nil {
			return nil
		}
		r := e.startReader(c, isReply)
		n := e.o.MessageBurst + 50
		sent := e.pump(c, n, func(dst []byte, i int) []byte { return text(dst, id("e", i), "echo", "", []byte("1")) })
		r.wait(ctx, int64(sent), time.Now().Add(e.o.Timeout))
		// The debt of the excess is paid back at the rate; then one more.
		sleepCtx(ctx, time.Second+time.Duration(float64(time.Second)*50/e.o.MessageRate))
		sent += e.pump(c, 1, func(dst []byte, i int) []byte { return text(dst, "last", "echo", "", []byte("1")) })
		if !r.wait(ctx, int64(sent), time.Now().Add(e.o.Timeout)) && !r.ended.Load() {
			e.got.Add("unanswered at the deadline")
		}
		e.goodbye(c, r)
		return nil
	},
	check: func(e *env, got map[string]int64) error {
		ok, limited := got["reply ok"], count(got, "reply error 429")
		switch {
		case ok+limited != int64(e.o.MessageBurst+51):
			return fmt.Errorf("%d ok and %d 429 of %d requests", ok, limited, e.o.MessageBurst+51)
		case limited == 0:
			return fmt.Errorf("no 429 for %d requests at once", e.o.MessageBurst+50)
		case ok < int64(e.o.MessageBurst)+1:
			return fmt.Errorf("only %d answered ok: the burst (%d) and the last one should be", ok, e.o.MessageBurst)
		case count(got, "close ") > 0:
			return fmt.Errorf("closed: %v", kinds(got))
		}
		return nil
	},
}
