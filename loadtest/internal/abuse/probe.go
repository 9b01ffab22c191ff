package abuse

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/hist"
	"github.com/surge-ws/ws/loadtest/internal/proto"
)

// The probe is the well-behaved client beside every hostile case. Every
// interval it asks the server something, alternating a ping frame (answered
// by the transport with a pong) and an "echo" event with an id (answered by
// a hub handler), and records each round trip. What matters is not the
// speed but that answers keep coming: the longest wait for an answer,
// including questions still unanswered when the probe stops, is the figure
// a frozen server cannot hide from.

// maxPending stops the probe from asking more while this many questions are
// unanswered (a frozen server), so its memory stays bounded.
const maxPending = 4096

type probe struct {
	c     *wsConn
	every time.Duration

	mu       sync.Mutex
	pending  map[uint64]time.Time // question -> when it left
	h        *hist.Hist
	sent     int64
	answered int64
	maxRTT   time.Duration
	ended    string // how the server ended the probe's connection, if it did

	stop chan struct{}
	done sync.WaitGroup
}

// probeResult is what the probe saw between two marks.
type probeResult struct {
	h        *hist.Hist
	sent     int64
	answered int64
	// stall is the longest wait for an answer: the slowest answered round
	// trip or the age of the oldest question still unanswered, whichever is
	// longer.
	stall      time.Duration
	unanswered int64
	ended      string
}

// startProbe connects and starts asking. Its connection is from src (the
// probe's own address, never an offender's, so per-address limits that hit
// the offenders do not hit it).
func startProbe(ctx context.Context, t target, src dialOpts, every, timeout time.Duration) (*probe, error) {
	c, err := dialWS(ctx, t, src, timeout)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	p := &probe{c: c, every: every, pending: map[uint64]time.Time{}, h: hist.New(), stop: make(chan struct{})}
	p.done.Add(2)
	go p.ask()
	go p.listen()
	return p, nil
}

func (p *probe) ask() {
	defer p.done.Done()
	t := time.NewTicker(p.every)
	defer t.Stop()
	var seq uint64
	var buf []byte
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		full := len(p.pending) >= maxPending || p.ended != ""
		if !full {
			seq++
			p.pending[seq] = time.Now()
			p.sent++
		}
		p.mu.Unlock()
		if full {
			continue
		}
		if seq%2 == 1 {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], seq)
			buf = appendMasked(buf[:0], frame.OpPing, b[:])
		} else {
			req := proto.AppendRequest(nil, "p"+strconv.FormatUint(seq, 10), "echo", "", strconv.AppendUint(nil, seq, 10))
			buf = appendMasked(buf[:0], frame.OpText, req)
		}
		// A write that does not finish in a second is a stall the pending
		// question will show; the probe keeps its own schedule.
		_ = p.c.write(buf, time.Second)
	}
}

func (p *probe) listen() {
	defer p.done.Done()
	for {
		f, err := p.c.next(time.Time{})
		if err != nil {
			p.end(endReason(err))
			return
		}
		var seq uint64
		switch f.Op {
		case frame.OpPong:
			if len(f.Payload) == 8 {
				seq = binary.BigEndian.Uint64(f.Payload)
			}
		case frame.OpPing:
			_ = p.c.write(appendMasked(nil, frame.OpPong, f.Payload), time.Second)
		case frame.OpText:
			var m proto.Msg
			if proto.Scan(f.Payload, &m) == nil && m.Reply && len(m.ID) > 1 && m.ID[0] == 'p' {
				seq, _ = strconv.ParseUint(string(m.ID[1:]), 10, 64)
			}
		case frame.OpClose:
			p.end(classify(f))
			return
		}
		if seq == 0 {
			continue
		}
		now := time.Now()
		p.mu.Lock()
		if at, ok := p.pending[seq]; ok {
			delete(p.pending, seq)
			rtt := now.Sub(at)
			p.h.Record(rtt)
			p.answered++
			p.maxRTT = max(p.maxRTT, rtt)
		}
		p.mu.Unlock()
	}
}

func (p *probe) end(how string) {
	p.mu.Lock()
	if p.ended == "" {
		p.ended = how
	}
	p.mu.Unlock()
}

// mark starts a new measurement: what was recorded so far (the warm-up) is
// forgotten; questions still pending stay pending.
func (p *probe) mark() {
	p.mu.Lock()
	p.h.Reset()
	p.sent, p.answered, p.maxRTT = 0, 0, 0
	p.mu.Unlock()
}

// snapshot returns what the probe saw since the last mark.
func (p *probe) snapshot() probeResult {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	r := probeResult{h: hist.New(), sent: p.sent, answered: p.answered, stall: p.maxRTT, ended: p.ended}
	r.h.Merge(p.h)
	for _, at := range p.pending {
		r.unanswered++
		r.stall = max(r.stall, now.Sub(at))
	}
	return r
}

// close stops asking, waits up to grace for the last answers, closes the
// connection and returns what was seen since the last mark.
func (p *probe) close(grace time.Duration) probeResult {
	close(p.stop)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		n, ended := len(p.pending), p.ended
		p.mu.Unlock()
		if n == 0 || ended != "" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := p.snapshot()
	_ = p.c.nc.Close()
	p.done.Wait()
	return r
}
