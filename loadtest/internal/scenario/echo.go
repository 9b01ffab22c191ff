package scenario

import (
	"context"
	"fmt"

	"github.com/surge-ws/ws/loadtest/internal/agent"
	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/loadtest/internal/hist"
	"github.com/surge-ws/ws/loadtest/internal/report"
)

// echo measures request/reply: every connection sends -msgs requests, each
// after the previous reply.
func (r *runner) echo(ctx context.Context) error {
	r.connect(ctx, false, nil)
	want := r.res.Connected * int64(r.o.Msgs)
	r.status(func() string {
		return fmt.Sprintf("echo: round trips %d/%d", r.fleet.Counters().RoundTrips, want)
	})
	s0, sok0 := r.srv.sample()
	c0, cok0 := r.clientCPU(ctx)
	reps := r.fleet.All(ctx, agent.Cmd{Op: agent.OpEcho, Echo: &client.EchoSpec{PerConn: r.o.Msgs, Size: r.o.Size, Duration: r.o.Duration}})
	s1, sok1 := r.srv.sample()
	c1, cok1 := r.clientCPU(ctx)
	r.o.Progress.Stop()

	res := r.res
	lat := hist.New()
	var sent, errs, mismatched, unfinished int64
	var elapsed float64
	for _, rep := range reps {
		if rep == nil || rep.Echo == nil {
			continue
		}
		e := rep.Echo
		res.RoundTrips += e.RoundTrips
		sent += e.Sent
		errs += e.Errors
		mismatched += e.Mismatched
		unfinished += e.Unfinished
		elapsed = max(elapsed, e.Elapsed.Seconds())
		if h, err := hist.Decode(e.Latency); err == nil {
			lat.Merge(h)
		}
	}
	res.Messages = r.o.Msgs
	res.Deliveries, res.DeliveriesExpected = res.RoundTrips, want
	if elapsed > 0 {
		res.RoundTripsPerSec = report.F(float64(res.RoundTrips) / elapsed)
		res.DeliveriesPerSec = res.RoundTripsPerSec
	}
	r.hists["round_trip"] = lat
	r.setLatency("round trip: request sent until its reply arrived", lat)
	res.Window = "the echo step"
	if sok0 && sok1 {
		cpu, user := s1.CPU()-s0.CPU(), s1.User-s0.User
		r.checkPrecision("server", cpu)
		res.ServerCPUSec, res.ServerUserCPUSec, res.ServerSysCPUSec = secs(cpu), secs(user), secs(s1.System-s0.System)
		res.ServerCPUPerRoundTripUs, res.ServerUserCPUPerRoundTripUs = perUs(cpu, res.RoundTrips), perUs(user, res.RoundTrips)
		// A reply is the one delivery of a round trip.
		res.ServerCPUPerDeliveryUs, res.ServerUserCPUPerDeliveryUs = res.ServerCPUPerRoundTripUs, res.ServerUserCPUPerRoundTripUs
	}
	if cok0 && cok1 {
		r.setClientCPU(c1.sub(c0), res.RoundTrips)
	}
	if errs > 0 {
		r.note(fmt.Sprintf("%d echo replies were errors (ok=false)", errs))
	}
	if mismatched > 0 {
		r.note(fmt.Sprintf("%d replies carried an id other than the one outstanding", mismatched))
	}
	if unfinished > 0 {
		r.note(fmt.Sprintf("%d connections were still waiting for a reply when the step ended", unfinished))
	}
	if sent != want {
		r.note(fmt.Sprintf("%d requests sent of %d planned (-duration or a closed connection cut some short)", sent, want))
	}
	return nil
}
