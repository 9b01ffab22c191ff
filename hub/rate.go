package hub

import (
	"math"

	"github.com/surge-ws/ws/frame"
)

// The inbound message rate limit (Config.MessageRate, Config.MessageBurst) is a token bucket per
// connection, worked out when a message arrives: no timer and no goroutine per connection, one int64
// of state per client and a few integer operations per message, on the time the hub reads for
// lastSeen anyway.
//
// The bucket is kept in the form of the generic cell rate algorithm: instead of a token count and the
// time of the last refill, the client holds tat, the time at which its bucket will be full again. Each
// message moves tat one interval (1/MessageRate) later; the bucket holds MessageBurst tokens, so a
// message is accepted while tat stays within burst = MessageBurst intervals of now. A refused message
// moves tat as well (the bucket goes into debt), up to a second burst; the message after that closes
// the connection.

// rateLimit is Config.MessageRate and MessageBurst in the units of the hub's clock (nanoseconds).
type rateLimit struct {
	interval int64 // nanoseconds per message, 1/MessageRate; 0: no limit
	burst    int64 // MessageBurst intervals
}

// maxBurst bounds MessageBurst so that two bursts of intervals always fit in an int64.
const maxBurst = 1 << 30

func newRateLimit(rate float64, burst int) rateLimit {
	if rate < 0 || math.IsInf(rate, 1) || math.IsNaN(rate) || rate == 0 {
		return rateLimit{}
	}
	b := int64(min(max(burst, 1), maxBurst))
	longest := int64(math.MaxInt64) / 4 / b // two bursts of them, and now, fit in an int64
	var iv int64
	switch f := 1e9 / rate; {
	case f >= float64(longest):
		iv = longest
	case f < 1:
		iv = 1 // a billion messages a second: no limit in practice
	default:
		iv = int64(f)
	}
	return rateLimit{interval: iv, burst: b * iv}
}

// rateVerdict is what the rate limit says about one message.
type rateVerdict uint8

const (
	rateAccept rateVerdict = iota // handle it
	rateRefuse                    // answer 429 "rate limit exceeded", do not handle it
	rateClose                     // close the connection with 1008 "rate limit exceeded"
)

// take charges one message arriving at now (the hub's clock, see Client.touch) to c's bucket. It runs
// on the transport's read path, which calls message sequentially per connection: c.tat needs no lock.
func (c *Client) take(now int64, r *rateLimit) rateVerdict {
	if r.interval == 0 {
		return rateAccept
	}
	t := max(c.tat, now) + r.interval
	switch ahead := t - now; {
	case ahead <= r.burst:
		c.tat = t
		return rateAccept
	case ahead <= 2*r.burst:
		c.tat = t
		return rateRefuse
	}
	return rateClose
}

// overLimit acts on a message the rate limit did not accept. A refused one is answered 429 without
// being handled: at once if the client has nothing else waiting, else after the messages before it
// (so that answers keep their order). payload is only read during the call.
func (h *Hub) overLimit(c *Client, v rateVerdict, payload []byte, receiveBuffer int) {
	if v == rateClose {
		c.closeWith(frame.ClosePolicyViolation, string(ReasonRateLimit))
		return
	}
	if c.inline(func() { h.refuse(c, payload) }) {
		return
	}
	if !c.enqueue(jobRefused, payload, receiveBuffer) {
		c.closeWith(frame.ClosePolicyViolation, string(ReasonReceiveFull))
	}
}

// refuse answers a message over the rate limit with 429 "rate limit exceeded": a response if its id
// can be read, else an "error" push. No middleware or handler runs.
func (h *Hub) refuse(c *Client, payload []byte) {
	h.ctr.refused.Add(c.hint(), 1)
	ctx := &Context{hub: h, client: c}
	_ = decodeMessage(payload, &ctx.msg) // the id and event read before an error are enough
	_ = h.answerError(ctx, CodeTooManyRequests, string(ReasonRateLimit))
}
