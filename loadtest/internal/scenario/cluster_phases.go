package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sync"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/agent"
	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/loadtest/internal/hist"
	"github.com/surge-ws/ws/loadtest/internal/procstat"
	"github.com/surge-ws/ws/loadtest/internal/report"
)

var execCommand = exec.Command

// peakWindow is the shortest window of the ramp's best connect rate.
const peakWindow = 5.0 // seconds

// ramp opens and subscribes every connection; false when the run cannot
// go on (nothing connected, or ctx is done).
func (tr *targetRun) ramp(ctx context.Context) bool {
	r, n := tr.r, tr.cr.o.N
	tr.mark("ramp")
	from := tr.now()
	k0, _ := procstat.ReadKernel()
	s0, sok0 := r.srv.sample()
	c0, cok0 := r.clientCPU(ctx)
	var prevOpen int64
	var prevAt time.Time
	var rate float64
	r.connectStatus = func() string {
		c := r.fleet.Counters()
		if now := time.Now(); now.Sub(prevAt) >= time.Second {
			if !prevAt.IsZero() {
				rate = float64(c.Open-prevOpen) / now.Sub(prevAt).Seconds()
			}
			prevOpen, prevAt = c.Open, now
		}
		s := fmt.Sprintf("cluster %s: open %s/%s  subscribed %s  failed %d  %.0f/s", tr.name, num(c.Open), num(int64(n)), num(c.Subscribed), c.Failed, rate)
		if pts := tr.since(0); len(pts) > 0 {
			p := pts[len(pts)-1]
			s += fmt.Sprintf("  servers %s  kernel %s  clients %s", gibStr(p.ServerRSS), gibStr(p.KernelMem), gibStr(p.ClientRSS))
		}
		return s
	}
	r.connect(ctx, true, nil)
	k1, _ := procstat.ReadKernel()
	s1, sok1 := r.srv.sample()
	c1, cok1 := r.clientCPU(ctx)
	res := r.res
	p := &report.RampPhase{Target: int64(n), Connected: res.Connected, Failed: res.Failed, Subscribed: res.Subscribed,
		Rate: res.ConnectRate, HandshakeP50Ms: res.HandshakeP50Ms, HandshakeP99Ms: res.HandshakeP99Ms}
	if h := r.hists["handshake"]; h != nil && h.Count() > 0 {
		p.HandshakeMaxMs = ms(h.Max())
	}
	if res.ConnectRate != nil && *res.ConnectRate > 0 {
		p.Seconds = float64(res.Connected) / *res.ConnectRate
	}
	// The best rate over 5 s or more: the workers' counts reach the
	// coordinator every 250 ms, so a shorter window measures their jitter.
	pts := tr.since(from)
	for i, j := 0, 0; i < len(pts); i++ {
		for j < i && pts[i].T-pts[j+1].T >= peakWindow {
			j++
		}
		if dt := pts[i].T - pts[j].T; dt >= peakWindow {
			v := float64(pts[i].Open-pts[j].Open) / dt
			if p.PeakRate == nil || v > *p.PeakRate {
				p.PeakRate = report.F(v)
			}
		}
	}
	if sok0 && sok1 {
		p.ServerCPUSec = secs(s1.CPU() - s0.CPU())
	}
	if cok0 && cok1 {
		p.ClientCPUSec = secs(c1.sub(c0).total)
	}
	p.Net = tr.netDelta(k0, k1, from)
	tr.t.Ramp = p
	tr.cr.logf("%s: ramp: %s of %d subscribed in %.1f s (%s/s, handshake p99 %s), %d failed",
		tr.name, num(p.Subscribed), n, p.Seconds, numf(p.Rate), msText(p.HandshakeP99Ms), p.Failed)
	if res.Connected == 0 {
		tr.t.Aborted = "no connection opened"
		return false
	}
	return ctx.Err() == nil
}

// clusterDoc is what examples/chat's GET /cluster answers, in part.
type clusterDoc struct {
	Node  string `json:"node"`
	Stats struct {
		Clients int64 `json:"clients"`
	} `json:"stats"`
	Cluster struct {
		Nodes   int   `json:"nodes"`
		Clients int64 `json:"clients"`
	} `json:"cluster"`
	Channels []struct {
		Name    string `json:"name"`
		Clients int64  `json:"clients"`
	} `json:"channels"`
}

