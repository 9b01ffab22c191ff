package client

import (
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/hist"
	"github.com/surge-ws/ws/loadtest/internal/proto"
)

// ArmSpec prepares a fan-out measurement of Msgs messages, numbered 0..Msgs-1
// in their data's "seq".
type ArmSpec struct {
	Msgs int `json:"msgs"`
}

// FanoutReport is one process's view of a fan-out: per message, how many of
// its subscribers got it and when the last one did. The coordinator merges
// these to find, per message, when the last subscriber anywhere got it.
type FanoutReport struct {
	Subscribers int64         `json:"subscribers"` // local subscribers when armed
	Deliveries  int64         `json:"deliveries"`
	Counts      []int32       `json:"counts"`
	Last        []int64       `json:"last"` // CLOCK_MONOTONIC ns; 0: nobody here got it
	Delivery    hist.Snapshot `json:"delivery"`
	OutOfOrder  int64         `json:"out_of_order"`
	OutOfRange  int64         `json:"out_of_range"`
	Lost        int64         `json:"lost"` // subscribers that closed during the phase
}

// tracker counts one fan-out's deliveries. Its arrays are written by the
// connections' callbacks with atomics only.
type tracker struct {
	expected   atomic.Int32 // local subscribers still connected
	counts     []atomic.Int32
	signalled  []atomic.Bool // onDone already called for the message
	last       []atomic.Int64
	onDone     func(seq int)
	deliveries atomic.Int64
	outOfOrder atomic.Int64
	outOfRange atomic.Int64
	lost       atomic.Int64 // subscribers that closed after Arm
	lat        hist.Recorder
}

// Arm starts counting deliveries of spec.Msgs messages. onDone (may be nil)
// is called once per message, on a connection's goroutine, when every local
// subscriber has it: the coordinator's one-at-a-time mode waits for that.
// It returns the number of local subscribers.
func (cl *Client) Arm(spec ArmSpec, onDone func(seq int)) int64 {
	var subs int64
	cl.eachPeer(func(p *peer) {
		p.lastSeq.Store(-1)
		if f := p.flags.Load(); f&fSubscribed != 0 && f&fClosed == 0 {
			subs++
		}
	})
	t := &tracker{
		counts:    make([]atomic.Int32, spec.Msgs),
		signalled: make([]atomic.Bool, spec.Msgs),
		last:      make([]atomic.Int64, spec.Msgs),
		onDone:    onDone,
	}
	t.expected.Store(int32(subs))
	cl.fan.Store(t)
	return subs
}

// Collect stops counting and reports. Packets arriving later are counted as
// unexpected.
func (cl *Client) Collect() (FanoutReport, error) {
	t := cl.fan.Swap(nil)
	if t == nil {
		return FanoutReport{}, nil
	}
	rep := FanoutReport{
		Subscribers: int64(t.expected.Load()) + t.lost.Load(),
		Deliveries:  t.deliveries.Load(),
		Counts:      make([]int32, len(t.counts)),
		Last:        make([]int64, len(t.last)),
		OutOfOrder:  t.outOfOrder.Load(),
		OutOfRange:  t.outOfRange.Load(),
		Lost:        t.lost.Load(),
	}
	for i := range t.counts {
		rep.Counts[i] = t.counts[i].Load()
		rep.Last[i] = t.last[i].Load()
	}
	var err error
	rep.Delivery, err = t.lat.Hist().Snapshot()
	return rep, err
}

// deliver counts one packet of the fan-out.
func (t *tracker) deliver(cl *Client, p *peer, data []byte) {
	now := Now()
	seq, ok1 := proto.Int(data, "seq")
	sent, ok2 := proto.Int(data, "t")
	if !ok1 || !ok2 || seq < 0 || seq >= int64(len(t.counts)) {
		t.outOfRange.Add(1)
		cl.unexpected.Add(1)
		return
	}
	if prev := p.lastSeq.Swap(int32(seq)); int32(seq) <= prev {
		t.outOfOrder.Add(1)
		cl.outOfOrder.Add(1)
	}
	for {
		l := t.last[seq].Load()
		if now <= l || t.last[seq].CompareAndSwap(l, now) {
			break
		}
	}
	t.lat.Record(int(p.idx), time.Duration(now-sent))
	t.deliveries.Add(1)
	cl.deliveries.Add(1)
	if t.counts[seq].Add(1) >= t.expected.Load() {
		t.signal(int(seq))
	}
}

// signal reports message seq complete, once.
func (t *tracker) signal(seq int) {
	if t.onDone != nil && t.signalled[seq].CompareAndSwap(false, true) {
		t.onDone(seq)
	}
}

// lose accounts for a subscriber that closed after Arm: messages it will
// never get must not keep the run waiting for it. Their shortfall still
// shows: the report's subscriber count includes it.
func (t *tracker) lose() {
	t.lost.Add(1)
	e := t.expected.Add(-1)
	for seq := range t.counts {
		if c := t.counts[seq].Load(); c > 0 && c >= e {
			t.signal(seq)
		}
	}
}
