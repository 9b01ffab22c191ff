package abuse

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/surge-ws/ws/hub"
)

// storm subscribes one connection to n channels named by name, pipelined,
// waits for every answer and says goodbye.
func (e *env) storm(ctx context.Context, n int, name func(i int) string) {
	c, err := e.dial(ctx, e.src())
	if err != nil {
		return
	}
	r := e.startReader(c, isReply)
	sent := e.pump(c, n, func(dst []byte, i int) []byte {
		return text(dst, id("s", i), "subscribe", name(i), nil)
	})
	if !r.wait(ctx, int64(sent), time.Now().Add(e.o.Timeout)) && !r.ended.Load() {
		e.got.Add("subscribes unanswered at the deadline")
	}
	e.goodbye(c, r)
}

// answeredAll checks that want subscribes were answered (ok or refused),
// unless the server closed the connection with 1008 instead.
func answeredAll(want func(s Sizes) int) func(e *env, got map[string]int64) error {
	return func(e *env, got map[string]int64) error {
		w := int64(want(e.sz))
		if n := count(got, "reply "); n != w && count(got, "close 1008") == 0 {
			return fmt.Errorf("%d of %d subscribes answered", n, w)
		}
		return nil
	}
}

var stormCases = []Case{
	{
		Name:   "subscribe-storm-one",
		Server: ServerChat,
		What:   "one client subscribes to -channels distinct channels, pipelined, then leaves",
		Expect: "reply ok ×128 (MaxChannelsPerClient), then 403 too many channels; 429 past the rate limit's burst, then close 1008 rate limit exceeded",
		run: func(ctx context.Context, e *env) error {
			e.storm(ctx, e.sz.Channels, func(i int) string { return fmt.Sprintf("storm-%d", i) })
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			if err := answeredAll(func(s Sizes) int { return s.Channels })(e, got); err != nil {
				return err
			}
			if n := got["reply ok"]; n != min(int64(e.sz.Channels), hub.DefaultMaxChannelsPerClient) {
				return fmt.Errorf("%d subscribes answered ok (MaxChannelsPerClient is %d)", n, hub.DefaultMaxChannelsPerClient)
			}
			return nil
		},
	},
	{
		Name:   "subscribe-storm-many",
		Server: ServerChat,
		What:   "-storm-clients clients at once from as many hosts, each subscribing to its own 100 channels, then leaving",
		Expect: "every subscribe answered ok",
		spread: true,
		run: func(ctx context.Context, e *env) error {
			var wg sync.WaitGroup
			for k := range e.sz.StormClients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e.storm(ctx, e.sz.StormPerClient, func(i int) string { return fmt.Sprintf("storm-%d-%d", k, i) })
				}()
			}
			wg.Wait()
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			if w := int64(e.sz.StormClients * e.sz.StormPerClient); got["reply ok"] != w {
				return fmt.Errorf("%d of %d subscribes answered ok", got["reply ok"], w)
			}
			return nil
		},
	},
	{
		Name:   "channel-name-max",
		Server: ServerChat,
		What:   "-names subscribes to distinct 255-byte channel names (64 per connection)",
		Expect: "reply ok for each",
		run: func(ctx context.Context, e *env) error {
			e.names(ctx, hub.DefaultMaxChannelLength)
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			if got["reply ok"] != int64(e.sz.Names) {
				return fmt.Errorf("%d of %d subscribes answered ok", got["reply ok"], e.sz.Names)
			}
			return nil
		},
	},
	{
		Name:   "channel-name-over",
		Server: ServerChat,
		What:   "-names subscribes to distinct 256-byte names and -names to 32 KiB names (64 per connection)",
		Expect: "reply error 400 channel too long (MaxChannelLength, 255 bytes) for each",
		run: func(ctx context.Context, e *env) error {
			e.names(ctx, hub.DefaultMaxChannelLength+1)
			e.names(ctx, 32<<10)
			return nil
		},
		check: func(e *env, got map[string]int64) error {
			if n := count(got, "reply error 400 channel too long"); n != int64(2*e.sz.Names) {
				return fmt.Errorf("%d of %d subscribes refused with 400 channel too long", n, 2*e.sz.Names)
			}
			return nil
		},
	},
}

// names subscribes to sizes.Names distinct channels of length n, 64 per
// connection (under any per-client channel limit).
func (e *env) names(ctx context.Context, n int) {
	const perConn = 64
	for first := 0; first < e.sz.Names; first += perConn {
		e.storm(ctx, min(perConn, e.sz.Names-first), func(i int) string {
			s := fmt.Sprintf("name-%d-", first+i)
			return s + strings.Repeat("x", n-len(s))
		})
	}
}