func getCluster(ctx context.Context, statsAddr string) (clusterDoc, error) {
	var d clusterDoc
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+statsAddr+"/cluster", nil)
	if err != nil {
		return d, err
	}
	resp, err := statsClient.Do(req)
	if err != nil {
		return d, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return d, err
	}
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("GET /cluster: %s", resp.Status)
	}
	return d, json.Unmarshal(b, &d)
}

func (d clusterDoc) channel(name string) int64 {
	for _, c := range d.Channels {
		if c.Name == name {
			return c.Clients
		}
	}
	return 0
}

// presence asks node 0 (GET /cluster) until it counts exactly the clients
// the load generator holds open (every one subscribed) as subscribers of the
// channel, and those plus extra as clients (extra: the publisher, a client
// that did not subscribe), or 30 s pass; then adds up every node's own
// count.
func (tr *targetRun) presence(ctx context.Context, extra int64, when string) *report.PresenceCheck {
	var want int64
	for _, rep := range tr.r.fleet.All(ctx, agent.Cmd{Op: agent.OpSample}) {
		if rep != nil {
			want += rep.Counters.Open
		}
	}
	node := tr.srvs[0].StatsAddr
	pc := &report.PresenceCheck{Node: "n00", Want: want, Extra: extra, LocalSum: -1}
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	tr.r.status(func() string {
		return fmt.Sprintf("cluster %s: asking node n00 for the presence counts (%s): %s clients, %s in %s", tr.name, when, num(pc.Clients), num(pc.Room), tr.cr.o.Channel)
	})
	defer tr.r.o.Progress.Stop()
	for {
		d, err := getCluster(ctx, node)
		if err == nil {
			pc.Clients, pc.Room, pc.Nodes = d.Cluster.Clients, d.channel(tr.cr.o.Channel), d.Cluster.Nodes
			if pc.Clients == want+extra && pc.Room == want {
				pc.Exact = true
				break
			}
		}
		if time.Now().After(deadline) || !sleepUntil(ctx, time.Now().Add(200*time.Millisecond)) {
			if err != nil {
				tr.t.Notes = append(tr.t.Notes, "presence: "+err.Error())
			}
			break
		}
	}
	pc.Seconds = time.Since(start).Seconds()
	var sum int64
	for _, s := range tr.srvs {
		d, err := getCluster(ctx, s.StatsAddr)
		if err != nil {
			sum = -1
			break
		}
		sum += d.Stats.Clients
	}
	pc.LocalSum = sum
	verdict := "exact"
	if !pc.Exact {
		verdict = "NOT EXACT"
	}
	tr.cr.logf("%s: presence at %s: node n00 counts %s clients, %s in %s, %d nodes (%s after %.1f s); nodes' own counts add up to %s",
		tr.name, when, num(pc.Clients), num(pc.Room), tr.cr.o.Channel, pc.Nodes, verdict, pc.Seconds, num(pc.LocalSum))
	return pc
}

