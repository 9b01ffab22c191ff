package abuse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/client"
)

// Options configure an abuse run; the CLI fills them from flags.
type Options struct {
	// URL is the hub to target. Empty: build examples/chat (and, for the
	// handler cases, loadtest/peers/hostile) from Root and start a fresh
	// server process for every case.
	URL string
	// ServerPID and StatsURL describe the server at URL, for its descriptors,
	// memory and goroutines (ignored when the run starts its own servers).
	ServerPID int
	StatsURL  string
	// Root is the repository root, for building the servers.
	Root string

	// Cases are the names of the cases to run, in this order (empty: every
	// case, in the order of Cases).
	Cases []string
	Sizes Sizes

	// ProbeEvery is the probe's interval between questions. Default 15 ms.
	ProbeEvery time.Duration
	// Liveness is the longest the probe may wait for an answer before the
	// case fails: a liveness bound, not a speed goal. Default 2 s.
	Liveness time.Duration
	// Timeout bounds each handshake and each wait for an answer. Default 10 s.
	Timeout time.Duration
	// ReturnWithin bounds the wait for the server's descriptors and
	// goroutines to return to their baseline after a case. Default 15 s.
	ReturnWithin time.Duration
	// CaseTime bounds one case's hostile phase. Default 60 s.
	CaseTime time.Duration
	// MaxTime bounds the whole run. Default 15 min.
	MaxTime time.Duration

	// Offenders are the local addresses the hostile connections come from
	// (round robin). Default 127.0.0.2 for an IPv4 loopback target: one
	// attacking host, which per-address limits are meant to stop.
	Offenders []netip.Addr
	// ProbeSource is the probe's local address. Default 127.0.0.1 for an
	// IPv4 loopback target: another host than the offenders'.
	ProbeSource netip.Addr
	// Spread are the addresses of the cases that stand for many hosts
	// (subscribe-storm-many, slowloris-spread). Default 127.0.0.2 to
	// 127.0.0.254 for an IPv4 loopback target.
	Spread []netip.Addr
	// AllowRemote permits a target that is not a loopback address.
	AllowRemote bool

	// MessageRate and MessageBurst are the server's per-connection limit on
	// inbound messages, which the well-behaved clients of a case (the
	// never-read publishers, the paced blocked clients) keep under, and
	// which over-rate probes. Default: the hub's defaults, 100 a second
	// with bursts of 200.
	MessageRate  float64
	MessageBurst int

	// Log receives a line per case as it finishes (nil: none).
	Log io.Writer
}

// Sizes scale the cases. Zero fields take the defaults of DefaultSizes.
type Sizes struct {
	Flood          int // messages of one flood
	PingFlood      int // pings of ping-flood-noread
	Repeat         int // close-then-hangup clients, one after another
	Channels       int // distinct channels one client subscribes to
	StormClients   int // clients of the many-clients subscribe storm
	StormPerClient int // channels each of them subscribes to
	Names          int // subscribes with a long channel name
	Protocol       int // connections of each protocol-violation case
	Slowloris      int // connections trickling their handshake
	HalfOpen       int // connections that send nothing at all
	NoRead         int // subscribers that never read
	Readers        int // subscribers that read, beside them
	Publish        int // messages published on the hot channel
	PublishSize    int // bytes of filler in each
	Churn          int // connect-and-reset cycles
	ChurnConc      int // cycles in flight
	Panics         int // messages to the panicking handler
	Blockers       int // clients whose handler blocks forever
	BlockMsgs      int // messages each sends after the blocking one
	// Trickle is the interval between two bytes of a slowloris handshake.
	Trickle time.Duration
	// Hold bounds how long slowloris and half-open connections wait for the
	// server to close them (they are closed by us after it).
	Hold time.Duration
}

// DefaultSizes are the sizes of a run on a laptop: a few seconds per case.
var DefaultSizes = Sizes{
	Flood: 20000, PingFlood: 200000, Repeat: 20, Channels: 10000, StormClients: 100, StormPerClient: 100,
	Names: 200, Protocol: 20, Slowloris: 2000, HalfOpen: 2000,
	NoRead: 20, Readers: 10, Publish: 600, PublishSize: 16 << 10,
	Churn: 1000, ChurnConc: 16, Panics: 1000, Blockers: 4, BlockMsgs: 300,
	Trickle: time.Second, Hold: 15 * time.Second,
}

