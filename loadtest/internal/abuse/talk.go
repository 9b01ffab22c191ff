package abuse

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/proto"
)

// batchBytes is how much a flood writes per system call.
const batchBytes = 64 << 10

// pump writes n frames made by gen, batched; it stops at the first write
// error (counted in got) and returns how many frames were written.
func (e *env) pump(c *wsConn, n int, gen func(dst []byte, i int) []byte) int {
	var buf []byte
	sent := 0
	for i := range n {
		buf = gen(buf, i)
		if len(buf) >= batchBytes || i == n-1 {
			if err := c.write(buf, e.o.Timeout); err != nil {
				e.got.Add("our write failed: " + endReason(err))
				break
			}
			sent = i + 1
			buf = buf[:0]
		}
	}
	e.sent.Add(int64(sent))
	return sent
}

// text appends one masked text frame holding the request.
func text(dst []byte, id, event, channel string, data []byte) []byte {
	var tmp [256]byte
	return appendMasked(dst, frame.OpText, proto.AppendRequest(tmp[:0], id, event, channel, data))
}

func id(prefix string, i int) string { return prefix + strconv.Itoa(i) }

// reader counts what the server sends on one connection while the case
// writes to it: every frame goes into got until quiet is set (from then on,
// e.g. once the case resets or closes the connection itself, nothing is
// counted). It ends at a close frame or when the connection ends.
type reader struct {
	done    chan struct{}
	answers atomic.Int64
	ended   atomic.Bool
	quiet   atomic.Bool
}

// isReply counts replies (ok or not) and error pushes as answers.
func isReply(kind string) bool {
	return strings.HasPrefix(kind, "reply ") || strings.HasPrefix(kind, "error push ")
}

func (e *env) startReader(c *wsConn, isAnswer func(kind string) bool) *reader {
	r := &reader{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer r.ended.Store(true)
		for {
			f, err := c.next(time.Time{})
			if err != nil {
				if !r.quiet.Load() {
					e.got.Add(endReason(err))
				}
				return
			}
			if r.quiet.Load() {
				if f.Op == frame.OpClose {
					return
				}
				continue
			}
			kind := classify(f)
			e.got.Add(kind)
			if isAnswer != nil && isAnswer(kind) {
				r.answers.Add(1)
			}
			if f.Op == frame.OpClose {
				return
			}
		}
	}()
	return r
}

// wait waits until n answers came, the connection ended or deadline passed.
func (r *reader) wait(ctx context.Context, n int64, deadline time.Time) bool {
	for r.answers.Load() < n && !r.ended.Load() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return r.answers.Load() >= n
}

// goodbye ends a connection that has a reader: a close frame, then up to
// the timeout for the server's close frame, then the socket is closed.
// Nothing from here on is counted: the goodbye is ours, not the offence.
func (e *env) goodbye(c *wsConn, r *reader) {
	r.quiet.Store(true)
	if !r.ended.Load() {
		_ = c.send(frame.OpClose, frame.AppendClose(nil, frame.CloseNormal, ""), e.o.Timeout)
		select {
		case <-r.done:
		case <-time.After(e.o.Timeout):
			e.got.Add("no close frame back within the timeout")
		}
	}
	_ = c.nc.Close()
	<-r.done
}

// vanish resets a connection that has a reader.
func vanish(c *wsConn, r *reader) {
	r.quiet.Store(true)
	c.reset()
	<-r.done
}

// roundTrip sends one request and reads until its reply (counted), the end
// of the connection or the timeout.
func (e *env) roundTrip(c *wsConn, reqID, event, channel string, data []byte) bool {
	if err := c.write(text(nil, reqID, event, channel, data), e.o.Timeout); err != nil {
		e.got.Add("our write failed: " + endReason(err))
		return false
	}
	deadline := time.Now().Add(e.o.Timeout)
	for {
		f, err := c.next(deadline)
		if err != nil {
			e.got.Add(endReason(err))
			return false
		}
		kind := classify(f)
		if f.Op == frame.OpText {
			var m proto.Msg
			if proto.Scan(f.Payload, &m) == nil && m.Reply && string(m.ID) == reqID {
				e.got.Add(kind)
				return m.OK
			}
			continue // a push meanwhile
		}
		e.got.Add(kind)
		if f.Op == frame.OpClose {
			return false
		}
	}
}

// windowed writes n frames made by gen with at most window of them
// unanswered (answers counted by r), as a client that pipelines but
// reads its replies would; it stops when the connection ends, an answer
// takes longer than the timeout, or ctx is done. It returns how many
// frames were written.
func (e *env) windowed(ctx context.Context, c *wsConn, r *reader, n, window int, gen func(dst []byte, i int) []byte) int {
	sent := 0
	deadline := time.Now().Add(e.o.Timeout)
	for sent < n && !r.ended.Load() && ctx.Err() == nil {
		k := min(window-(sent-int(r.answers.Load())), n-sent)
		if k <= 0 {
			if time.Now().After(deadline) {
				e.got.Add("unanswered at the deadline")
				break
			}
			time.Sleep(time.Millisecond)
			continue
		}
		base := sent
		w := e.pump(c, k, func(dst []byte, i int) []byte { return gen(dst, base+i) })
		sent += w
		if w < k {
			break
		}
		deadline = time.Now().Add(e.o.Timeout)
	}
	return sent
}
