package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/loadtest/internal/hist"
	"github.com/surge-ws/ws/loadtest/internal/procstat"
	"github.com/surge-ws/ws/loadtest/internal/report"
	"github.com/surge-ws/ws/loadtest/internal/serverproc"
	"github.com/surge-ws/ws/poller"
)

// ClusterOptions are the cluster scenario's own settings (Options carries
// the common ones: N, Timeout, Conc, Size, Hold, MaxTime, Sources, ...).
type ClusterOptions struct {
	// Root is the repository root the servers are built from.
	Root string
	// Servers is the number of server processes per target (0: as many as
	// the descriptor limit needs, ServerHeadroom descriptors kept free in
	// each).
	Servers int
	// Targets are the servers to run the phases on, in order: "surge"
	// (examples/chat joined through Redis), "floor" (loadtest/peers/floor)
	// and "surge-alone" (examples/chat without Redis: each process a hub of
	// its own, to tell what Redis costs).
	Targets []string
	// Redis is the address of a Redis to use; "" starts a redis-server of
	// the run's own.
	Redis string
	// Broadcasts is the number of one-at-a-time messages of the broadcast
	// phase (default 3); StreamMsgs and StreamRate make the stream phase
	// (default 20 at 5 a second). 0 skips... use -1 to skip a phase.
	Broadcasts int
	StreamMsgs int
	StreamRate float64
	// ReconnectEvery: one client in this many leaves and comes back
	// (default 100: 1%; -1 skips the phase).
	ReconnectEvery int
	// PingInterval and PongTimeout are the hub's ping policy, given to
	// examples/chat as WS_HUBS__DEFAULT__PING_INTERVAL and
	// WS_HUBS__DEFAULT__PONG_TIMEOUT (0: the hub's defaults, 30 s and 10 s).
	PingInterval, PongTimeout time.Duration
	// ShutdownTimeout is examples/chat's -shutdown-timeout: how long its
	// clients' close handshakes may take on SIGTERM (default: 10 s, or
	// 200 µs per connection when that is longer, since every server stops
	// at once and a million close handshakes share the machine: two runs at
	// a million took 119 s and over 150 s, docs/scaling.md).
	ShutdownTimeout time.Duration
	// ServerArgs are added to every examples/chat command line; ServerEnv
	// to its environment (e.g. GOGC=50). The floor takes only ServerEnv's
	// GOMAXPROCS (floorEnv).
	ServerArgs []string
	ServerEnv  []string
	// FloorArgs are added to every floor command line (e.g. -park).
	FloorArgs []string
	// TimerSlack, when positive, is every server process's timer slack, the
	// hub's and the floor's alike (serverproc.Spec.TimerSlack): a setting of
	// the deployment, as systemd's TimerSlackNSec, that makes the Go
	// runtime's sysmon poll less often while a process is busy.
	TimerSlack time.Duration
	// Sample is the timeline's sampling interval (default 1 s).
	Sample time.Duration
	// WaitFor bounds the wait for one fan-out message to reach every
	// subscriber (default the largest of Timeout, 2 minutes and 250 µs per
	// connection).
	WaitFor time.Duration
	// Log receives a line per phase (nil: none).
	Log io.Writer
	// LogDir keeps the servers' and Redis's logs (default: a temporary
	// directory removed at the end).
	LogDir string
	// MinAvailable stops the run when the machine's MemAvailable falls
	// under it (default 1 GiB; negative: never), before the OOM killer
	// would pick a process: at a million connections the machine's memory
	// is nearly all in use.
	MinAvailable int64
}

// ServerHeadroom is what a server process keeps of its descriptor limit
// for itself (listeners, Redis connections, the stats endpoint) when the
// scenario decides how many servers a run needs.
const ServerHeadroom = 500

// targetWhat describes the targets.
var targetWhat = map[string]string{
	"surge":       "examples/chat with -redis: one hub node per process, joined through Redis (Broker and Presence)",
	"floor":       "loadtest/peers/floor: a raw epoll loop per process, no library, no broker (the publisher writes to every process)",
	"surge-alone": "examples/chat without -redis: a hub per process that knows no other (the publisher writes to every process)",
}