func (s Sizes) withDefaults() Sizes {
	d := DefaultSizes
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&s.Flood, d.Flood)
	set(&s.PingFlood, d.PingFlood)
	set(&s.Repeat, d.Repeat)
	set(&s.Channels, d.Channels)
	set(&s.StormClients, d.StormClients)
	set(&s.StormPerClient, d.StormPerClient)
	set(&s.Names, d.Names)
	set(&s.Protocol, d.Protocol)
	set(&s.Slowloris, d.Slowloris)
	set(&s.HalfOpen, d.HalfOpen)
	set(&s.NoRead, d.NoRead)
	set(&s.Readers, d.Readers)
	set(&s.Publish, d.Publish)
	set(&s.PublishSize, d.PublishSize)
	set(&s.Churn, d.Churn)
	set(&s.ChurnConc, d.ChurnConc)
	set(&s.Panics, d.Panics)
	set(&s.Blockers, d.Blockers)
	set(&s.BlockMsgs, d.BlockMsgs)
	if s.Trickle <= 0 {
		s.Trickle = d.Trickle
	}
	if s.Hold <= 0 {
		s.Hold = d.Hold
	}
	return s
}

func (o *Options) defaults() {
	o.Sizes = o.Sizes.withDefaults()
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = 15 * time.Millisecond
	}
	if o.Liveness <= 0 {
		o.Liveness = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.ReturnWithin <= 0 {
		o.ReturnWithin = 15 * time.Second
	}
	if o.CaseTime <= 0 {
		o.CaseTime = 60 * time.Second
	}
	if o.MaxTime <= 0 {
		o.MaxTime = 15 * time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.MessageRate <= 0 {
		o.MessageRate = defaultMessageRate
	}
	if o.MessageBurst <= 0 {
		o.MessageBurst = defaultMessageBurst
	}
}

// Server names which server a case needs.
const (
	ServerChat    = "chat"    // examples/chat
	ServerHostile = "hostile" // loadtest/peers/hostile: chat plus the panic and block handlers
)

// Case is one hostile client behaviour.
type Case struct {
	Name   string
	What   string // what the offender does
	Server string // ServerChat or ServerHostile
	// Expect is the answer the offender should get, in words.
	Expect string
	run    func(ctx context.Context, e *env) error
	// check says whether what the offender got is the expected answer (nil:
	// any answer will do, e.g. a client that vanished).
	check func(e *env, got map[string]int64) error
	// leak is the number of goroutines the case leaves in the server by
	// design (a handler that never returns), allowed above the baseline.
	leak func(s Sizes) int
	// spread: the offenders stand for many hosts (Options.Spread), not one.
	spread bool
	// args are the server's flags for the case (after -addr, -stats-addr).
	args []string
	// maxGrowth bounds the server's RSS growth during the case (peak minus
	// baseline), for cases whose offence is to make the server hold memory
	// (0: not checked).
	maxGrowth int64
}

// env is what a case runs with: the target, the sizes, and the tallies of
// what its offenders got.
type env struct {
	t         target
	o         *Options
	sz        Sizes
	got       client.Tally
	offenders atomic.Int64 // connections the offenders opened (or tried)
	sent      atomic.Int64 // messages or frames the offenders sent
	next      atomic.Int64 // source address round robin

	mu       sync.Mutex
	failures []string // the harness's own checks that failed (not the offender's answer)
	notes    []string
}

// src returns the dial options of the next offender connection.
func (e *env) src() dialOpts {
	if len(e.o.Offenders) == 0 {
		return dialOpts{}
	}
	i := e.next.Add(1) - 1
	return dialOpts{src: e.o.Offenders[int(i)%len(e.o.Offenders)]}
}

// dial opens one offender connection and upgrades it; a failure is counted
// in got ("http 503", "dial: ...", "handshake: ...") and returned.
func (e *env) dial(ctx context.Context, o dialOpts) (*wsConn, error) {
	e.offenders.Add(1)
	c, err := dialWS(ctx, e.t, o, e.o.Timeout)
	if err != nil {
		e.got.Add(dialFailure(err))
	}
	return c, err
}

// dialFailure names a failed dial or upgrade for the tally.
func dialFailure(err error) string {
	var r errRefused
	if errors.As(err, &r) {
		return r.Error()
	}
	if strings.HasPrefix(err.Error(), "handshake: ") {
		return "handshake: " + endReason(errors.Unwrap(err))
	}
	return "dial: " + trimErr(err)
}

func (e *env) fail(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures = append(e.failures, fmt.Sprintf(format, args...))
}

func (e *env) note(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notes = append(e.notes, fmt.Sprintf(format, args...))
}

// count returns the sum of got's counts whose kind starts with prefix.
func count(got map[string]int64, prefix string) int64 {
	var n int64
	for k, v := range got {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// kinds lists got's kinds, most frequent first, as "kind ×n".
func kinds(got map[string]int64) []string {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range got {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].v != all[j].v {
			return all[i].v > all[j].v
		}
		return all[i].k < all[j].k
	})
	out := make([]string, len(all))
	for i, x := range all {
		out[i] = fmt.Sprintf("%s ×%d", x.k, x.v)
	}
	return out
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
