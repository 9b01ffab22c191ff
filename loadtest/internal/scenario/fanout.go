package scenario

import (
	"context"
	"fmt"

	"github.com/surge-ws/ws/loadtest/internal/report"
)

// fanoutScenario measures publishing to N subscribers.
func (r *runner) fanoutScenario(ctx context.Context) error {
	r.connect(ctx, true, nil)
	if err := r.dialPublisher(ctx); err != nil {
		return err
	}
	fr := r.fanout(ctx, r.o.Msgs, r.o.Rate, r.o.Size)
	r.fillFan(fr)
	return fr.aborted
}

func modeName(rate float64) string {
	if rate <= 0 {
		return "one at a time"
	}
	return fmt.Sprintf("fixed rate %g msg/s", rate)
}

// fillFan puts a fan-out phase into the result.
func (r *runner) fillFan(fr fanResult) {
	res := r.res
	res.Mode, res.Messages = modeName(r.o.Rate), r.o.Msgs
	res.Deliveries, res.DeliveriesExpected = fr.deliveries, fr.expected
	res.Incomplete = fr.incomplete
	if fr.span > 0 {
		res.DeliveriesPerSec = report.F(float64(fr.deliveries) / fr.span.Seconds())
	}
	r.hists["per_message"], r.hists["delivery"] = fr.perMsg, fr.delivery
	r.setLatency("per message: publish until the last subscriber has it", fr.perMsg)
	if fr.delivery.Count() > 0 {
		res.DeliveryP50Ms, res.DeliveryP99Ms = ms(fr.delivery.Quantile(0.5)), ms(fr.delivery.Quantile(0.99))
	}
	res.Window = "publishing until the last delivery"
	if fr.serverOK {
		r.checkPrecision("server", fr.serverCPU.total)
		res.ServerCPUSec, res.ServerUserCPUSec = secs(fr.serverCPU.total), secs(fr.serverCPU.user)
		res.ServerSysCPUSec = secs(fr.serverCPU.total - fr.serverCPU.user)
		res.ServerCPUPerDeliveryUs = perUs(fr.serverCPU.total, fr.deliveries)
		res.ServerUserCPUPerDeliveryUs = perUs(fr.serverCPU.user, fr.deliveries)
	}
	if fr.clientOK {
		r.setClientCPU(fr.clientCPU, fr.deliveries)
	}
	if fr.lost > 0 {
		r.note(fmt.Sprintf("%d subscribers were closed during the fan-out: the messages they missed count as missing", fr.lost))
	}
	if fr.timedOut > 0 {
		r.note(fmt.Sprintf("%d messages were not delivered to every subscriber within -timeout", fr.timedOut))
	}
	if acks, failed := r.pubAcks(); failed > 0 {
		r.note(fmt.Sprintf("the server refused %d of %d publishes (see errors)", failed, acks))
	}
}

func (r *runner) pubAcks() (int64, int64) {
	if r.pub == nil {
		return 0, 0
	}
	return r.pub.Acks()
}
