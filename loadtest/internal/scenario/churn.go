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

// Tolerances for "returned to baseline". Descriptors must return exactly
// (a leak of one per thousand cycles is a leak); a Go runtime keeps freed
// heap for minutes before returning it, so memory gets some slack.
const (
	rssSlackRatio      = 0.10
	rssSlackBytes      = 2 << 20
	goroutineSlack     = 2
	churnIndexPerAgent = 1_000_000 // keeps agents' source addresses apart
)

// churn opens, subscribes and closes connections at a rate and checks that
// the server's descriptors, goroutines and memory come back.
func (r *runner) churn(ctx context.Context) error {
	rate := r.o.Rate
	if rate <= 0 {
		rate = 100
	}
	dur := r.o.Duration
	// One cycle first, so that what a server sets up on its first connection
	// (an epoll instance, pools) is in the baseline, not counted as a leak.
	if err := r.dialPublisher(ctx); err != nil {
		return err
	}
	r.pub.Close()
	r.pub = nil
	sleepUntil(ctx, time.Now().Add(200*time.Millisecond))

	ch := &report.Churn{Rate: rate}
	r.res.N = int(rate * dur.Seconds())
	r.res.Churn = ch
	s0, sok0 := r.srv.sample()
	g0, gok0, gerr := r.srv.goroutines(ctx)
	if gerr != nil {
		r.note("stats url: " + gerr.Error())
	}
	if !gok0 {
		r.note("goroutines not measured: no -stats-url (or it failed)")
	}
	r.status(func() string {
		c := r.fleet.Counters()
		return fmt.Sprintf("churn: cycles %d  failed %d", c.Cycles, c.Failed+c.SubFailed)
	})
	procs := len(r.spans)
	reps := r.fleet.Each(ctx, func(i int) *agent.Cmd {
		return &agent.Cmd{Op: agent.OpChurn, Churn: &client.ChurnSpec{
			First: i * churnIndexPerAgent, Rate: rate / float64(procs), Duration: dur, Concurrency: r.o.Conc}}
	})
	r.o.Progress.Stop()
	lat := hist.New()
	var elapsed time.Duration
	for _, rep := range reps {
		if rep == nil || rep.Churn == nil {
			continue
		}
		ch.Cycles += rep.Churn.Cycles
		ch.Failed += rep.Churn.Failed
		ch.Late += rep.Churn.Late
		elapsed = max(elapsed, rep.Churn.Elapsed)
		if h, err := hist.Decode(rep.Churn.Cycle); err == nil {
			lat.Merge(h)
		}
	}
	r.res.Connected, r.res.Failed = ch.Cycles-ch.Failed, ch.Failed
	if elapsed > 0 {
		r.res.ConnectRate = report.F(float64(ch.Cycles) / elapsed.Seconds())
	}
	r.hists["cycle"] = lat
	r.setLatency("churn cycle: dial + upgrade + subscribe reply + close handshake", lat)
	if ch.Late > 0 {
		r.note(fmt.Sprintf("%d cycles started late: -concurrency %d could not sustain -rate %g", ch.Late, r.o.Conc, rate))
	}

	sleepUntil(ctx, time.Now().Add(r.o.Settle))
	s1, sok1 := r.srv.sample()
	g1, gok1, _ := r.srv.goroutines(ctx)
	if sok0 && sok1 {
		ch.FDsBefore, ch.FDsAfter = &s0.FDs, &s1.FDs
		ch.RSSBefore, ch.RSSAfter = report.I(s0.RSS), report.I(s1.RSS)
		ch.FDsReturned = report.B(s1.FDs <= s0.FDs)
		ch.RSSReturned = report.B(float64(s1.RSS) <= float64(s0.RSS)*(1+rssSlackRatio)+rssSlackBytes)
		r.res.ServerRSSBefore, r.res.ServerRSSAfter = ch.RSSBefore, ch.RSSAfter
		r.res.ServerCPUSec, r.res.ServerUserCPUSec = secs(s1.CPU()-s0.CPU()), secs(s1.User-s0.User)
		r.res.ServerSysCPUSec = secs(s1.System - s0.System)
		r.res.Window = "churn + settle"
	}
	if gok0 && gok1 {
		ch.GoroutinesBefore, ch.GoroutinesAfter = report.F(g0), report.F(g1)
		ch.GoroutinesReturned = report.B(g1 <= g0+goroutineSlack)
	}
	return nil
}