// idle holds every connection for hold with nothing sent.
func (tr *targetRun) idle(ctx context.Context, hold time.Duration) {
	r := tr.r
	tr.mark("idle")
	from := tr.now()
	k0, _ := procstat.ReadKernel()
	s0, sok0 := r.srv.sample()
	c0, cok0 := r.clientCPU(ctx)
	rc0, rerr0 := tr.redisCPU()
	d0 := r.fleet.Counters().Dropped
	start := time.Now()
	r.status(func() string {
		return fmt.Sprintf("cluster %s: idle hold %.0f/%.0f s, %s open", tr.name, time.Since(start).Seconds(), hold.Seconds(), num(r.fleet.Counters().Open))
	})
	sleepUntil(ctx, start.Add(hold))
	r.o.Progress.Stop()
	el := time.Since(start)
	k1, _ := procstat.ReadKernel()
	s1, sok1 := r.srv.sample()
	c1, cok1 := r.clientCPU(ctx)
	rc1, rerr1 := tr.redisCPU()
	c := r.fleet.Counters()
	p := &report.IdlePhase{Seconds: el.Seconds(), OpenAtEnd: c.Open, Dropped: c.Dropped - d0, Net: tr.netDelta(k0, k1, from), ServerEmptyPct: tr.emptyPct}
	if sok0 && sok1 {
		p.ServerCPUSec, p.ServerUserSec = (s1.CPU() - s0.CPU()).Seconds(), (s1.User - s0.User).Seconds()
		p.ServerCorePct = 100 * p.ServerCPUSec / el.Seconds()
	}
	pts := tr.since(from)
	for i := 1; i < len(pts); i++ {
		if dt := pts[i].T - pts[i-1].T; dt > 0.5 {
			p.ServerPeakPct = max(p.ServerPeakPct, 100*(pts[i].ServerCPU-pts[i-1].ServerCPU)/dt)
		}
	}
	if cok0 && cok1 {
		p.ClientCorePct = report.F(100 * c1.sub(c0).total.Seconds() / el.Seconds())
	}
	if rerr0 == nil && rerr1 == nil {
		p.RedisCorePct = report.F(100 * (rc1 - rc0).Seconds() / el.Seconds())
	}
	p.SegmentsPerS = float64(k1.InSegs-k0.InSegs) / el.Seconds()
	if isHub(tr.name) {
		pings := float64(c.Open) / orDefault(tr.cr.co.PingInterval, hubPingInterval).Seconds()
		p.PingsPerS = report.F(pings)
		if pings > 0 && sok0 && sok1 {
			// What the connections cost beyond the empty processes, all
			// charged to the pings (the only thing an idle connection does).
			busy := p.ServerCPUSec
			if tr.emptyPct != nil {
				busy -= *tr.emptyPct / 100 * el.Seconds()
			}
			p.CPUPerPingUs = report.F(busy / (pings * el.Seconds()) * 1e6)
		}
	}
	tr.t.Idle = p
	tr.cr.logf("%s: idle %.0f s: servers %.1f%% of a core (busiest second %.1f%%), %s dropped", tr.name, p.Seconds, p.ServerCorePct, p.ServerPeakPct, num(p.Dropped))
}

// redisCPU reads the Redis server's CPU time.
func (tr *targetRun) redisCPU() (time.Duration, error) {
	if tr.ownRedis != nil {
		s, err := procstat.ReadNoFDs(tr.ownRedis.pid())
		return s.CPU(), err
	}
	if tr.redis == "" {
		return 0, fmt.Errorf("no redis")
	}
	return redisCPU(tr.redis)
}

// memory reads what the full count costs.
func (tr *targetRun) memory() {
	r := tr.r
	m := &report.MemoryAtFull{Conns: r.fleet.Counters().Open}
	if m.Conns <= 0 {
		return
	}
	per := func(v int64) float64 { return float64(v) / float64(m.Conns) }
	if s, ok := sumSamples(tr.pids); ok {
		m.ServerRSS = s.RSS
		m.ServerRSSPerConn = per(s.RSS)
		m.ServerGrowthPerConn = per(s.RSS - tr.t.ServerBaselineRSS)
		m.ServerAnon, m.ServerAnonPerConn = s.RSSAnon, per(s.RSSAnon)
	}
	for _, pid := range tr.pids {
		if s, err := procstat.ReadNoFDs(pid); err == nil {
			m.ServerMaxProcRSS = max(m.ServerMaxProcRSS, s.RSS)
			m.ServerFile = max(m.ServerFile, s.RSSFile)
		}
	}
	if k, err := procstat.ReadKernel(); err == nil {
		m.KernelSlab, m.KernelTCPMem = k.Slab-tr.k0.Slab, k.TCPMem-tr.k0.TCPMem
		m.KernelPerConn = per(m.KernelSlab + m.KernelTCPMem)
		m.MachineDrop = tr.k0.MemAvailable - k.MemAvailable
		m.MachinePerConn = per(m.MachineDrop)
		m.Sockets = k.Sockets - tr.k0.Sockets
	}
	if tr.redis != "" {
		if v, err := redisUsedMemory(tr.redis); err == nil {
			m.Redis = report.I(v - tr.redis0)
			m.RedisPerConn = report.F(per(v - tr.redis0))
		}
	}
	if s, ok := sumSamples(tr.clientPids); ok {
		m.ClientRSS = s.RSS
		m.ClientRSSPerConn = per(s.RSS)
	}
	tr.t.Memory = m
	tr.cr.logf("%s: memory at %s connections: servers %.0f B, kernel %.0f B, Redis %s B, clients %.0f B per connection",
		tr.name, num(m.Conns), m.ServerRSSPerConn, m.KernelPerConn, numf(m.RedisPerConn), m.ClientRSSPerConn)
}

