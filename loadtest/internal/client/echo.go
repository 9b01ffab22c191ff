package client

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/hist"
	"github.com/surge-ws/ws/loadtest/internal/proto"
)

// EchoSpec runs request/reply loops: every open connection sends PerConn
// requests {"id":"e<n>","event":EchoEvent,"data":{...}} one after another,
// each as soon as the previous reply arrived (a closed loop, so the rate is
// what the server sustains).
type EchoSpec struct {
	PerConn int `json:"per_conn"`
	// Size pads each request's data with that many bytes.
	Size int `json:"size"`
	// Duration stops sending new requests after that long (0: no limit but
	// PerConn; the step still ends Timeout after the last request).
	Duration time.Duration `json:"duration"`
}

// EchoReport says what an Echo step did.
type EchoReport struct {
	Conns      int64         `json:"conns"`
	Sent       int64         `json:"sent"`
	RoundTrips int64         `json:"round_trips"`
	Errors     int64         `json:"errors"`     // replies with ok=false
	Mismatched int64         `json:"mismatched"` // replies whose id was not the one outstanding
	Unfinished int64         `json:"unfinished"` // connections still waiting when the step ended
	Elapsed    time.Duration `json:"elapsed"`
	Latency    hist.Snapshot `json:"latency"`
}

type echoRun struct {
	perConn  int32
	size     int
	event    string
	deadline int64
	pending  atomic.Int64
	done     chan struct{}
	sent     atomic.Int64
	rtts     atomic.Int64
	errors   atomic.Int64
	mismatch atomic.Int64
	lat      hist.Recorder
}

// Echo runs one echo step on every open connection.
func (cl *Client) Echo(ctx context.Context, spec EchoSpec) (EchoReport, error) {
	r := &echoRun{perConn: int32(spec.PerConn), size: spec.Size, event: cl.cfg.EchoEvent, done: make(chan struct{})}
	r.deadline = 1<<63 - 1
	if spec.Duration > 0 {
		r.deadline = Now() + int64(spec.Duration)
	}
	var peers []*peer
	cl.eachPeer(func(p *peer) {
		if p.c != nil && p.flags.Load()&(fClosed|fClosing) == 0 && spec.PerConn > 0 {
			peers = append(peers, p)
		}
	})
	rep := EchoReport{Conns: int64(len(peers))}
	if len(peers) == 0 {
		return rep, nil
	}
	r.pending.Store(int64(len(peers)))
	cl.echo.Store(r)
	start := time.Now()
	for _, p := range peers {
		p.left.Store(r.perConn)
		p.set(fEchoing)
	}
	for _, p := range peers {
		r.send(cl, p)
	}
	limit := cl.cfg.Timeout
	if spec.Duration > 0 {
		limit += spec.Duration
	} else {
		limit += time.Duration(spec.PerConn) * cl.cfg.Timeout
	}
	t := time.NewTimer(limit)
	select {
	case <-r.done:
	case <-ctx.Done():
	case <-t.C:
	}
	t.Stop()
	rep.Elapsed = time.Since(start)
	cl.echo.Store(nil)
	rep.Unfinished = r.pending.Load()
	for _, p := range peers {
		p.flags.And(^fEchoing)
	}
	rep.Sent, rep.RoundTrips = r.sent.Load(), r.rtts.Load()
	rep.Errors, rep.Mismatched = r.errors.Load(), r.mismatch.Load()
	var err error
	rep.Latency, err = r.lat.Hist().Snapshot()
	if err == nil {
		err = ctx.Err()
	}
	return rep, err
}

// send writes p's next request, or finishes p when it has none left.
func (r *echoRun) send(cl *Client, p *peer) {
	left := p.left.Add(-1)
	if left < 0 || Now() >= r.deadline {
		r.finish(p)
		return
	}
	n := r.perConn - left - 1
	var buf [256]byte
	id := strconv.AppendInt(append(buf[:0:64], idEchoPfx), int64(n), 10)
	now := Now()
	data := proto.AppendStamp(buf[64:64], int64(n), now, r.size)
	var out [512]byte
	req := proto.AppendRequest(out[:0], string(id), r.event, "", data)
	p.sentAt.Store(now)
	r.sent.Add(1)
	if err := p.c.Write(opText, req); err != nil {
		cl.errs.Add("echo write: " + err.Error())
		r.finish(p)
	}
}

// reply handles the answer to p's outstanding request.
func (r *echoRun) reply(cl *Client, p *peer, m *proto.Msg) {
	if p.flags.Load()&fEchoing == 0 {
		cl.unexpected.Add(1)
		return
	}
	now := Now()
	want := int64(r.perConn - p.left.Load() - 1)
	if got, err := strconv.ParseInt(string(m.ID[1:]), 10, 64); err != nil || got != want {
		r.mismatch.Add(1)
	}
	r.lat.Record(int(p.idx), time.Duration(now-p.sentAt.Load()))
	r.rtts.Add(1)
	cl.roundTrips.Add(1)
	if !m.OK {
		r.errors.Add(1)
		cl.replyErrors.Add(1)
		cl.errs.Add("echo refused: " + replyError(m))
	}
	r.send(cl, p)
}

// finish marks p done, once.
func (r *echoRun) finish(p *peer) {
	if p.flags.And(^fEchoing)&fEchoing != 0 && r.pending.Add(-1) == 0 {
		close(r.done)
	}
}
