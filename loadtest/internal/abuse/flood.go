package abuse

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/surge-ws/ws/frame"
)

// floodEvents are the events a flood is sent with: every built-in event,
// the seed's two handlers, and one no handler answers.
var floodEvents = []struct{ event, channel, data string }{
	{"subscribe", "flood", ""},
	{"unsubscribe", "flood", ""},
	{"ping", "", ""},
	{"echo", "", `{"n":%d}`},
	{"chat.message", "", `{"n":%d}`},
	{"nope", "", ""},
}

// floodCase: one client sends sizes.Flood messages of one event as fast as
// it can write, reading what comes back meanwhile, then resets the
// connection without a close frame.
func floodCase(event, channel, data string) Case {
	return Case{
		Name:   "flood-" + event,
		Server: ServerChat,
		What:   fmt.Sprintf("-flood %q messages as fast as TCP takes them, then RST (no close frame)", event),
		Expect: "none required (it vanishes); as far as it reads: replies for the rate limit's burst, 429 rate limit exceeded, close 1008 rate limit exceeded",
		run: func(ctx context.Context, e *env) error {
			c, err := e.dial(ctx, e.src())
			if err != nil {
				return nil
			}
			if event == "chat.message" && !e.roundTrip(c, "s", "subscribe", "room", nil) {
				c.reset()
				return nil // it gets its own publishes too
			}
			r := e.startReader(c, isReply)
			e.pump(c, e.sz.Flood, func(dst []byte, i int) []byte {
				var d []byte
				if data != "" {
					d = fmt.Appendf(nil, data, i)
				}
				return text(dst, id("f", i), event, channel, d)
			})
			vanish(c, r)
			return nil
		},
	}
}

// hangupCase is the freeze of 2026-12-02: a client subscribes, sends a
// burst and its close frame in one write, and closes TCP at once (FIN, or
// RST with rst). sizes.Repeat clients do it one after another; each must
// still be upgraded and answered.
func hangupCase(rst bool) Case {
	name, how := "close-then-hangup", "FIN"
	if rst {
		name, how = "close-then-reset", "RST"
	}
	return Case{
		Name:   name,
		Server: ServerChat,
		What:   fmt.Sprintf("-repeat clients, one after another: subscribe, 100 echo + close frame in one write, then %s at once", how),
		Expect: "every one upgraded and its subscribe answered (reply ok)",
		run: func(ctx context.Context, e *env) error {
			for i := range e.sz.Repeat {
				c, err := e.dial(ctx, e.src())
				if err != nil {
					if isTimeout(err) {
						e.fail("client %d: handshake not answered within %s: stopped", i, e.o.Timeout)
						return nil
					}
					continue
				}
				if !e.roundTrip(c, "s", "subscribe", "room", nil) {
					c.reset()
					continue
				}
				var buf []byte
				for j := range 100 {
					buf = text(buf, id("e", j), "echo", "", strconv.AppendInt(nil, int64(j), 10))
				}
				buf = appendMasked(buf, frame.OpClose, frame.AppendClose(nil, frame.CloseNormal, ""))
				if err := c.write(buf, e.o.Timeout); err != nil {
					e.got.Add("our write failed: " + endReason(err))
				}
				e.sent.Add(102)
				if rst {
					c.reset()
				} else {
					_ = c.nc.Close()
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			if n := got["reply ok"]; n != int64(e.sz.Repeat) {
				return fmt.Errorf("%d of %d subscribes answered ok", n, e.sz.Repeat)
			}
			return nil
		},
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// noProtocolBreak is the check every case must pass besides its own: the server's
// frames and messages were well-formed.
func noProtocolBreak(_ *env, got map[string]int64) error {
	for _, bad := range []string{"server broke the protocol", "message that is not a JSON object", "close frame that does not parse"} {
		if n := count(got, bad); n > 0 {
			return fmt.Errorf("%s ×%d", bad, n)
		}
	}
	return nil
}
