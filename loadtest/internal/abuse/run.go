package abuse

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/hist"
	"github.com/surge-ws/ws/loadtest/internal/procstat"
	"github.com/surge-ws/ws/loadtest/internal/report"
	"github.com/surge-ws/ws/loadtest/internal/scenario"
	"github.com/surge-ws/ws/loadtest/internal/serverproc"
)

// Tolerances for "back to baseline" after a case. A Go server's goroutine
// count moves by a few on its own (pooled workers idle out over a second,
// the stats request's own); descriptors return exactly but for the stats
// connection, which may still be closing.
const (
	fdSlack        = 2
	goroutineSlack = 4
	warmUp         = 300 * time.Millisecond
	minTail        = 300 * time.Millisecond
	minProbe       = time.Second
)

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// memoryFailure starts the failure of a case's memory bound (Case.maxGrowth).
const memoryFailure = "the server's RSS grew"

// servers are the packages the run builds when it starts its own servers.
var servers = map[string]string{
	ServerChat:    "./examples/chat",
	ServerHostile: "./loadtest/peers/hostile",
}

type runner struct {
	o        Options
	bins     map[string]string // server name -> binary
	buildErr map[string]error  // server name -> why it could not be built
	dir      string
	res      *report.Result
}

// Run runs the selected cases one after another and returns the result. An
// error is for a run that could not start; a case that failed is in the
// result (Abuse.Failed counts them).
func Run(ctx context.Context, o Options) (*report.Result, error) {
	o.defaults()
	ctx, cancel := context.WithTimeout(ctx, o.MaxTime)
	defer cancel()
	cases, err := selectCases(o.Cases)
	if err != nil {
		return nil, err
	}
	r := &runner{o: o, bins: map[string]string{}}
	r.res = &report.Result{Scenario: "abuse", URL: o.URL, Started: time.Now(), N: len(cases), Procs: 1,
		Abuse: &report.Abuse{ProbeEveryMs: hist.Ms(o.ProbeEvery), LivenessMs: hist.Ms(o.Liveness)}}
	if o.URL != "" {
		if err := scenario.CheckTarget(ctx, o.URL, o.AllowRemote); err != nil {
			return nil, err
		}
		if o.StatsURL != "" {
			if err := scenario.CheckTarget(ctx, o.StatsURL, o.AllowRemote); err != nil {
				return nil, fmt.Errorf("-stats-url: %w", err)
			}
		} else {
			r.res.Notes = append(r.res.Notes, "no -stats-url: server goroutines not measured")
		}
		if o.ServerPID == 0 {
			r.res.Notes = append(r.res.Notes, "no -server-pid: server descriptors and memory not measured")
		}
		r.res.ServerPID = o.ServerPID
	} else {
		if r.dir, err = os.MkdirTemp("", "loadtest-abuse-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(r.dir)
		r.buildErr = map[string]error{}
		for _, c := range cases {
			if _, ok := r.bins[c.Server]; ok || r.buildErr[c.Server] != nil {
				continue
			}
			bin, err := serverproc.Build(ctx, o.Root, r.dir, c.Server, servers[c.Server])
			if err != nil {
				// The cases on the other server still run (an older tree
				// may lack loadtest/peers/hostile).
				r.buildErr[c.Server] = err
				r.res.Notes = append(r.res.Notes, err.Error())
				continue
			}
			r.bins[c.Server] = bin
		}
		if len(r.bins) == 0 {
			return nil, fmt.Errorf("no server could be built: %v", r.res.Notes)
		}
		r.res.URL = "fresh servers on 127.0.0.1: " + joinKeys(r.bins)
	}
	start := time.Now()
	for _, c := range cases {
		if ctx.Err() != nil {
			break
		}
		ac, snap := r.runCase(ctx, c)
		if ac.Verdict == "FAIL" {
			r.res.Abuse.Failed++
		}
		r.res.Abuse.Cases = append(r.res.Abuse.Cases, ac)
		if snap != nil {
			if r.res.Histograms == nil {
				r.res.Histograms = map[string]hist.Snapshot{}
			}
			r.res.Histograms["probe:"+c.Name] = *snap
		}
		fmt.Fprintf(o.Log, "abuse: %-22s %s  probe p99 %s max %s  %s\n", c.Name, ac.Verdict,
			fmtMs(ac.ProbeP99Ms), fmtMs(ac.ProbeStallMs), ac.GotSummary(2))
	}
	r.res.Elapsed = time.Since(start).Seconds()
	return r.res, ctx.Err()
}

func joinKeys(m map[string]string) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	s := ""
	for i, k := range ks {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	return s
}

func fmtMs(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f ms", *p)
}

// serverHandle is the server of one case.
type serverHandle struct {
	url, statsURL string
	pid           int
	proc          *serverproc.Process // nil for -url
}

func (r *runner) server(ctx context.Context, c Case) (*serverHandle, error) {
	if r.o.URL != "" {
		return &serverHandle{url: r.o.URL, statsURL: r.o.StatsURL, pid: r.o.ServerPID}, nil
	}
	p, err := serverproc.Start(ctx, serverproc.Spec{Bin: r.bins[c.Server], Args: c.args, Log: filepath.Join(r.dir, c.Name+".log"), Stats: true})
	if err != nil {
		return nil, err
	}
	return &serverHandle{url: "ws://" + p.Addr + "/ws", statsURL: "http://" + p.StatsAddr + "/", pid: p.Pid(), proc: p}, nil
}

// reading is the server at one moment.
type reading struct {
	fds        int
	rss        int64
	goroutines float64
	procOK     bool
	gorOK      bool
}

func (r *runner) read(ctx context.Context, s *serverHandle) (reading, error) {
	var rd reading
	var errs []error
	if s.pid > 0 {
		p, err := procstat.Read(s.pid)
		if err == nil {
			rd.fds, rd.rss, rd.procOK = p.FDs, p.RSS, true
		} else {
			errs = append(errs, err)
		}
	}
	if s.statsURL != "" {
		g, err := scenario.Goroutines(ctx, s.statsURL)
		if err == nil {
			rd.goroutines, rd.gorOK = g, true
		} else {
			errs = append(errs, err)
		}
	}
	return rd, errors.Join(errs...)
}

// sources returns the offenders' addresses (one host's, or many hosts'
// with spread) and the probe's for target u: distinct loopback addresses
// when the target is IPv4 loopback.
func (r *runner) sources(u string, spread bool) ([]netip.Addr, netip.Addr) {
	offenders, probe := r.o.Offenders, r.o.ProbeSource
	if spread {
		offenders = r.o.Spread
	}
	pu, err := url.Parse(u)
	if err != nil {
		return offenders, probe
	}
	a, err := netip.ParseAddr(pu.Hostname())
	if err != nil || !a.Is4() || !a.IsLoopback() {
		return offenders, probe
	}
	if len(offenders) == 0 && spread {
		offenders = scenario.SourceRange(netip.AddrFrom4([4]byte{127, 0, 0, 2}), netip.AddrFrom4([4]byte{127, 0, 0, 254}))
	}
	if len(offenders) == 0 {
		offenders = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 2})}
	}
	if !probe.IsValid() {
		probe = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return offenders, probe
}

