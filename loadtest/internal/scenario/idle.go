package scenario

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/procstat"
	"github.com/surge-ws/ws/loadtest/internal/report"
)

// idle opens N subscribed connections and holds them: what does a
// connection cost the server (and the machine) when nothing happens?
var errNotRead = errors.New("not read")

func (r *runner) idle(ctx context.Context) error {
	s0, sok0 := r.srv.sample()
	var sw procstat.Sample
	var swok bool
	var mw int64
	var merrw error = errNotRead
	later := r.connect(ctx, true, func() {
		// The server reading at the warm mark, for the growth after the hold.
		sw, swok = r.srv.sample()
		mw, merrw = procstat.MemAvailable()
	})

	s1, sok1 := r.srv.sample()
	c1, cok1 := r.clientCPU(ctx)
	hold := r.o.Hold
	r.status(func() string {
		return fmt.Sprintf("idle: holding %d connections for %s", r.fleet.Counters().Opened-r.fleet.Counters().Dropped, hold)
	})
	sleepUntil(ctx, time.Now().Add(hold))
	r.o.Progress.Stop()
	s2, sok2 := r.srv.sample()
	c2, cok2 := r.clientCPU(ctx)
	m2, merr2 := procstat.MemAvailable()
	if r.res.Connected-later > 0 {
		r.note(fmt.Sprintf("per-connection memory is the growth over the last %d connections (the first %d are the baseline: see docs/loadtest.md)", later, r.res.Connected-later))
	}

	res := r.res
	r.setLatency("handshake (TCP connect + WebSocket upgrade)", r.hists["handshake"])
	res.Window = fmt.Sprintf("hold (%s)", hold)
	r.note("server memory per connection is only meaningful on a freshly started server: a server reuses memory freed by earlier connections")
	if sok0 && sok2 {
		res.ServerRSSBefore, res.ServerRSSAfter = report.I(s0.RSS), report.I(s2.RSS)
	}
	if swok && sok2 && later > 0 {
		res.ServerRSSPerConn = report.F(float64(s2.RSS-sw.RSS) / float64(later))
	}
	if sok0 && sok1 {
		r.note(fmt.Sprintf("server CPU while connecting: %.2f s (%.2f s user)", (s1.CPU() - s0.CPU()).Seconds(), (s1.User - s0.User).Seconds()))
	}
	if sok1 && sok2 {
		res.ServerCPUSec, res.ServerUserCPUSec, res.ServerSysCPUSec = secs(s2.CPU()-s1.CPU()), secs(s2.User-s1.User), secs(s2.System-s1.System)
	}
	if cok1 && cok2 {
		r.setClientCPU(c2.sub(c1), 0)
	}
	if merrw == nil && merr2 == nil && later > 0 {
		res.MemAvailableDelta = report.I(mw - m2)
		res.MemPerConnTotal = report.F(float64(mw-m2) / float64(later))
		if mw-m2 < 0 {
			r.note("MemAvailable rose during the run: it is machine-wide, and other processes freed memory meanwhile; the machine figure is not usable")
		}
	}
	return nil
}