var targetPkg = map[string]string{"surge": "./examples/chat", "floor": "./loadtest/peers/floor", "surge-alone": "./examples/chat"}

// isHub says whether a target runs examples/chat (pings, the stats
// endpoint); clustered, whether its processes are joined through Redis.
func isHub(name string) bool     { return name == "surge" || name == "surge-alone" }
func clustered(name string) bool { return name == "surge" }

func (co *ClusterOptions) defaults(o *Options) {
	if len(co.Targets) == 0 {
		co.Targets = []string{"surge", "floor"}
	}
	if co.Broadcasts == 0 {
		co.Broadcasts = 3
	}
	if co.StreamMsgs == 0 {
		co.StreamMsgs = 20
	}
	if co.StreamRate == 0 {
		co.StreamRate = 5
	}
	if co.ReconnectEvery == 0 {
		co.ReconnectEvery = 100
	}
	if co.Sample <= 0 {
		co.Sample = time.Second
	}
	if co.WaitFor <= 0 {
		// A broadcast took 106 to 123 s at a million here (2 cores).
		co.WaitFor = max(o.Timeout, 2*time.Minute, time.Duration(o.N)*250*time.Microsecond)
	}
	if co.ShutdownTimeout <= 0 {
		co.ShutdownTimeout = max(10*time.Second, time.Duration(o.N)*200*time.Microsecond)
	}
	if co.Log == nil {
		co.Log = io.Discard
	}
	if co.LogDir != "" {
		if err := os.MkdirAll(co.LogDir, 0o755); err != nil {
			co.LogDir = ""
		}
	}
	if co.MinAvailable == 0 {
		co.MinAvailable = 1 << 30
	}
}

// stopWait is how long a server may take to exit after SIGTERM before it is
// killed: its own shutdown timeout and some.
func (co ClusterOptions) stopWait() time.Duration { return co.ShutdownTimeout + 20*time.Second }

// The hub's defaults (hub.DefaultPingInterval, hub.DefaultPongTimeout).
const (
	hubPingInterval = 30 * time.Second
	hubPongTimeout  = 10 * time.Second
)

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func defaultNote(co ClusterOptions) string {
	if co.PingInterval <= 0 && co.PongTimeout <= 0 {
		return " (the hub's defaults)"
	}
	return ""
}

// hubEnv is the environment of every examples/chat process: the ping
// policy, no admin socket (the processes share a working directory, whose
// default socket only one of them could hold), then -server-env.
func (co ClusterOptions) hubEnv() []string {
	env := []string{"WS_ADMIN__SOCKET=-"}
	if co.PingInterval > 0 {
		env = append(env, "WS_HUBS__DEFAULT__PING_INTERVAL="+co.PingInterval.String())
	}
	if co.PongTimeout > 0 {
		env = append(env, "WS_HUBS__DEFAULT__PONG_TIMEOUT="+co.PongTimeout.String())
	}
	return append(env, co.ServerEnv...)
}

// floorEnv is the floor's share of ServerEnv: its GOMAXPROCS, so that both
// targets run on the same footing of threads, and nothing else. A collector
// setting meant for the hub (GOGC=40, a GOMEMLIMIT) slows the floor, a Go
// program that allocates per connection, and so flatters the ratio (the
// third and fourth million runs, docs/scaling.md).
func (co ClusterOptions) floorEnv() []string {
	var env []string
	for _, kv := range co.ServerEnv {
		if strings.HasPrefix(kv, "GOMAXPROCS=") {
			env = append(env, kv)
		}
	}
	return env
}

// clusterRun is one run of the cluster scenario.
type clusterRun struct {
	o       Options
	co      ClusterOptions
	dir     string
	bins    map[string]string
	servers int
	res     *report.Result
}

