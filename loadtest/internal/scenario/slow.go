package scenario

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/agent"
	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/loadtest/internal/proto"
	"github.com/surge-ws/ws/loadtest/internal/report"
)

// slowRcvBuf is the slow subscribers' SO_RCVBUF (the kernel doubles it).
const slowRcvBuf = 4096

// slowCount is the number of slow subscribers for N and the share.
func slowCount(o Options) int {
	share := o.Share
	if share <= 0 {
		share = 0.1
	}
	return int(math.Ceil(share * float64(o.N)))
}

// slow measures what subscribers that stop reading do to the others: a
// fan-out phase without them, then the same phase with them subscribed,
// while the server's memory is watched.
func (r *runner) slow(ctx context.Context) error {
	r.connect(ctx, true, nil)
	if err := r.dialPublisher(ctx); err != nil {
		return err
	}
	sl := &report.Slow{}
	r.res.Slow = sl
	base := r.fanout(ctx, r.o.Msgs, r.o.Rate, r.o.Size)
	if base.aborted != nil {
		r.fillFan(base)
		return base.aborted
	}
	r.hists["baseline_per_message"] = base.perMsg
	if base.perMsg.Count() > 0 {
		sl.BaselineP50Ms, sl.BaselineP99Ms, sl.BaselineMaxMs = ms(base.perMsg.Quantile(0.5)), ms(base.perMsg.Quantile(0.99)), ms(base.perMsg.Max())
	}

	nSlow := slowCount(r.o)
	procs := len(r.spans)
	reps := r.fleet.Each(ctx, func(i int) *agent.Cmd {
		first, n := i*nSlow/procs, (i+1)*nSlow/procs-i*nSlow/procs
		return &agent.Cmd{Op: agent.OpSlow, Slow: &client.SlowSpec{First: r.o.N + first, N: n, Concurrency: r.o.Conc, RcvBuf: slowRcvBuf}}
	})
	for _, rep := range reps {
		if rep != nil && rep.Slow != nil {
			sl.SlowConns += rep.Slow.Opened
		}
	}

	// Watch the server's memory while the slow subscribers' buffers fill.
	sBefore, sokBefore := r.srv.sample()
	var peak int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if sokBefore {
		peak = sBefore.RSS
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if s, ok := r.srv.sample(); ok {
						peak = max(peak, s.RSS)
					}
				}
			}
		}()
	}
	with := r.fanout(ctx, r.o.Msgs, r.o.Rate, r.o.Size)
	close(stop)
	wg.Wait()
	r.fillFan(with)
	r.hists["with_slow_per_message"] = with.perMsg
	if with.perMsg.Count() > 0 {
		sl.WithSlowP50Ms, sl.WithSlowP99Ms, sl.WithSlowMaxMs = ms(with.perMsg.Quantile(0.5)), ms(with.perMsg.Quantile(0.99)), ms(with.perMsg.Max())
	}
	sl.PayloadBytes = int64(r.o.Msgs) * int64(len(proto.AppendStamp(nil, int64(r.o.Msgs), client.Now(), r.o.Size)))
	if sokBefore {
		sl.ServerRSSPeak = report.I(peak)
		if sl.SlowConns > 0 {
			sl.PeakPerSlow = report.F(float64(peak-sBefore.RSS) / float64(sl.SlowConns))
		}
	}

	for _, rep := range r.fleet.All(ctx, agent.Cmd{Op: agent.OpProbe, Probe: 2 * time.Second}) {
		if rep != nil && rep.Probe != nil {
			sl.ClosedByServer += rep.Probe.ClosedByServer
			sl.BytesBuffered += rep.Probe.Buffered
		}
	}
	if sl.SlowConns > 0 && sl.ClosedByServer == 0 && sl.BytesBuffered >= sl.SlowConns*sl.PayloadBytes*9/10 {
		r.note("everything published to the slow subscribers fit in kernel socket buffers, so the server's own queue never filled: publish more per subscriber (-msgs x -size above net.ipv4.tcp_wmem's maximum) to test it")
	}
	if after, ok := r.srv.sample(); ok && sokBefore {
		r.res.ServerRSSBefore, r.res.ServerRSSAfter = report.I(sBefore.RSS), report.I(after.RSS)
	}
	r.note(fmt.Sprintf("headline figures are for the phase with %d slow subscribers; the baseline phase had none", sl.SlowConns))
	return with.aborted
}
