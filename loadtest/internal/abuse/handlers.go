package abuse

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// notRegistered is the hub's answer to an event without a handler: a
// server given with -url that lacks the handler a case needs.
const notRegistered = "reply error 404 handler %s is not registered"

var handlerCases = []Case{
	{
		Name:   "handler-panic",
		Server: ServerHostile,
		What:   "-panics requests to a handler that panics (16 unanswered at most), then one echo, on connections of 3/4 of the rate limit's burst each",
		Expect: "reply error 500 internal error for each; the connection stays open (the echo is answered)",
		run: func(ctx context.Context, e *env) error {
			perConn := max(1, e.o.MessageBurst*3/4-1)
			for first := 0; first < e.sz.Panics && ctx.Err() == nil; first += perConn {
				c, err := e.dial(ctx, e.src())
				if err != nil {
					continue
				}
				r := e.startReader(c, isReply)
				// At most 16 unanswered: the case is about panics, not about
				// a burst of replies meeting the send buffer (32 messages).
				sent := e.windowed(ctx, c, r, min(perConn, e.sz.Panics-first), 16, func(dst []byte, i int) []byte { return text(dst, id("x", i), "panic", "", nil) })
				sent += e.pump(c, 1, func(dst []byte, i int) []byte { return text(dst, "after", "echo", "", []byte("1")) })
				if !r.wait(ctx, int64(sent), time.Now().Add(e.o.Timeout)) && !r.ended.Load() {
					e.got.Add("unanswered at the deadline")
				}
				e.goodbye(c, r)
			}
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			if got[fmt.Sprintf(notRegistered, "panic")] > 0 {
				return errNoHandler
			}
			if n := got["reply error 500 internal error"]; n != int64(e.sz.Panics) {
				return fmt.Errorf("%d of %d panics answered 500 internal error", n, e.sz.Panics)
			}
			if conns := (e.sz.Panics + e.o.MessageBurst*3/4 - 2) / max(1, e.o.MessageBurst*3/4-1); got["reply ok"] != int64(conns) {
				return fmt.Errorf("%d of %d echoes after the panics answered ok", got["reply ok"], conns)
			}
			return nil
		},
	},
	{
		Name:   "handler-block",
		Server: ServerHostile,
		What:   "-blockers clients each send a request whose handler never returns, then -block-msgs echo requests, under the rate limit",
		Expect: "close 1008 receive buffer full once more than ReceiveBuffer (256) messages wait; the blocked handlers' goroutines stay (Go cannot stop them)",
		run: func(ctx context.Context, e *env) error {
			var wg sync.WaitGroup
			for range e.sz.Blockers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := e.dial(ctx, e.src())
					if err != nil {
						return
					}
					defer c.nc.Close()
					r := e.startReader(c, nil)
					e.paced(ctx, c, 1+e.sz.BlockMsgs, func(dst []byte, i int) []byte {
						if i == 0 {
							return text(dst, "b", "block", "", nil)
						}
						return text(dst, id("e", i), "echo", "", []byte(strconv.Itoa(i)))
					})
					select {
					case <-r.done:
					case <-time.After(e.o.Timeout):
						r.quiet.Store(true)
						e.got.Add("still open at the deadline")
					}
				}()
			}
			wg.Wait()
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			if got[fmt.Sprintf(notRegistered, "block")] > 0 {
				return errNoHandler
			}
			if n := got["close 1008 receive buffer full"]; n != int64(e.sz.Blockers) {
				return fmt.Errorf("%d of %d blocked clients closed with 1008 receive buffer full", n, e.sz.Blockers)
			}
			return nil
		},
		leak: func(s Sizes) int { return s.Blockers },
	},
}

// errNoHandler marks a case the server at -url cannot serve.
var errNoHandler = fmt.Errorf("the server has no such handler (use the hostile server: loadtest/peers/hostile)")
