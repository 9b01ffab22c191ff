package client

import (
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/hist"
	"github.com/surge-ws/ws/loadtest/internal/procstat"
	"github.com/surge-ws/ws/loadtest/internal/proto"
)

// ConnectSpec asks for connections [First, First+N) of the whole run; the
// global index picks the source address, so workers never share a port range.
type ConnectSpec struct {
	First int `json:"first"`
	N     int `json:"n"`
	// Subscribe sends {"id":"s","event":"subscribe","channel":...} on each
	// connection and waits for the replies.
	Subscribe bool `json:"subscribe"`
	// Concurrency bounds dials in flight: each is a goroutine only until
	// its handshake is done. Default 64.
	Concurrency int `json:"concurrency"`
	// Rate caps new connections per second (0: as fast as they complete).
	Rate float64 `json:"rate"`
}

// ConnectReport says what a Connect step did.
type ConnectReport struct {
	Opened     int64         `json:"opened"`
	Failed     int64         `json:"failed"`
	Subscribed int64         `json:"subscribed"`
	SubFailed  int64         `json:"sub_failed"`
	Elapsed    time.Duration `json:"elapsed"`
	Handshake  hist.Snapshot `json:"handshake"`
	// RSSBefore and RSSAfter are this process's resident memory around the
	// step, each after a forced GC so that dialing garbage is not counted.
	RSSBefore int64 `json:"rss_before"`
	RSSAfter  int64 `json:"rss_after"`
}

// Connect opens spec.N connections, subscribing each when asked, and returns
// when every one is open and answered, failed, or ctx is done.
func (cl *Client) Connect(ctx context.Context, spec ConnectSpec) (ConnectReport, error) {
	rep := ConnectReport{RSSBefore: settledRSS()}
	if spec.N <= 0 {
		rep.RSSAfter = rep.RSSBefore
		return rep, nil
	}
	conc := spec.Concurrency
	if conc <= 0 {
		conc = 64
	}
	slab := make([]peer, spec.N)
	cl.mu.Lock()
	cl.peers = append(cl.peers, slab)
	cl.mu.Unlock()

	before := cl.Counters()
	cl.handshake.Reset()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, spec.N) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= spec.N || ctx.Err() != nil {
					return
				}
				if spec.Rate > 0 {
					at := start.Add(time.Duration(float64(i) / spec.Rate * float64(time.Second)))
					if !sleepUntil(ctx, at) {
						return
					}
				}
				p := &slab[i]
				p.idx = int32(spec.First + i)
				cl.dialOne(ctx, p, spec.Subscribe)
			}
		}()
	}
	wg.Wait()
	if spec.Subscribe {
		// Replies to the last subscribes may still be on their way.
		waitFor(ctx, cl.cfg.Timeout, func() bool { return cl.subPending.Load() == 0 })
	}
	after := cl.Counters()
	rep.Elapsed = time.Since(start)
	rep.Opened = after.Opened - before.Opened
	rep.Failed = int64(spec.N) - rep.Opened
	rep.Subscribed = after.Subscribed - before.Subscribed
	rep.SubFailed = after.SubFailed - before.SubFailed
	if pending := cl.subPending.Load(); pending > 0 {
		cl.errs.Add("subscribe reply not received in time")
	}
	var err error
	if rep.Handshake, err = cl.handshake.Hist().Snapshot(); err != nil {
		return rep, err
	}
	rep.RSSAfter = settledRSS()
	return rep, ctx.Err()
}

// dialOne opens one connection for p and sends its subscribe.
func (cl *Client) dialOne(ctx context.Context, p *peer, subscribe bool) bool {
	t0 := time.Now()
	c, _, err := cl.d.DialFrom(ctx, cl.urlFor(int(p.idx)), cl.source(int(p.idx)))
	if err != nil {
		cl.failed.Add(1)
		cl.errs.Add("dial: " + trimErr(err))
		return false
	}
	cl.handshake.Record(int(p.idx), time.Since(t0))
	p.c = c
	c.SetValue(p)
	cl.opened.Add(1)
	cl.open.Add(1)
	if subscribe {
		p.set(fSubPending)
		cl.subPending.Add(1)
		var buf [128]byte
		req := proto.AppendRequest(buf[:0], idSubscribe, "subscribe", cl.cfg.Channel, nil)
		if err := c.Write(opText, req); err != nil {
			if p.flags.And(^fSubPending)&fSubPending != 0 {
				cl.subPending.Add(-1)
				cl.subFailed.Add(1)
			}
			cl.errs.Add("subscribe write: " + err.Error())
		}
	}
	return true
}

// settledRSS returns this process's RSS after a GC has returned garbage to
// the OS, so that two readings differ by live memory only.
func settledRSS() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	s, err := procstat.Read(0)
	if err != nil {
		return 0
	}
	return s.RSS
}

// waitFor polls cond until it holds, ctx is done or limit passes. Polling
// keeps the callbacks free of any signalling cost.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
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

// trimErr keeps error messages groupable: dial errors carry the source and
// destination ports, which would make every one distinct.
func trimErr(err error) string {
	s := err.Error()
	for _, cut := range []string{"connect: ", "bind: ", "read: ", "write: "} {
		if i := strings.LastIndex(s, cut); i >= 0 {
			return s[i:]
		}
	}
	return s
}
