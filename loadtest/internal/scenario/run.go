package scenario

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/agent"
	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/loadtest/internal/hist"
	"github.com/surge-ws/ws/loadtest/internal/report"
	"github.com/surge-ws/ws/poller"
)

// Names lists the scenarios Run knows, in the order the help shows them.
var Names = []string{"idle", "fanout", "echo", "churn", "slow"}

// fdReserve is what a client process keeps for itself (epoll, pipes, the
// binary, the publisher) out of its descriptor limit.
const fdReserve = 64

// runner carries one run's state.
type runner struct {
	o      Options
	cfg    client.Config
	fleet  *agent.Fleet
	local  bool   // the only agent is this process
	spans  []span // connections of each agent
	res    *report.Result
	srv    serverProbe
	pub    publisher
	fan    atomic.Pointer[fanState]
	hists  map[string]*hist.Hist
	extErr map[string]int64 // errors seen by the coordinator itself
	mu     sync.Mutex

	// connectStatus, if set, is connect's progress line.
	connectStatus func() string
	// waitFor, if set, bounds the wait for each fan-out message instead of
	// Options.Timeout.
	waitFor time.Duration
}

type span struct{ first, n int }

// publisher sends the fan-out's messages: one connection (client.Publisher)
// or one per server (multiPublisher, for servers that do not know each
// other).
type publisher interface {
	Publish(seq int64, pad int) (sent int64, err error)
	Acks() (acks, failed int64)
	Errors() map[string]int64
	Close()
}

// Run runs one scenario and returns its result. The error is for a run that
// could not start or could not produce numbers at all; problems during a run
// (failed connections, a dead worker) are in the Result.
func Run(ctx context.Context, name string, o Options) (*report.Result, error) {
	o.defaults()
	ctx, cancel := context.WithTimeout(ctx, o.MaxTime)
	defer cancel()
	if err := CheckTarget(ctx, o.URL, o.AllowRemote); err != nil {
		return nil, err
	}
	if o.StatsURL != "" {
		if err := CheckTarget(ctx, o.StatsURL, o.AllowRemote); err != nil {
			return nil, fmt.Errorf("-stats-url: %w", err)
		}
	}
	r := &runner{o: o, hists: map[string]*hist.Hist{}, srv: serverProbe{pid: o.ServerPID, statsURL: o.StatsURL}}
	r.cfg = client.Config{URL: o.URL, Sources: o.Sources, Channel: o.Channel, Event: o.Event, EchoEvent: o.EchoEvt, Timeout: o.Timeout}
	r.res = &report.Result{Scenario: name, URL: o.URL, Started: time.Now(), N: o.N, ServerPID: o.ServerPID}
	if o.ServerPID == 0 {
		r.note("no -server-pid: server memory and CPU were not measured")
	}

	var body func(context.Context) error
	conns := o.N
	switch name {
	case "idle":
		body = r.idle
	case "fanout":
		body = r.fanoutScenario
	case "echo":
		body = r.echo
	case "churn":
		body = r.churn
		conns = o.Conc // cycles in flight, not N
	case "slow":
		body = r.slow
		conns = o.N + slowCount(o)
	default:
		return nil, fmt.Errorf("unknown scenario %q (want one of %s)", name, strings.Join(Names, ", "))
	}
	if err := r.startAgents(ctx, conns); err != nil {
		return nil, err
	}
	start := time.Now()
	err := body(ctx)
	r.finish(ctx)
	r.res.Elapsed = time.Since(start).Seconds()
	return r.res, err
}

// startAgents decides how many client processes the run needs and starts them.
func (r *runner) startAgents(ctx context.Context, conns int) error {
	limit := r.o.FDLimit
	if limit <= 0 {
		l, err := poller.RaiseFileLimit()
		if err != nil {
			return err
		}
		limit = int(l)
	}
	perProc := limit - fdReserve
	if perProc < 1 {
		return fmt.Errorf("file descriptor limit %d is too low", limit)
	}
	procs := r.o.Procs
	if procs <= 0 {
		procs = (conns + perProc - 1) / perProc
	}
	procs = max(procs, 1)
	if conns/procs+1 > perProc {
		return fmt.Errorf("%d connections over %d processes exceed the %d descriptors each may hold: raise -procs to at least %d",
			conns, procs, perProc, (conns+perProc-1)/perProc)
	}
	r.res.Procs = procs
	r.spans = make([]span, procs)
	for i := range procs {
		r.spans[i] = span{first: i * r.o.N / procs, n: (i+1)*r.o.N/procs - i*r.o.N/procs}
	}
	r.fleet = &agent.Fleet{}
	if procs == 1 {
		r.local = true
		r.fleet.Agents = []agent.Agent{agent.NewLocal(0, r.cfg, r.onEvent)}
		return nil
	}
	argv := r.o.WorkerArgv
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		argv = []string{exe, "-worker"}
	}
	agents := make([]agent.Agent, procs)
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rem, err := agent.StartRemote(ctx, i, argv, r.cfg, r.onEvent)
			if err != nil {
				errs[i] = err
				return
			}
			agents[i] = rem
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			for _, a := range agents {
				if a != nil {
					_ = a.Close()
				}
			}
			return fmt.Errorf("starting worker %d: %w", i, err)
		}
	}
	r.fleet.Agents = agents
	return nil
}