// dialPublisher opens the fan-out's publisher: one connection to the first
// node for the hub (Redis carries the message to the others), one to every
// process for the floor (its processes do not know each other).
func (tr *targetRun) dialPublisher(ctx context.Context, urls []string) error {
	cfg := tr.r.cfg
	cfg.URLs = nil
	if clustered(tr.name) {
		p, err := client.DialPublisher(ctx, cfg)
		if err != nil {
			return err
		}
		tr.r.pub = p
		return nil
	}
	mp := &multiPublisher{}
	tr.r.pub = mp
	for _, u := range urls {
		cfg.URL = u
		p, err := client.DialPublisher(ctx, cfg)
		if err != nil {
			return err
		}
		mp.pubs = append(mp.pubs, p)
	}
	return nil
}

// fan runs a fan-out phase: msgs messages one at a time (rate 0) or at rate.
func (tr *targetRun) fan(ctx context.Context, phase string, msgs int, rate float64) *report.FanPhase {
	r := tr.r
	tr.mark(phase)
	from := tr.now()
	k0, _ := procstat.ReadKernel()
	fr := r.fanout(ctx, msgs, rate, r.o.Size)
	k1, _ := procstat.ReadKernel()
	p := &report.FanPhase{Messages: msgs, Rate: rate, Size: r.o.Size, Subscribers: fr.subscribers,
		Deliveries: fr.deliveries, Expected: fr.expected, Incomplete: fr.incomplete, Lost: fr.lost, OutOfOrder: fr.outOfOrder,
		Net: tr.netDelta(k0, k1, from)}
	if fr.aborted != nil {
		p.Aborted = fr.aborted.Error()
	}
	if h := fr.perMsg; h != nil && h.Count() > 0 {
		p.PerMessageP50Ms, p.PerMessageP99Ms, p.PerMessageMaxMs = ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Max())
		r.hists[phase+"_per_message"] = h
	}
	if h := fr.delivery; h != nil && h.Count() > 0 {
		p.DeliveryP50Ms, p.DeliveryP99Ms, p.DeliveryMaxMs = ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Max())
		r.hists[phase+"_delivery"] = h
	}
	if fr.span > 0 {
		p.Seconds = fr.span.Seconds()
		p.DeliveriesPerSec = report.F(float64(fr.deliveries) / fr.span.Seconds())
	}
	if fr.serverOK {
		p.ServerCPUSec = secs(fr.serverCPU.total)
		p.ServerCPUPerDelUs = perUs(fr.serverCPU.total, fr.deliveries)
	}
	if fr.clientOK {
		p.ClientCPUSec = secs(fr.clientCPU.total)
	}
	tr.cr.logf("%s: %s: %s of %s deliveries, the last after %s (p99 of each %s), %s/s",
		tr.name, phase, num(p.Deliveries), num(p.Expected), msText(p.PerMessageMaxMs), msText(p.DeliveryP99Ms), numf(p.DeliveriesPerSec))
	return p
}

// reconnect makes one client in ReconnectEvery leave and come back, then
// asks the presence for the exact total again.
func (tr *targetRun) reconnect(ctx context.Context) {
	r, co := tr.r, tr.cr.co
	tr.mark("reconnect")
	spec := client.ReconnectSpec{Every: co.ReconnectEvery, Group: tr.cr.servers, Subscribe: true, Concurrency: r.o.Conc}
	r.status(func() string {
		c := r.fleet.Counters()
		return fmt.Sprintf("cluster %s: reconnecting one client in %d: %s open", tr.name, co.ReconnectEvery, num(c.Open))
	})
	reps := r.fleet.All(ctx, agent.Cmd{Op: agent.OpReconnect, Reconnect: &spec})
	r.o.Progress.Stop()
	p := &report.ReconnectPhase{}
	var cyc, hs []hist.Snapshot
	var el time.Duration
	for _, rep := range reps {
		if rep == nil || rep.Reconnect == nil {
			continue
		}
		x := rep.Reconnect
		p.Picked += x.Picked
		p.Closed += x.Closed
		p.Reopened += x.Reopened
		p.Subscribed += x.Subscribed
		p.Failed += x.Failed
		el = max(el, x.Elapsed)
		cyc, hs = append(cyc, x.Cycle), append(hs, x.Handshake)
	}
	p.Seconds = el.Seconds()
	if el > 0 {
		p.Rate = report.F(float64(p.Subscribed) / el.Seconds())
	}
	if h, err := hist.MergeSnapshots(cyc...); err == nil && h.Count() > 0 {
		p.CycleP50Ms, p.CycleP99Ms, p.CycleMaxMs = ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Max())
		r.hists["reconnect_cycle"] = h
	}
	if h, err := hist.MergeSnapshots(hs...); err == nil && h.Count() > 0 {
		p.HandshakeP99Ms = ms(h.Quantile(0.99))
	}
	tr.t.Reconnect = p
	tr.cr.logf("%s: reconnect: %s of %s back and subscribed in %.1f s, %s failed", tr.name, num(p.Subscribed), num(p.Picked), p.Seconds, num(p.Failed))
	p.Presence = tr.presence(ctx, 1, "after the reconnect")
}