// runCase runs one case on its server with the probe beside it.
func (r *runner) runCase(ctx context.Context, c Case) (report.AbuseCase, *hist.Snapshot) {
	ac := report.AbuseCase{Name: c.Name, What: c.What, Expect: c.Expect, Server: c.Server, Verdict: "FAIL"}
	if r.o.URL != "" {
		ac.Server = r.o.URL
	}
	if err := r.buildErr[c.Server]; err != nil {
		ac.Verdict = "not run"
		ac.Notes = append(ac.Notes, "no server: "+err.Error())
		return ac, nil
	}
	if r.o.URL != "" && len(c.args) > 0 {
		ac.Verdict = "skipped"
		ac.Notes = append(ac.Notes, fmt.Sprintf("needs a server started as %s %s, not the -url one", servers[c.Server], strings.Join(c.args, " ")))
		return ac, nil
	}
	if len(c.args) > 0 {
		ac.Server += " " + strings.Join(c.args, " ")
	}
	srv, err := r.server(ctx, c)
	if err != nil {
		ac.Failures = append(ac.Failures, "server: "+err.Error())
		return ac, nil
	}
	var stopped bool
	defer func() {
		if srv.proc != nil && !stopped {
			srv.proc.Stop()
		}
	}()
	t, err := parseTarget(srv.url)
	if err != nil {
		ac.Failures = append(ac.Failures, err.Error())
		return ac, nil
	}
	o := r.o
	o.Offenders, o.ProbeSource = r.sources(srv.url, c.spread)
	p, err := startProbe(ctx, t, dialOpts{src: o.ProbeSource}, o.ProbeEvery, o.Timeout)
	if err != nil {
		ac.Failures = append(ac.Failures, err.Error())
		return ac, nil
	}
	sleepCtx(ctx, warmUp)
	before, berr := r.read(ctx, srv)
	if berr != nil {
		ac.Notes = append(ac.Notes, "baseline reading: "+berr.Error())
	}
	p.mark()
	peak := r.samplePeak(srv)

	e := &env{t: t, o: &o, sz: o.Sizes}
	cctx, cancel := context.WithTimeout(ctx, o.CaseTime)
	start := time.Now()
	runErr := c.run(cctx, e)
	hostile := time.Since(start)
	ac.ElapsedS = hostile.Seconds()
	timedOut := cctx.Err() != nil && ctx.Err() == nil
	cancel()

	// Back to baseline: descriptors and goroutines, within ReturnWithin.
	leak := 0
	if c.leak != nil {
		leak = c.leak(o.Sizes)
	}
	after, back, took := r.waitReturn(ctx, srv, before, leak)
	// The probe also watches the server finish what the offenders left (a
	// reset connection's unread input, a closing handshake): it runs at
	// least minTail after the hostile phase and minProbe in all.
	sleepCtx(ctx, time.Until(maxTime(start.Add(hostile).Add(minTail), start.Add(minProbe))))
	rssPeak := peak()
	pr := p.close(o.Liveness + 500*time.Millisecond)

	// The server must still be there, and stop when asked.
	if srv.proc != nil {
		if exited, werr := srv.proc.Exited(); exited {
			ac.Failures = append(ac.Failures, fmt.Sprintf("the server exited during the case: %v (log %s)", werr, srv.proc.Log))
		}
		stopped = true
		if !srv.proc.Stop() {
			ac.Failures = append(ac.Failures, "the server did not stop within 5 s of SIGTERM (killed)")
		}
	}

	got := e.got.Snapshot()
	ac.Got = got
	ac.Offenders, ac.Sent = e.offenders.Load(), e.sent.Load()
	ac.ProbeSent, ac.ProbeAnswered, ac.ProbeUnanswered, ac.ProbeEnded = pr.sent, pr.answered, pr.unanswered, pr.ended
	if pr.h.Count() > 0 {
		ac.ProbeP50Ms, ac.ProbeP99Ms, ac.ProbeMaxMs = report.F(hist.Ms(pr.h.Quantile(0.5))), report.F(hist.Ms(pr.h.Quantile(0.99))), report.F(hist.Ms(pr.h.Max()))
	}
	ac.ProbeStallMs = report.F(hist.Ms(pr.stall))
	if before.procOK && after.procOK {
		ac.FDsBefore, ac.FDsAfter = &before.fds, &after.fds
		ac.RSSBefore, ac.RSSAfter = report.I(before.rss), report.I(after.rss)
		if rssPeak > 0 {
			ac.RSSPeak = report.I(rssPeak)
		}
	}
	if before.gorOK && after.gorOK {
		ac.GoroutinesBefore, ac.GoroutinesAfter = report.F(before.goroutines), report.F(after.goroutines)
	}
	if back {
		ac.ReturnedS = report.F(took.Seconds())
	}

	// The verdict.
	switch {
	case pr.sent == 0:
		ac.Failures = append(ac.Failures, "the probe asked nothing")
	case pr.stall > o.Liveness:
		ac.Failures = append(ac.Failures, fmt.Sprintf("the probe waited %.2f s for an answer (bound %.1f s); %d of %d questions unanswered",
			pr.stall.Seconds(), o.Liveness.Seconds(), pr.unanswered, pr.sent))
	}
	if pr.ended != "" && pr.ended != "closed by us" {
		ac.Failures = append(ac.Failures, "the server ended the probe's connection: "+pr.ended)
	}
	if runErr != nil {
		ac.Failures = append(ac.Failures, "case: "+runErr.Error())
	}
	if timedOut {
		ac.Failures = append(ac.Failures, fmt.Sprintf("the case did not finish within %s", o.CaseTime))
	}
	ac.Failures = append(ac.Failures, e.failures...)
	ac.Notes = append(ac.Notes, e.notes...)
	skipped := false
	for _, chk := range []func(*env, map[string]int64) error{noProtocolBreak, c.check} {
		if chk == nil {
			continue
		}
		if err := chk(e, got); errors.Is(err, errNoHandler) {
			skipped = true
			ac.Notes = append(ac.Notes, err.Error())
		} else if err != nil {
			ac.Failures = append(ac.Failures, "offender's answer: "+err.Error())
		}
	}
	if c.maxGrowth > 0 && ac.RSSPeak != nil && *ac.RSSPeak-*ac.RSSBefore > c.maxGrowth {
		ac.Failures = append(ac.Failures, fmt.Sprintf("%s by %.1f MiB (bound %.0f MiB)", memoryFailure,
			float64(*ac.RSSPeak-*ac.RSSBefore)/(1<<20), float64(c.maxGrowth)/(1<<20)))
	}
	if !back {
		ac.Failures = append(ac.Failures, fmt.Sprintf("not back to baseline within %s: %s", o.ReturnWithin, diff(before, after, leak)))
	}
	if leak > 0 {
		ac.Notes = append(ac.Notes, fmt.Sprintf("%d goroutines allowed to remain (handlers that never return)", leak))
	}
	switch {
	case skipped:
		ac.Verdict = "skipped"
	case len(ac.Failures) == 0:
		ac.Verdict = "ok"
	}
	snap, err := pr.h.Snapshot()
	if err != nil {
		return ac, nil
	}
	return ac, &snap
}

