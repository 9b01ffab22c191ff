package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/agent"
	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/loadtest/internal/hist"
	"github.com/surge-ws/ws/loadtest/internal/report"
)

// warmShare is the part of the connections opened first: per-connection
// memory is the growth from there to all of them, divided by the rest, so a
// process's one-time costs (its first connection's pools, histograms, dialer
// stacks) are not charged to the connections of a small run.
const warmShare = 10

// connect opens every agent's connections (subscribing them when asked) and
// fills the connection fields of the result. It opens them in two steps and
// calls between (may be nil) in the middle, for readings at the warm mark;
// it returns how many connections the second step opened.
func (r *runner) connect(ctx context.Context, subscribe bool, between func()) int64 {
	n := r.o.N
	if r.connectStatus != nil {
		r.status(r.connectStatus)
	} else {
		r.status(func() string {
			c := r.fleet.Counters()
			return fmt.Sprintf("%s: connected %d/%d  failed %d  subscribed %d", r.res.Scenario, c.Opened, n, c.Failed, c.Subscribed)
		})
	}
	defer r.o.Progress.Stop()
	rate := 0.0
	if r.o.ConnRate > 0 {
		rate = r.o.ConnRate / float64(len(r.spans))
	}
	step := func(part func(sp span) span) []*agent.Report {
		return r.fleet.Each(ctx, func(i int) *agent.Cmd {
			sp := part(r.spans[i])
			return &agent.Cmd{Op: agent.OpConnect, Connect: &client.ConnectSpec{
				First: sp.first, N: sp.n, Subscribe: subscribe, Concurrency: r.o.Conc, Rate: rate}}
		})
	}
	warm := func(sp span) int { return min(sp.n, max(1, sp.n/warmShare)) }
	s0, ok0 := r.srv.sample()
	first := step(func(sp span) span { return span{sp.first, warm(sp)} })
	sw, okw := r.srv.sample()
	if between != nil {
		between()
	}
	second := step(func(sp span) span { return span{sp.first + warm(sp), sp.n - warm(sp)} })
	s1, ok1 := r.srv.sample()

	var elapsed time.Duration
	var rss, later int64
	var snaps []hist.Snapshot
	for k, reps := range [][]*agent.Report{first, second} {
		var stepElapsed time.Duration
		for _, rep := range reps {
			if rep == nil || rep.Connect == nil {
				continue
			}
			c := rep.Connect
			r.res.Connected += c.Opened
			r.res.Subscribed += c.Subscribed
			stepElapsed = max(stepElapsed, c.Elapsed)
			snaps = append(snaps, c.Handshake)
			if k == 1 {
				rss += c.RSSAfter - c.RSSBefore
				later += c.Opened
			}
		}
		elapsed += stepElapsed
	}
	// Connections of an agent that died count as failed.
	r.res.Failed = int64(n) - r.res.Connected
	if elapsed > 0 {
		r.res.ConnectRate = report.F(float64(r.res.Connected) / elapsed.Seconds())
	}
	if later > 0 {
		r.res.ClientRSSPerConn = report.F(float64(rss) / float64(later))
	}
	if ok0 && ok1 {
		r.res.ServerRSSBefore, r.res.ServerRSSAfter = report.I(s0.RSS), report.I(s1.RSS)
	}
	if okw && ok1 && later > 0 {
		r.res.ServerRSSPerConn = report.F(float64(s1.RSS-sw.RSS) / float64(later))
		if s1.RSS < sw.RSS {
			r.note("the server's RSS fell while connections opened: it reused memory freed earlier, so its memory per connection is not usable (start a fresh server for memory figures)")
		}
	}
	if h, err := hist.MergeSnapshots(snaps...); err == nil && h.Count() > 0 {
		r.hists["handshake"] = h
		r.res.HandshakeP50Ms, r.res.HandshakeP99Ms = ms(h.Quantile(0.5)), ms(h.Quantile(0.99))
	}
	return later
}

// dialPublisher opens the fan-out's publisher in this process.
func (r *runner) dialPublisher(ctx context.Context) error {
	p, err := client.DialPublisher(ctx, r.cfg)
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	r.pub = p
	return nil
}
