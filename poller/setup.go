package poller

import (
	"context"
	"io"
	"runtime"
	"sync"

	"github.com/bytedance/gopkg/util/gopool"
	"github.com/cloudwego/netpoll"
	"golang.org/x/sys/unix"
)

// Options tune the process-wide event loop. The zero value is what a server
// holding many mostly idle connections wants.
type Options struct {
	// BufferSize is the first input buffer node netpoll gives a connection.
	// netpoll doubles it for a connection that fills it, so small is cheap for
	// idle connections and costs little for busy ones. Default 128 bytes.
	BufferSize int
	// Pollers is the number of epoll loops. Default: one per 20 CPUs, at least one
	// (netpoll's own advice: one loop keeps up with a small machine).
	Pollers int
	// Log receives netpoll's own log lines. Default: discarded, because netpoll
	// logs expected events (peer resets) that callers see as errors anyway.
	Log io.Writer
	// Runner runs netpoll's input callbacks; it may run f on the calling
	// (poller) goroutine when f cannot block. Default DefaultRunner.
	Runner func(ctx context.Context, f func())
}

// DefaultRunner runs f on a pooled goroutine, as netpoll does by default.
func DefaultRunner(ctx context.Context, f func()) { gopool.CtxGo(ctx, f) }

// Go runs f on a pooled goroutine (netpoll's pool: no new goroutine while
// one of its workers is free).
func Go(f func()) { gopool.Go(f) }

var (
	setupOnce sync.Once
	setupErr  error
)

// Setup configures netpoll and raises RLIMIT_NOFILE to its hard limit. It must
// run before the first connection; conn calls it with zero Options unless the
// program called it first. Only the first call has effect.
func Setup(o Options) error {
	setupOnce.Do(func() {
		if o.BufferSize <= 0 {
			o.BufferSize = 128
		}
		if o.Pollers <= 0 {
			o.Pollers = runtime.GOMAXPROCS(0)/20 + 1
		}
		if o.Log == nil {
			o.Log = io.Discard
		}
		if _, err := RaiseFileLimit(); err != nil {
			setupErr = err
			return
		}
		// LinkBufferCap is the floor of every buffer node netpoll allocates; at its
		// default (4 KiB) it would undo BufferSize.
		netpoll.LinkBufferCap = o.BufferSize
		shrinkWriteBarriers()
		setupErr = netpoll.Configure(netpoll.Config{
			PollerNum:    o.Pollers,
			BufferSize:   o.BufferSize,
			LoggerOutput: o.Log,
			Runner:       o.Runner,
		})
	})
	return setupErr
}

// RaiseFileLimit sets the soft RLIMIT_NOFILE to the hard limit and returns the
// new soft limit. Raising the hard limit needs CAP_SYS_RESOURCE, which servers
// rarely have, so it does not try.
func RaiseFileLimit() (uint64, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
			return 0, err
		}
	}
	return rl.Cur, nil
}