// shutdown sends SIGTERM to every server at once and measures until every
// server exited and every client connection is closed.
func (tr *targetRun) shutdown(ctx context.Context) {
	r := tr.r
	tr.mark("shutdown")
	before := agentErrors(ctx, r)
	p := &report.ShutdownPhase{Servers: len(tr.srvs)}
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.CleanExits, p.Killed = tr.stopServers(tr.cr.co.stopWait())
		p.Seconds = time.Since(start).Seconds()
	}()
	r.status(func() string {
		return fmt.Sprintf("cluster %s: shutdown: %s client connections open", tr.name, num(r.fleet.Counters().Open))
	})
	deadline := start.Add(tr.cr.co.stopWait() + 15*time.Second)
	for r.fleet.Counters().Open > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	r.o.Progress.Stop()
	// The counters reach the coordinator every 250 ms: ask for exact ones.
	var open int64
	for _, rep := range r.fleet.All(ctx, agent.Cmd{Op: agent.OpSample}) {
		if rep != nil {
			open += rep.Counters.Open
		}
	}
	p.StillOpen = open
	p.ClientsSeconds = time.Since(start).Seconds()
	if open == 0 {
		// When the last connection closed, to the sampling's resolution.
		for _, pt := range tr.since(0) {
			if pt.Open == 0 && pt.T >= tr.t.Phases[len(tr.t.Phases)-1].T {
				p.ClientsSeconds = pt.T - tr.t.Phases[len(tr.t.Phases)-1].T
				break
			}
		}
	}
	after := agentErrors(ctx, r)
	p.Closes = map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			p.Closes[k] = d
		}
	}
	if tr.redis != "" {
		if n, err := redisCountKeys(tr.redis, "runa:ws:default:*"); err == nil {
			p.RedisKeysLeft = report.I(n)
		}
	}
	tr.t.Shutdown = p
	tr.cr.logf("%s: shutdown: %d of %d servers exited cleanly in %.1f s; %s client connections still open", tr.name, p.CleanExits, p.Servers, p.Seconds, num(p.StillOpen))
}

// agentErrors sums every agent's errors so far.
func agentErrors(ctx context.Context, r *runner) map[string]int64 {
	out := map[string]int64{}
	for _, rep := range r.fleet.All(ctx, agent.Cmd{Op: agent.OpSample}) {
		if rep != nil {
			out = client.MergeErrors(out, rep.Errors)
		}
	}
	return out
}

// multiPublisher sends each message to several servers at once, with one
// send time: the floor's processes do not know each other.
type multiPublisher struct{ pubs []*client.Publisher }

func (m *multiPublisher) Publish(seq int64, pad int) (int64, error) {
	now := client.Now()
	for _, p := range m.pubs {
		if err := p.PublishStamped(seq, now, pad); err != nil {
			return now, err
		}
	}
	return now, nil
}

func (m *multiPublisher) Acks() (acks, failed int64) {
	for _, p := range m.pubs {
		a, f := p.Acks()
		acks, failed = acks+a, failed+f
	}
	return acks, failed
}

func (m *multiPublisher) Errors() map[string]int64 {
	var out map[string]int64
	for _, p := range m.pubs {
		out = client.MergeErrors(out, p.Errors())
	}
	return out
}

func (m *multiPublisher) Close() {
	for _, p := range m.pubs {
		p.Close()
	}
}

func num(n int64) string {
	if n < 0 {
		return "-" + num(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func numf(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return num(int64(*p + 0.5))
}

func msText(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f ms", *p)
}

func gibStr(b int64) string { return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30)) }
