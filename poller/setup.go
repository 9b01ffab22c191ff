package poller

import (
	"context"
	"errors"
	"fmt"
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
}

// Inliner is implemented by the context of a connection whose input
// callbacks may run on the poller goroutine itself. netpoll hands every
// input task to the process's runner; the runner offers it to the task's
// context first, and runs it on a pooled goroutine (netpoll's default) when
// the context does not take it. The runner is fixed: no Options or call
// order can turn it off.
type Inliner interface {
	// RunInline either runs f on the calling (poller) goroutine and returns
	// true, or returns false without running it. f must not block, and must
	// not reach netpoll's close path (see conn's loopCtx.RunInline).
	RunInline(f func()) bool
}

func run(ctx context.Context, f func()) {
	if in, ok := ctx.(Inliner); ok && in.RunInline(f) {
		return
	}
	gopool.CtxGo(ctx, f)
}

// Go runs f on a pooled goroutine (netpoll's pool: no new goroutine while
// one of its workers is free).
func Go(f func()) { gopool.Go(f) }

// ErrConfigured is returned by Setup when netpoll was already set up with
// other Options: its settings are process-wide and fixed at first use.
var ErrConfigured = errors.New("poller: already set up with other options")

var (
	setupMu   sync.Mutex
	setupDone bool
	setupErr  error
	setupOpts Options // as in force, defaults filled in
)

// Setup configures netpoll and raises RLIMIT_NOFILE to its hard limit. It
// must run before the first connection; conn calls it with zero Options. The
// first call configures; a later call with zero Options returns the first
// call's result, and one with other non-zero Options than those in force
// returns ErrConfigured, so a setting never silently goes unapplied.
func Setup(o Options) error {
	setupMu.Lock()
	defer setupMu.Unlock()
	if setupDone {
		if o != (Options{}) && o.withDefaults() != setupOpts {
			return fmt.Errorf("%w (in force: %+v)", ErrConfigured, setupOpts)
		}
		return setupErr
	}
	setupDone = true
	setupOpts = o.withDefaults()
	setupErr = configure(setupOpts)
	return setupErr
}

func (o Options) withDefaults() Options {
	if o.BufferSize <= 0 {
		o.BufferSize = 128
	}
	if o.Pollers <= 0 {
		o.Pollers = runtime.GOMAXPROCS(0)/20 + 1
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

func configure(o Options) error {
	if _, err := RaiseFileLimit(); err != nil {
		return err
	}
	// LinkBufferCap is the floor of every buffer node netpoll allocates; at its
	// default (4 KiB) it would undo BufferSize.
	netpoll.LinkBufferCap = o.BufferSize
	shrinkWriteBarriers()
	parkedPollers = parkPollers(o.Pollers)
	err := netpoll.Configure(netpoll.Config{
		PollerNum:    o.Pollers,
		BufferSize:   o.BufferSize,
		LoggerOutput: o.Log,
		Runner:       run,
		LoadBalance:  netpoll.Random,
	})
	if err != nil {
		return err
	}
	// netpoll rebalances only the pollers it starts itself; a change of
	// policy rebuilds the balancer over those parkPollers put in place. The
	// policy ends where netpoll's default has it: round robin.
	return netpoll.Configure(netpoll.Config{LoadBalance: netpoll.RoundRobin})
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