// waitReturn polls the server until its descriptors and goroutines are
// back at before (plus the slack and leak), or ReturnWithin passes.
func (r *runner) waitReturn(ctx context.Context, s *serverHandle, before reading, leak int) (reading, bool, time.Duration) {
	start := time.Now()
	deadline := start.Add(r.o.ReturnWithin)
	for {
		now, _ := r.read(ctx, s)
		if backAt(before, now, leak) {
			return now, true, time.Since(start)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return now, false, 0
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
}

func backAt(before, now reading, leak int) bool {
	if before.procOK && (!now.procOK || now.fds > before.fds+fdSlack) {
		return false
	}
	if before.gorOK && (!now.gorOK || now.goroutines > before.goroutines+goroutineSlack+float64(leak)) {
		return false
	}
	return true
}

func diff(before, after reading, leak int) string {
	var s []string
	if before.procOK && after.procOK && after.fds > before.fds+fdSlack {
		s = append(s, fmt.Sprintf("descriptors %d → %d", before.fds, after.fds))
	}
	if before.gorOK && after.gorOK && after.goroutines > before.goroutines+goroutineSlack+float64(leak) {
		s = append(s, fmt.Sprintf("goroutines %.0f → %.0f", before.goroutines, after.goroutines))
	}
	if before.procOK && !after.procOK || before.gorOK && !after.gorOK {
		s = append(s, "the server could not be read")
	}
	return fmt.Sprint(s)
}

// samplePeak samples the server's RSS every 50 ms until the returned
// function is called, which returns the peak.
func (r *runner) samplePeak(s *serverHandle) func() int64 {
	if s.pid <= 0 {
		return func() int64 { return 0 }
	}
	stop := make(chan struct{})
	var peak int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if p, err := procstat.Read(s.pid); err == nil {
				peak = max(peak, p.RSS)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		wg.Wait()
		return peak
	}
}