// onEvent receives every agent's events.
func (r *runner) onEvent(i int, e agent.Event) {
	if len(e.Done) == 0 {
		return
	}
	if f := r.fan.Load(); f != nil {
		for _, seq := range e.Done {
			f.done(seq)
		}
	}
}

// finish closes everything and fills the fields every scenario shares.
func (r *runner) finish(ctx context.Context) {
	if r.pub != nil {
		r.pub.Close()
		r.mergeErrors(r.pub.Errors())
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.o.Timeout+5*time.Second)
	defer cancel()
	reps := r.fleet.All(cctx, agent.Cmd{Op: agent.OpClose})
	var tot client.Counters
	for i, rep := range reps {
		if rep == nil {
			tot.Add(r.fleet.Agents[i].Counters())
			continue
		}
		tot.Add(rep.Counters)
		r.mergeErrors(rep.Errors)
		if rep.Close != nil && rep.Close.Remaining > 0 {
			r.note(fmt.Sprintf("%s: %d connections did not finish their close handshake in time", r.fleet.Agents[i].Name(), rep.Close.Remaining))
		}
	}
	r.fleet.Close()
	r.res.Dropped, r.res.OutOfOrder, r.res.Unexpected = tot.Dropped, tot.OutOfOrder, tot.Unexpected
	if tot.Malformed > 0 {
		r.mergeErrors(map[string]int64{"malformed message (not a JSON object)": tot.Malformed})
	}
	r.res.WorkerFailures = r.fleet.Failures()
	r.res.Errors = r.extErr
	if len(r.hists) > 0 {
		r.res.Histograms = map[string]hist.Snapshot{}
		names := make([]string, 0, len(r.hists))
		for k := range r.hists {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if s, err := r.hists[k].Snapshot(); err == nil {
				r.res.Histograms[k] = s
			}
		}
	}
}

func (r *runner) mergeErrors(m map[string]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.extErr = client.MergeErrors(r.extErr, m)
}

func (r *runner) note(s string) { r.res.Notes = append(r.res.Notes, s) }

func (r *runner) status(f func() string) { r.o.Progress.Set(f) }

// cpuTime is a CPU reading: total (user + system) and user.
type cpuTime struct{ total, user time.Duration }

func (a cpuTime) sub(b cpuTime) cpuTime { return cpuTime{a.total - b.total, a.user - b.user} }

// clientCPU sums the CPU time of every client process: the workers' and
// this one (the coordinator drives the publisher and, in-process, all).
func (r *runner) clientCPU(ctx context.Context) (cpuTime, bool) {
	var t cpuTime
	if !r.local {
		s, err := readSelf()
		if err != nil {
			return t, false
		}
		t.total, t.user = s.CPU(), s.User
	}
	for _, rep := range r.fleet.All(ctx, agent.Cmd{Op: agent.OpSample}) {
		if rep == nil {
			return t, false
		}
		t.total += rep.Proc.CPU()
		t.user += rep.Proc.User
	}
	return t, true
}

// setClientCPU fills the client CPU fields for a window with n deliveries.
func (r *runner) setClientCPU(d cpuTime, n int64) {
	r.res.ClientCPUSec, r.res.ClientUserCPUSec = secs(d.total), secs(d.user)
	r.res.ClientCPUPerDeliveryUs = perUs(d.total, n)
}

// tick is the resolution of /proc CPU times.
const tick = 10 * time.Millisecond

// checkPrecision notes when a CPU window is too short for its figure to be
// read to better than 10%: /proc counts CPU time in 10 ms ticks.
func (r *runner) checkPrecision(who string, d time.Duration) {
	if d < 20*tick {
		r.note(fmt.Sprintf("%s CPU over the window is %.2f s, counted in 10 ms ticks: per-message figures are within ±%.0f%%; run more messages for a sharper figure",
			who, d.Seconds(), 100*float64(tick)/float64(max(d, tick))))
	}
}

// perUs divides a CPU time by a count, in microseconds (nil when n is 0).
func perUs(d time.Duration, n int64) *float64 {
	if n <= 0 {
		return nil
	}
	return report.F(float64(d) / float64(time.Microsecond) / float64(n))
}

func secs(d time.Duration) *float64 { return report.F(d.Seconds()) }

func ms(d time.Duration) *float64 { return report.F(hist.Ms(d)) }

// setLatency fills the headline percentiles from h.
func (r *runner) setLatency(what string, h *hist.Hist) {
	r.res.Latency = what
	if h == nil || h.Count() == 0 {
		return
	}
	r.res.P50Ms, r.res.P99Ms, r.res.MaxMs = ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Max())
}
