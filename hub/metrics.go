package hub

import (
	"sync/atomic"
	"unsafe"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/internal/counter"
)

// counters are what Stats and Metrics report. Whatever is counted per
// message is sharded by the client (internal/counter), so clients served on
// different CPUs do not add to one cache line; what is counted per
// connection or per publish uses plain atomics.
type counters struct {
	messagesIn, bytesIn   counter.Counter
	messagesOut, bytesOut counter.Counter
	dropped               counter.Counter
	replies               [len(replyCodes) + 1]counter.Counter // by replyCodes index; the last: any other code
	refused               counter.Counter                      // messages over the rate limit (429)

	slow      atomic.Uint64
	closes    [len(closeCodes) + 1]atomic.Uint64 // by closeCodes index; the last: any other code
	rejected  [len(rejectReasons)]atomic.Uint64
	limits    [len(limitNames)]atomic.Uint64
	published atomic.Uint64 // packets handed to the Broker
	pubErrors atomic.Uint64 // Broker publishes that failed
	received  atomic.Uint64 // packets from other nodes delivered here
}

// Status codes of replies and error pushes that Metrics counts apart.
var replyCodes = [...]int{200, CodeBadRequest, CodeUnauthorized, CodeForbidden, CodeNotFound, CodeTooManyRequests, CodeInternal}

// Close codes that Metrics counts apart.
var closeCodes = [...]frame.CloseCode{
	frame.CloseNormal, frame.CloseGoingAway, frame.CloseProtocolError, frame.CloseUnsupportedData,
	frame.CloseAbnormal, frame.CloseInvalidPayload, frame.ClosePolicyViolation, frame.CloseMessageTooBig,
	frame.CloseInternalError, CloseKicked,
}

// Handshake refusals by reason (admitting).
const (
	rejectShutdown = iota
	rejectOrigin
	rejectAuth
)

var rejectReasons = [...]string{rejectShutdown: "shutdown", rejectOrigin: "origin", rejectAuth: "auth"}

// Limit hits by limit.
const (
	limitRate = iota
	limitRateClose
	limitChannels
	limitChannelLength
	limitReceiveBuffer
	limitSendBuffer
)

var limitNames = [...]string{
	limitRate: "message_rate", limitRateClose: "message_rate_close", limitChannels: "max_channels_per_client",
	limitChannelLength: "max_channel_length", limitReceiveBuffer: "receive_buffer", limitSendBuffer: "send_buffer",
}

// hint is the shard hint of a client: its address.
func (c *Client) hint() uintptr { return uintptr(unsafe.Pointer(c)) }

func (h *Hub) countReply(c *Client, code int) {
	if code == 0 {
		code = 200
	}
	i := len(replyCodes)
	for j, rc := range replyCodes {
		if rc == code {
			i = j
			break
		}
	}
	h.ctr.replies[i].Add(c.hint(), 1)
}

func (h *Hub) countClose(code frame.CloseCode) {
	i := len(closeCodes)
	for j, cc := range closeCodes {
		if cc == code {
			i = j
			break
		}
	}
	h.ctr.closes[i].Add(1)
}

// Metrics are the hub's counters by kind, for monitoring (the provider's
// /metrics). Counters only grow; maps are keyed as documented on each field.
type Metrics struct {
	Stats
	// Replies counts responses and error pushes by status code (200: ok);
	// 0 holds the codes not listed apart (400, 401, 403, 404, 429, 500).
	Replies map[int]uint64
	// Closes counts closed connections by close code; 0 holds codes not
	// listed apart (1000-1003, 1006-1011, 4000).
	Closes map[int]uint64
	// Rejected counts upgrades the hub refused, by reason: shutdown (503),
	// origin (403), auth (401 or the Authenticator's code).
	Rejected map[string]uint64
	// Limits counts limit hits by the Config field's toml name:
	// message_rate (a message answered 429), message_rate_close,
	// max_channels_per_client, max_channel_length, receive_buffer and
	// send_buffer (a connection closed with 1008).
	Limits map[string]uint64
	// BrokerPublished, BrokerErrors and BrokerReceived count packets handed
	// to the Broker, publishes it failed, and packets from other nodes
	// delivered here.
	BrokerPublished, BrokerErrors, BrokerReceived uint64
}

// Metrics returns the hub's counters. Safe for concurrent use; it sums
// sharded counters, so call it per scrape, not per message.
func (h *Hub) Metrics() Metrics {
	m := Metrics{
		Stats:           h.Stats(),
		Replies:         map[int]uint64{},
		Closes:          map[int]uint64{},
		Rejected:        map[string]uint64{},
		Limits:          map[string]uint64{},
		BrokerPublished: h.ctr.published.Load(),
		BrokerErrors:    h.ctr.pubErrors.Load(),
		BrokerReceived:  h.ctr.received.Load(),
	}
	for i := range h.ctr.replies {
		code := 0
		if i < len(replyCodes) {
			code = replyCodes[i]
		}
		m.Replies[code] = h.ctr.replies[i].Load()
	}
	for i := range h.ctr.closes {
		code := 0
		if i < len(closeCodes) {
			code = int(closeCodes[i])
		}
		m.Closes[code] = h.ctr.closes[i].Load()
	}
	for i, name := range rejectReasons {
		m.Rejected[name] = h.ctr.rejected[i].Load()
	}
	for i, name := range limitNames {
		m.Limits[name] = h.ctr.limits[i].Load()
	}
	m.Limits[limitNames[limitRate]] = h.ctr.refused.Load()
	m.Limits[limitNames[limitSendBuffer]] = h.ctr.slow.Load()
	return m
}
