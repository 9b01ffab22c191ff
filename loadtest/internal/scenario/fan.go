package scenario

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/agent"
	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/loadtest/internal/hist"
)

// fanState tracks which messages every agent has fully delivered.
type fanState struct {
	need     int32 // agents with subscribers
	count    []atomic.Int32
	complete chan int // messages delivered to every subscriber, in completion order
}

func (f *fanState) done(seq int) {
	if seq < 0 || seq >= len(f.count) {
		return
	}
	if f.count[seq].Add(1) == f.need {
		f.complete <- seq // buffered for every message: never blocks
	}
}

// fanResult is one fan-out phase, merged over the agents.
type fanResult struct {
	subscribers int64
	deliveries  int64
	expected    int64
	incomplete  int
	timedOut    int
	perMsg      *hist.Hist // per message: send until the last subscriber has it
	delivery    *hist.Hist // per delivery: send until that subscriber has it
	span        time.Duration
	outOfOrder  int64
	lost        int64
	serverCPU   struct{ total, user time.Duration }
	serverOK    bool
	clientCPU   cpuTime
	clientOK    bool
	aborted     error
}

// fanout publishes msgs messages to the subscribers and measures them: one
// at a time (each after the previous reached every subscriber) when rate is
// 0, else at rate messages per second.
func (r *runner) fanout(ctx context.Context, msgs int, rate float64, size int) fanResult {
	var res fanResult
	st := &fanState{count: make([]atomic.Int32, msgs), complete: make(chan int, msgs)}
	for _, rep := range r.fleet.All(ctx, agent.Cmd{Op: agent.OpArm, Arm: &client.ArmSpec{Msgs: msgs}}) {
		if rep != nil && rep.Subscribers > 0 {
			st.need++
			res.subscribers += rep.Subscribers
		}
	}
	r.fan.Store(st)
	defer r.fan.Store(nil)
	res.expected = res.subscribers * int64(msgs)

	var published atomic.Int64
	base := r.fleet.Counters().Deliveries
	r.status(func() string {
		return fmt.Sprintf("%s: published %d/%d  deliveries %d/%d", r.res.Scenario, published.Load(), msgs,
			r.fleet.Counters().Deliveries-base, res.expected)
	})
	s0, sok0 := r.srv.sample()
	c0, cok0 := r.clientCPU(ctx)

	sent := make([]int64, msgs)
	res.aborted = r.publish(ctx, st, sent, rate, size, &published, &res.timedOut)

	s1, sok1 := r.srv.sample()
	c1, cok1 := r.clientCPU(ctx)
	r.o.Progress.Stop()
	if sok0 && sok1 {
		res.serverOK = true
		res.serverCPU.total, res.serverCPU.user = s1.CPU()-s0.CPU(), s1.User-s0.User
	}
	if cok0 && cok1 {
		res.clientOK, res.clientCPU = true, c1.sub(c0)
	}

	// Merge the agents' per-message views.
	counts := make([]int64, msgs)
	last := make([]int64, msgs)
	res.delivery = hist.New()
	for _, rep := range r.fleet.All(ctx, agent.Cmd{Op: agent.OpCollect}) {
		if rep == nil || rep.Fanout == nil {
			continue
		}
		f := rep.Fanout
		res.deliveries += f.Deliveries
		res.outOfOrder += f.OutOfOrder
		res.lost += f.Lost
		for i := range min(msgs, len(f.Counts), len(f.Last)) {
			counts[i] += int64(f.Counts[i])
			last[i] = max(last[i], f.Last[i])
		}
		if h, err := hist.Decode(f.Delivery); err == nil {
			res.delivery.Merge(h)
		}
	}
	res.perMsg = hist.New()
	var end int64
	for i := range msgs {
		end = max(end, last[i])
		if sent[i] == 0 {
			continue // never published (the run was cut short)
		}
		if counts[i] < res.subscribers || last[i] == 0 {
			res.incomplete++
			continue
		}
		res.perMsg.Record(time.Duration(last[i] - sent[i]))
	}
	if msgs > 0 && sent[0] > 0 && end > sent[0] {
		res.span = time.Duration(end - sent[0])
	}
	return res
}

// maxMisses is how many undelivered messages in a row stop a one-at-a-time
// run: past that the server is not delivering, and waiting out -timeout for
// every remaining message would only waste the machine's time.
const maxMisses = 3

// publish sends the messages and waits for their delivery.
func (r *runner) publish(ctx context.Context, st *fanState, sent []int64, rate float64, size int, published *atomic.Int64, timedOut *int) error {
	msgs := len(sent)
	wait := func(seq int, limit time.Duration) error {
		if st.need == 0 {
			return nil
		}
		t := time.NewTimer(limit)
		defer t.Stop()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case s := <-st.complete:
				if s == seq {
					return nil
				}
			case <-t.C:
				*timedOut++
				return nil
			case <-tick.C:
				if err := r.deadAgent(); err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	limit := r.o.Timeout
	if r.waitFor > 0 {
		limit = r.waitFor
	}
	if rate <= 0 {
		misses := 0
		for seq := range msgs {
			t, err := r.pub.Publish(int64(seq), size)
			if err != nil {
				return fmt.Errorf("publish: %w", err)
			}
			sent[seq] = t
			published.Add(1)
			before := *timedOut
			if err := wait(seq, limit); err != nil {
				return err
			}
			if *timedOut > before {
				misses++
			} else {
				misses = 0
			}
			if misses == maxMisses {
				return fmt.Errorf("%d messages in a row did not reach every subscriber within %s; stopping", maxMisses, limit)
			}
		}
		return nil
	}
	start := time.Now()
	interval := float64(time.Second) / rate
	for seq := range msgs {
		if !sleepUntil(ctx, start.Add(time.Duration(float64(seq)*interval))) {
			return ctx.Err()
		}
		t, err := r.pub.Publish(int64(seq), size)
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		sent[seq] = t
		published.Add(1)
	}
	// Wait for every message, bounded by one timeout after the last send.
	if st.need == 0 {
		return nil
	}
	deadline := time.Now().Add(limit)
	got := 0
	for got < msgs {
		select {
		case <-st.complete:
			got++
		case <-time.After(time.Until(deadline)):
			*timedOut += msgs - got
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := r.deadAgent(); err != nil {
			return err
		}
	}
	return nil
}

// deadAgent returns an error naming the first agent that died.
func (r *runner) deadAgent() error {
	for i, a := range r.fleet.Agents {
		if !r.fleet.Alive(i) {
			return errors.New(a.Name() + " is gone; the run stops here")
		}
	}
	return nil
}

func sleepUntil(ctx context.Context, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