// RunCluster runs the cluster scenario: for each target, N server
// processes and the client's worker processes on this machine, then the
// phases in order (ramp, idle hold, broadcast, stream, reconnect, shutdown),
// each measured. Every process it starts is stopped before it returns, also
// when ctx is cancelled (SIGINT) or MaxTime passes; the servers and Redis
// also die with this process (SIGKILL on its death) should it be killed.
func RunCluster(ctx context.Context, o Options) (*report.Result, error) {
	o.defaults()
	co := o.Cluster
	co.defaults(&o)
	ctx, cancel := context.WithTimeout(ctx, o.MaxTime)
	defer cancel()
	for _, t := range co.Targets {
		if targetPkg[t] == "" {
			return nil, fmt.Errorf("unknown target %q (want surge, floor or surge-alone)", t)
		}
	}
	if co.Root == "" {
		return nil, errors.New("cluster: no repository root")
	}
	limit, err := poller.RaiseFileLimit()
	if err != nil {
		return nil, err
	}
	perServer := int(limit) - ServerHeadroom
	if perServer < 1 {
		return nil, fmt.Errorf("descriptor limit %d is too low", limit)
	}
	servers := co.Servers
	if servers <= 0 {
		servers = (o.N + perServer - 1) / perServer
	}
	servers = max(servers, 1)
	if (o.N+servers-1)/servers > perServer {
		return nil, fmt.Errorf("%d connections over %d servers exceed the %d each may hold (descriptor limit %d less %d): raise -servers to at least %d",
			o.N, servers, perServer, limit, ServerHeadroom, (o.N+perServer-1)/perServer)
	}
	cr := &clusterRun{o: o, co: co, servers: servers, bins: map[string]string{}}
	cr.res = &report.Result{Scenario: "cluster", Started: time.Now(), N: o.N, URL: fmt.Sprintf("%d fresh server processes per target on 127.0.0.1", servers)}
	c := &report.Cluster{
		Servers: servers, PerServer: (o.N + servers - 1) / servers,
		Placement: "one port per process; connection i goes to process i mod servers",
		PingPolicy: fmt.Sprintf("a ping after %s without input from the client, the connection closed if nothing comes back within %s%s; the floor never pings",
			orDefault(co.PingInterval, hubPingInterval), orDefault(co.PongTimeout, hubPongTimeout), defaultNote(co)),
		Kernel: kernelSettings(co.Root),
	}
	if co.TimerSlack > 0 {
		c.TimerSlack = co.TimerSlack.String() + " for every server process, both targets'"
	}
	cr.res.Cluster = c
	for _, k := range c.Kernel {
		if k.Want != "" && o.N >= 100_000 {
			cr.note(fmt.Sprintf("%s is %s, below the %s scripts/tune-kernel sets: see docs/scaling.md", k.Name, k.Value, k.Want))
		}
	}
	if cr.dir, err = os.MkdirTemp("", "loadtest-cluster-"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(cr.dir)
	for _, t := range co.Targets {
		if cr.bins[targetPkg[t]] != "" {
			continue
		}
		bin, err := serverproc.Build(ctx, co.Root, cr.dir, filepath.Base(targetPkg[t]), targetPkg[t])
		if err != nil {
			return nil, err
		}
		cr.bins[targetPkg[t]] = bin
	}
	start := time.Now()
	for _, name := range co.Targets {
		if ctx.Err() != nil {
			break
		}
		t := cr.runTarget(ctx, name)
		c.Targets = append(c.Targets, t)
		c.ClientProcs = max(c.ClientProcs, cr.res.Procs)
		if t.Ramp != nil && cr.res.ConnectRate == nil {
			cr.res.Connected, cr.res.Failed, cr.res.Subscribed, cr.res.ConnectRate = t.Ramp.Connected, t.Ramp.Failed, t.Ramp.Subscribed, t.Ramp.Rate
		}
		cr.res.WorkerFailures = append(cr.res.WorkerFailures, t.WorkerFailures...)
	}
	c.Comparison = c.Compare()
	cr.res.Elapsed = time.Since(start).Seconds()
	return cr.res, ctx.Err()
}

func (cr *clusterRun) note(s string) { cr.res.Notes = append(cr.res.Notes, s) }

// logDir is where the servers' logs go.
func (cr *clusterRun) logDir() string {
	if cr.co.LogDir != "" {
		return cr.co.LogDir
	}
	return cr.dir
}

func (cr *clusterRun) logf(format string, args ...any) {
	fmt.Fprintf(cr.co.Log, "cluster: "+format+"\n", args...)
}

// kernelSettings reads the settings scripts/tune-kernel manages, with what
// it would set where they are below (its --check output).
func kernelSettings(root string) []report.KernelSetting {
	want := tuneKernelCheck(root)
	var out []report.KernelSetting
	for _, name := range []string{"net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.ip_local_port_range",
		"net.core.netdev_max_backlog", "net.ipv4.tcp_mem", "net.ipv4.tcp_max_orphans", "fs.file-max"} {
		v, err := procstat.Sysctl(name)
		if err != nil {
			continue
		}
		out = append(out, report.KernelSetting{Name: name, Value: v, Want: want[name]})
	}
	return out
}

// tuneKernelCheck runs scripts/tune-kernel --check: one line per setting it
// would change, "name<TAB>old<TAB>new".
func tuneKernelCheck(root string) map[string]string {
	out := map[string]string{}
	b, err := execOutput(root+"/scripts/tune-kernel", "--check")
	if err != nil {
		return out
	}
	for _, l := range strings.Split(b, "\n") {
		f := strings.Split(l, "\t")
		if len(f) == 3 {
			out[f[0]] = f[2]
		}
	}
	return out
}

// runTarget runs every phase on one target and stops everything it
// started before returning.
func (cr *clusterRun) runTarget(ctx context.Context, name string) *report.ClusterTarget {
	o, co := cr.o, cr.co
	t := &report.ClusterTarget{Name: name, What: targetWhat[name], Servers: cr.servers}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	tr := &targetRun{cr: cr, t: t, name: name, abort: cancel}
	defer tr.cleanup(ctx)

	k0, err := procstat.ReadKernel()
	if err != nil {
		t.Aborted = err.Error()
		return t
	}
	tr.k0 = k0
	if clustered(name) {
		tr.redis = co.Redis
		if tr.redis == "" {
			rs, err := startRedis(ctx, cr.logDir())
			if err != nil {
				t.Aborted = "redis: " + err.Error()
				return t
			}
			tr.ownRedis = rs
			tr.redis = rs.addr
			cr.res.Cluster.Redis = fmt.Sprintf("a redis-server of the run's own (%s, nice %d)", rs.addr, rs.nice)
		} else {
			cr.res.Cluster.Redis = co.Redis
		}
		if v, err := redisUsedMemory(tr.redis); err == nil {
			tr.redis0 = v
		}
	}
	cr.logf("%s: starting %d server processes", name, cr.servers)
	if err := tr.startServers(ctx); err != nil {
		t.Aborted = err.Error()
		return t
	}
	tr.mark("start")
	sleepUntil(ctx, time.Now().Add(time.Second)) // let the runtimes settle
	if s, ok := sumSamples(tr.pids); ok {
		t.ServerBaselineRSS = s.RSS
	}
	t.ServerTimerSlackNs = timerSlackOf(tr.pids[0])
	if isHub(name) && o.Hold > 0 {
		tr.emptyCPU(ctx, min(o.Hold, emptyHold))
	}

	urls := make([]string, len(tr.srvs))
	for i, s := range tr.srvs {
		urls[i] = "ws://" + s.Addr + "/ws"
	}
	ro := o
	ro.URL, ro.ServerPID, ro.StatsURL = urls[0], 0, ""
	r := &runner{o: ro, hists: map[string]*hist.Hist{}, srv: serverProbe{pids: tr.pids}, waitFor: co.WaitFor}
	r.cfg = client.Config{URL: urls[0], URLs: urls, Sources: o.Sources, Channel: o.Channel, Event: o.Event, EchoEvent: o.EchoEvt, Timeout: o.Timeout}
	r.res = &report.Result{Scenario: "cluster", URL: urls[0], Started: time.Now(), N: o.N}
	tr.r = r
	if err := r.startAgents(ctx, o.N); err != nil {
		r.fleet = nil
		t.Aborted = "client processes: " + err.Error()
		return t
	}
	cr.res.Procs = r.res.Procs
	for _, a := range r.fleet.Agents {
		tr.clientPids = append(tr.clientPids, a.Pid())
	}
	if s, ok := sumSamples(tr.clientPids); ok {
		t.ClientBaselineRSS = s.RSS
	}
	tr.startSampler(co.Sample)

	if !tr.ramp(ctx) {
		return t
	}
	if clustered(name) {
		t.Presence = tr.presence(ctx, 0, "full count")
	}
	if isHub(name) && o.Hold > 0 {
		tr.idle(ctx, o.Hold)
	} else {
		sleepUntil(ctx, time.Now().Add(2*time.Second))
	}
	tr.memory()
	if ctx.Err() != nil {
		return t
	}
	if err := tr.dialPublisher(ctx, urls); err != nil {
		t.Aborted = "publisher: " + err.Error()
		return t
	}
	if co.Broadcasts > 0 {
		t.Broadcast = tr.fan(ctx, "broadcast", co.Broadcasts, 0)
	}
	if co.StreamMsgs > 0 && ctx.Err() == nil {
		t.Stream = tr.fan(ctx, "stream", co.StreamMsgs, co.StreamRate)
	}
	if clustered(name) && co.ReconnectEvery > 0 && ctx.Err() == nil {
		tr.reconnect(ctx)
	}
	if ctx.Err() == nil {
		// What the clients saw before the end: how the servers' stop
		// closes them is the shutdown phase's figure, not an error.
		tr.errs = agentErrors(ctx, r)
		if r.pub != nil {
			tr.errs = client.MergeErrors(tr.errs, r.pub.Errors())
		}
		if isHub(name) {
			tr.shutdown(ctx)
		} else {
			tr.stopServers(cr.co.stopWait()) // the floor resets every connection: nothing to measure
		}
	}
	return t
}

// emptyHold is how long the idle servers' CPU is read before the ramp.
const emptyHold = 10 * time.Second

// emptyCPU reads the servers' CPU with no connection.
func (tr *targetRun) emptyCPU(ctx context.Context, d time.Duration) {
	s0, ok0 := sumSamples(tr.pids)
	start := time.Now()
	sleepUntil(ctx, start.Add(d))
	s1, ok1 := sumSamples(tr.pids)
	if ok0 && ok1 {
		tr.emptyPct = report.F(100 * (s1.CPU() - s0.CPU()).Seconds() / time.Since(start).Seconds())
		tr.cr.logf("%s: %d server processes with no connection: %.1f%% of a core", tr.name, len(tr.pids), *tr.emptyPct)
	}
}

// targetRun is the state of one target's run.
type targetRun struct {
	cr         *clusterRun
	t          *report.ClusterTarget
	name       string
	r          *runner
	srvs       []*serverproc.Process
	pids       []int
	clientPids []int
	redis      string
	ownRedis   *redisServer
	redis0     int64
	k0         procstat.Kernel
	start      time.Time
	errs       map[string]int64 // errors before the shutdown (nil: the run stopped earlier)
	emptyPct   *float64         // the servers' CPU before the first connection, % of a core
	abort      context.CancelCauseFunc

	mu         sync.Mutex
	stopSample chan struct{}
	sampled    chan struct{}
}

// startServers starts the target's processes, a few at a time.
func (tr *targetRun) startServers(ctx context.Context) error {
	cr := tr.cr
	n := cr.servers
	tr.srvs = make([]*serverproc.Process, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			spec := serverproc.Spec{Bin: cr.bins[targetPkg[tr.name]], Log: fmt.Sprintf("%s/%s-%02d.log", cr.logDir(), tr.name, i), Env: cr.co.floorEnv(),
				TimerSlack: cr.co.TimerSlack}
			if isHub(tr.name) {
				spec.Env = cr.co.hubEnv()
			}
			switch {
			case clustered(tr.name):
				spec.Stats = true
				spec.Args = append([]string{"-redis", tr.redis, "-node", fmt.Sprintf("n%02d", i), "-message-rate", "-1",
					"-shutdown-timeout", cr.co.ShutdownTimeout.String()}, cr.co.ServerArgs...)
			case isHub(tr.name):
				spec.Stats = true
				spec.Args = append([]string{"-message-rate", "-1", "-shutdown-timeout", cr.co.ShutdownTimeout.String()}, cr.co.ServerArgs...)
			default:
				spec.Args = append([]string{"-reset-on-exit", "-event", cr.o.Event}, cr.co.FloorArgs...)
			}
			// A port taken by someone else between its check and the
			// server's bind fails the start: try another once.
			for attempt := 0; attempt < 2; attempt++ {
				var p *serverproc.Process
				if p, errs[i] = serverproc.Start(ctx, spec); errs[i] == nil {
					tr.srvs[i] = p
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("server %d: %w", i, err)
		}
	}
	for _, p := range tr.srvs {
		tr.pids = append(tr.pids, p.Pid())
	}
	return nil
}

// stopServers sends SIGTERM to every server at once and waits up to d for
// each (SIGKILL after). It reports how many exited cleanly (status 0).
func (tr *targetRun) stopServers(d time.Duration) (clean, killed int) {
	var live []*serverproc.Process
	for _, p := range tr.srvs {
		if p == nil {
			continue
		}
		if done, _ := p.Exited(); !done {
			live = append(live, p)
			p.Signal(syscall.SIGTERM)
		}
	}
	var notes []string
	defer func() {
		if len(notes) > 3 {
			notes = append(notes[:3], fmt.Sprintf("and %d more servers like these", len(notes)-3))
		}
		tr.t.Notes = append(tr.t.Notes, notes...)
	}()
	deadline := time.After(d)
	for _, p := range live {
		select {
		case <-p.Done():
		case <-deadline:
		}
		if done, _ := p.Exited(); !done {
			p.Signal(syscall.SIGKILL)
			<-p.Done()
			killed++
			notes = append(notes, fmt.Sprintf("server %s did not exit within %s of SIGTERM: killed; its log ends: %s", p.Addr, d, tailFile(p.Log, 3)))
		} else if _, err := p.Exited(); err == nil {
			clean++
		} else {
			notes = append(notes, fmt.Sprintf("server %s: %v; its log ends: %s", p.Addr, err, tailFile(p.Log, 3)))
		}
	}
	return clean, killed
}

// tailFile returns the last n lines of a file, joined by " | ".
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

// cleanup stops the sampler, the clients, the servers and Redis. On an
// interrupted run the servers go first (SIGKILL at once), so that closing
// the clients does not wait for servers that are in the middle of a phase.
func (tr *targetRun) cleanup(ctx context.Context) {
	tr.stopSampler()
	interrupted := ctx.Err() != nil
	if interrupted {
		for _, p := range tr.srvs {
			if p != nil {
				p.Signal(syscall.SIGKILL)
			}
		}
	}
	if tr.r != nil && tr.r.fleet != nil {
		tr.r.finish(ctx)
		tr.t.Errors = tr.r.res.Errors
		if tr.errs != nil {
			tr.t.Errors = tr.errs
		}
		tr.t.WorkerFailures = tr.r.res.WorkerFailures
		tr.t.Notes = append(tr.t.Notes, tr.r.res.Notes...)
	}
	tr.stopServers(tr.cr.co.stopWait())
	if tr.ownRedis != nil {
		tr.ownRedis.stop()
	}
	if interrupted && tr.t.Aborted == "" {
		tr.t.Aborted = "interrupted: " + context.Cause(ctx).Error()
	}
}

// mark starts a phase on the timeline.
func (tr *targetRun) mark(name string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.start.IsZero() {
		tr.start = time.Now()
	}
	tr.t.Phases = append(tr.t.Phases, report.PhaseMark{Name: name, T: time.Since(tr.start).Seconds()})
}

// startSampler samples the timeline every interval until stopSampler.
func (tr *targetRun) startSampler(every time.Duration) {
	tr.stopSample, tr.sampled = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(tr.sampled)
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			tr.sample()
			select {
			case <-tr.stopSample:
				return
			case <-tk.C:
			}
		}
	}()
}

