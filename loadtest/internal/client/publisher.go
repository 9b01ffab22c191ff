package client

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/proto"
)

// Publisher is the connection that sends the fan-out's messages:
// {"id":"p<seq>","event":Event,"channel":Channel,"data":{"seq","t","text"}}.
// The id makes the hub answer each one, so a refused publish (no handler,
// a hook's veto) shows as an error instead of a silent shortfall.
type Publisher struct {
	cfg  Config
	d    conn.Dialer
	c    *conn.Conn
	acks atomic.Int64
	errs Tally
	fail atomic.Int64
	gone atomic.Bool
}

// DialPublisher opens the publisher's connection.
func DialPublisher(ctx context.Context, cfg Config) (*Publisher, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	p := &Publisher{cfg: cfg}
	p.d.Handler = conn.HandlerFuncs{Message: p.onMessage, Close: p.onClose}
	// A burst must never be cut short by our own queue bound.
	p.d.Config = conn.Config{HandshakeTimeout: cfg.Timeout, SendQueue: 1 << 20, SendQueueBytes: 1 << 30, CloseTimeout: cfg.Timeout}
	var src = (&Client{cfg: cfg}).source(0)
	c, _, err := p.d.DialFrom(ctx, cfg.URL, src)
	if err != nil {
		return nil, err
	}
	p.c = c
	return p, nil
}

// Publish sends message seq with pad bytes of filler and returns its send
// time (CLOCK_MONOTONIC ns).
func (p *Publisher) Publish(seq int64, pad int) (int64, error) {
	now := Now()
	return now, p.PublishStamped(seq, now, pad)
}

// PublishStamped sends message seq stamped with sent (CLOCK_MONOTONIC ns),
// so that several publishers can send one message with one send time.
func (p *Publisher) PublishStamped(seq, sent int64, pad int) error {
	var idb [24]byte
	id := strconv.AppendInt(append(idb[:0], 'p'), seq, 10)
	data := proto.AppendStamp(make([]byte, 0, 48+pad), seq, sent, pad)
	req := proto.AppendRequest(make([]byte, 0, len(data)+96), string(id), p.cfg.Event, p.cfg.Channel, data)
	return p.c.Write(frame.OpText, req)
}

func (p *Publisher) onMessage(_ *conn.Conn, _ frame.OpCode, payload []byte) {
	var m proto.Msg
	if proto.Scan(payload, &m) != nil || !m.Reply {
		return // pushes to the publisher (if it were subscribed) are not ours to count
	}
	p.acks.Add(1)
	if !m.OK {
		p.fail.Add(1)
		p.errs.Add("publish refused: " + replyError(&m))
	}
}

func (p *Publisher) onClose(_ *conn.Conn, code frame.CloseCode, reason string) {
	if !p.gone.Load() {
		p.errs.Add("publisher " + closeText(code, reason))
	}
	p.gone.Store(true)
}

// Acks returns the replies received and how many were errors.
func (p *Publisher) Acks() (acks, failed int64) { return p.acks.Load(), p.fail.Load() }

// Errors returns the publisher's errors by message.
func (p *Publisher) Errors() map[string]int64 { return p.errs.Snapshot() }

// Close closes the publisher's connection.
func (p *Publisher) Close() {
	if p.gone.Swap(true) {
		return
	}
	_ = p.c.Close(frame.CloseNormal, "load test done")
}
