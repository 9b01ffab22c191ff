package client

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/hist"
)

// ReconnectSpec makes some of the open connections leave and come back, as
// clients whose network dropped do: each picked connection is closed (a
// clean close handshake), and once it is closed the same client dials again
// from the same source address to the same server, and subscribes again when
// Subscribe is set. A connection is picked when its global index i has
// (i/Group)%Every == 0: with Group the number of servers (connection i goes
// to server i%Group), that is one connection in Every of each server's.
type ReconnectSpec struct {
	Every       int  `json:"every"`
	Group       int  `json:"group"`
	Subscribe   bool `json:"subscribe"`
	Concurrency int  `json:"concurrency"` // default 64
}

// ReconnectReport says what a Reconnect step did.
type ReconnectReport struct {
	Picked     int64         `json:"picked"`
	Closed     int64         `json:"closed"` // close handshakes finished in time
	Reopened   int64         `json:"reopened"`
	Subscribed int64         `json:"subscribed"`
	Failed     int64         `json:"failed"` // not open and subscribed again at the end
	Elapsed    time.Duration `json:"elapsed"`
	// Cycle is the time from the close until the subscribe reply of the new
	// connection; Handshake the new connection's dial and upgrade.
	Cycle     hist.Snapshot `json:"cycle"`
	Handshake hist.Snapshot `json:"handshake"`
}

// Reconnect runs spec over the connections opened so far and returns when
// every picked one is back (or failed, or ctx is done).
func (cl *Client) Reconnect(ctx context.Context, spec ReconnectSpec) (ReconnectReport, error) {
	var rep ReconnectReport
	every, group := max(spec.Every, 1), max(spec.Group, 1)
	var picked []*peer
	cl.eachPeer(func(p *peer) {
		if p.c != nil && p.flags.Load()&(fClosed|fClosing) == 0 && (int(p.idx)/group)%every == 0 {
			picked = append(picked, p)
		}
	})
	rep.Picked = int64(len(picked))
	conc := spec.Concurrency
	if conc <= 0 {
		conc = 64
	}
	cl.handshake.Reset()
	var lat hist.Recorder
	var closed, reopened, subscribed atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(conc, len(picked)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(picked) || ctx.Err() != nil {
					return
				}
				p := picked[i]
				t0 := time.Now()
				c, o, s := cl.reconnectOne(ctx, p, spec.Subscribe)
				if c {
					closed.Add(1)
				}
				if o {
					reopened.Add(1)
				}
				if s {
					subscribed.Add(1)
				}
				if o && (s || !spec.Subscribe) {
					lat.Record(int(p.idx), time.Since(t0))
				}
			}
		}()
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	rep.Closed, rep.Reopened, rep.Subscribed = closed.Load(), reopened.Load(), subscribed.Load()
	if spec.Subscribe {
		rep.Failed = rep.Picked - rep.Subscribed
	} else {
		rep.Failed = rep.Picked - rep.Reopened
	}
	var err error
	if rep.Cycle, err = lat.Hist().Snapshot(); err != nil {
		return rep, err
	}
	if rep.Handshake, err = cl.handshake.Hist().Snapshot(); err != nil {
		return rep, err
	}
	return rep, ctx.Err()
}

// reconnectOne closes p's connection, waits for the close, dials again into
// the same peer and waits for the subscribe reply.
func (cl *Client) reconnectOne(ctx context.Context, p *peer, subscribe bool) (closed, reopened, subscribed bool) {
	cy := &cycle{sub: make(chan bool, 1), closeC: make(chan struct{})}
	p.cycle.Store(cy)
	if p.set(fClosing)&fClosed != 0 {
		return false, false, false // closed meanwhile by the other side
	}
	_ = p.c.Close(frame.CloseNormal, "reconnect")
	t := time.NewTimer(cl.cfg.Timeout)
	defer t.Stop()
	select {
	case <-cy.closeC:
		closed = true
	case <-t.C:
		cl.errs.Add("reconnect: close handshake not finished in time")
		return false, false, false
	case <-ctx.Done():
		return false, false, false
	}
	// The old connection's callbacks are over (OnClose ran to its end):
	// the peer is free for the new one.
	cy = &cycle{sub: make(chan bool, 1), closeC: make(chan struct{})}
	p.cycle.Store(cy)
	p.c = nil
	p.flags.Store(0)
	p.lastSeq.Store(-1)
	if !cl.dialOne(ctx, p, subscribe) {
		return closed, false, false
	}
	if !subscribe {
		return closed, true, false
	}
	t.Reset(cl.cfg.Timeout)
	select {
	case ok := <-cy.sub:
		return closed, true, ok
	case <-cy.closeC:
	case <-t.C:
		cl.errs.Add("reconnect: subscribe reply not received in time")
	case <-ctx.Done():
	}
	return closed, true, false
}