func (tr *targetRun) stopSampler() {
	if tr.stopSample != nil {
		close(tr.stopSample)
		<-tr.sampled
		tr.stopSample = nil
	}
}

// sample adds one point to the timeline.
func (tr *targetRun) sample() {
	c := tr.r.fleet.Counters()
	pt := report.SeriesPoint{Open: c.Open, Subscribed: c.Subscribed}
	tr.mu.Lock()
	pt.T = time.Since(tr.start).Seconds() // with the CPU reading: CPU per second is read against it
	tr.mu.Unlock()
	if s, ok := sumSamples(tr.pids); ok {
		pt.ServerRSS, pt.ServerCPU = s.RSS, s.CPU().Seconds()
	}
	if s, ok := sumSamples(tr.clientPids); ok {
		pt.ClientRSS = s.RSS
	}
	if k, err := procstat.ReadKernel(); err == nil {
		pt.KernelMem = (k.Slab - tr.k0.Slab) + (k.TCPMem - tr.k0.TCPMem)
		pt.TCPMem = k.TCPMem
		if min := tr.cr.co.MinAvailable; min > 0 && k.MemAvailable < min {
			tr.abort(fmt.Errorf("MemAvailable fell to %d MiB, under -min-available %d MiB: stopped before the kernel's OOM killer picks a process",
				k.MemAvailable>>20, min>>20))
		}
	}
	if tr.redis != "" {
		if v, err := redisUsedMemory(tr.redis); err == nil {
			pt.Redis = v - tr.redis0
		}
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.t.Series = append(tr.t.Series, pt)
}

// since returns the timeline's points from second t on.
func (tr *targetRun) since(t float64) []report.SeriesPoint {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []report.SeriesPoint
	for _, p := range tr.t.Series {
		if p.T >= t {
			out = append(out, p)
		}
	}
	return out
}

func (tr *targetRun) now() float64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return time.Since(tr.start).Seconds()
}

// netDelta is what the network stack counted between two readings; the
// TCP memory peak comes from the timeline since second from.
func (tr *targetRun) netDelta(a, b procstat.Kernel, from float64) report.NetDelta {
	d := report.NetDelta{
		ListenOverflows: b.ListenOverflows - a.ListenOverflows,
		Retransmits:     b.RetransSegs - a.RetransSegs,
		BacklogDrops:    b.BacklogDrops - a.BacklogDrops,
		MemPressures:    b.TCPMemPressures - a.TCPMemPressures,
		Segments:        b.InSegs - a.InSegs,
		TCPMemPeak:      max(a.TCPMem, b.TCPMem),
	}
	for _, p := range tr.since(from) {
		d.TCPMemPeak = max(d.TCPMemPeak, p.TCPMem)
	}
	return d
}

// execOutput runs a command and returns its standard output.
func execOutput(name string, args ...string) (string, error) {
	cmd := execCommand(name, args...)
	b, err := cmd.Output()
	return string(b), err
}

// timerSlackOf reads a process's timer slack in nanoseconds (its first
// thread's, which every thread the Go runtime makes inherits); -1 when it
// cannot be read.
func timerSlackOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/timerslack_ns", pid))
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
