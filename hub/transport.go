package hub

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// The transport adapter (Hub.Serve, in serve.go) drives a connection through four entry points, in this
// order, and reads TransportConfig for the limits it enforces:
//
//	c, status, msg := h.admitting(a) // before the upgrade; on status != 0 answer it with msg, no upgrade
//	h.open(c, peer)                  // after the 101 is written; the connection is live
//	h.message(c, op, payload)        // for every complete data message, in order, from the read goroutine
//	h.closed(c, code, reason)        // once, when the connection is gone (also if open never happened)
//
// None of them blocks on the network or on user code: handlers run on the client's own worker
// goroutine (see mailbox.go).

// TransportConfig is what the transport enforces for each connection of a hub, defaults filled in.
type TransportConfig struct {
	MaxMessageSize int64         // larger messages: close 1009 "message too big"
	ReadTimeout    time.Duration // 0: no idle limit beyond ping/pong
	WriteTimeout   time.Duration // queued frames not written for this long: close
	PingInterval   time.Duration
	PongTimeout    time.Duration
	SendBuffer     int // send queue bound, in messages; a full queue closes with 1008 "send buffer full"
}

// TransportConfig returns the limits the transport enforces, read once per connection at upgrade.
func (h *Hub) TransportConfig() TransportConfig {
	c := h.config()
	return TransportConfig{
		MaxMessageSize: c.MaxMessageSize,
		ReadTimeout:    c.ReadTimeout,
		WriteTimeout:   c.WriteTimeout,
		PingInterval:   c.PingInterval,
		PongTimeout:    c.PongTimeout,
		SendBuffer:     c.SendBuffer,
	}
}

// admission is what admitting reads of an upgrade request. An Authenticator takes an *http.Request;
// one parsed by conn becomes one only for it (request), so that a hub without Auth spends no
// http.Request, URL and address text on a connection (some 450 bytes of garbage a connect).
type admission struct {
	origin, host, ip, userAgent string
	http                        *http.Request // the request, or nil until request makes it from conn
	conn                        *conn.Request
}

func (a *admission) request() *http.Request {
	if a.http == nil {
		a.http = a.conn.HTTPRequest()
	}
	return a.http
}

// admitting checks an upgrade request before the upgrade: the hub is not stopping (else 503), the
// Origin is allowed (else 403), and Config.Auth accepts it (else 401, or the Code of an *Error in
// 400-599). On success it returns the new client, not yet registered anywhere, with status 0. On
// refusal it returns a nil client, the HTTP status and a short text for the response body.
//
// admitting calls the Authenticator, which may block: call it from the connection's own goroutine,
// never from an event loop that serves other connections. Safe for concurrent use.
func (h *Hub) admitting(a *admission) (c *Client, status int, message string) {
	if h.stopping() {
		h.ctr.rejected[rejectShutdown].Add(1)
		return nil, http.StatusServiceUnavailable, string(ReasonShutdown)
	}
	cfg := h.config()
	if !originAllowed(a.origin, a.host, cfg.Origin) {
		h.ctr.rejected[rejectOrigin].Add(1)
		return nil, http.StatusForbidden, "origin not allowed"
	}
	var id Identity
	if cfg.Auth != nil {
		var err error
		if id, err = cfg.Auth(a.request()); err != nil {
			h.ctr.rejected[rejectAuth].Add(1)
			status, message = http.StatusUnauthorized, err.Error()
			var e *Error
			if errors.As(err, &e) {
				if e.Code >= 400 && e.Code <= 599 {
					status = e.Code
				}
				message = e.Message
			}
			return nil, status, message
		}
	}
	return newClient(h, id, a.ip, a.userAgent), 0, ""
}

// open makes c live on peer: it is registered (Send, Kick and Broadcast reach it), counted, and its
// presence is written (here for a BufferedPresence, else on its worker). Called once per admitted
// client, after the upgrade response is written and before the first message. Safe for concurrent
// use; does not block.
func (h *Hub) open(c *Client, p Peer) {
	c.peer = p
	if h.stopping() {
		_ = p.Close(frame.CloseGoingAway, string(ReasonShutdown))
		return
	}
	if !h.register(c) { // closed already
		return
	}
	c.enqueuePresence()
	if h.stopping() { // Stop began while c was being registered and may not have seen it
		c.closeWith(frame.CloseGoingAway, string(ReasonShutdown))
	}
}

// message hands one complete data message of c to its mailbox and returns at once; c's handlers run
// later on c's worker goroutine, in the order message was called. payload is only read during the call
// (it is copied). Called by the transport's read path, sequentially per connection; it never blocks.
// A message over MaxMessageSize closes c with 1009; a full mailbox closes c with 1008
// "receive buffer full". The rate limit (MessageRate, see rate.go) is charged before the message is
// decoded: a refused message is answered 429 and not handled, a flood closes c with 1008
// "rate limit exceeded". Control frames are not for the hub (op other than text or binary is ignored).
func (h *Hub) message(c *Client, op frame.OpCode, payload []byte) {
	if op != frame.OpText && op != frame.OpBinary {
		return
	}
	h.ctr.messagesIn.Add(c.hint(), 1)
	h.ctr.bytesIn.Add(c.hint(), uint64(frame.HeaderLen(int64(len(payload)), true)+len(payload)))
	now := c.touch()
	s := h.cfg.Load()
	cfg := &s.Config
	if int64(len(payload)) > cfg.MaxMessageSize {
		c.closeWith(frame.CloseMessageTooBig, string(ReasonTooBig))
		return
	}
	if v := c.take(now, &s.rate); v != rateAccept {
		h.overLimit(c, v, payload, cfg.ReceiveBuffer)
		return
	}
	if cfg.InlineHandlers && c.runInline(payload) {
		return
	}
	if !cfg.InlineHandlers && h.runBuiltinInline(c, payload) {
		return
	}
	if !c.enqueue(jobMessage, payload, cfg.ReceiveBuffer) {
		c.closeWith(frame.ClosePolicyViolation, string(ReasonReceiveFull))
	}
}

// closed tells the hub that c is gone, with the close code and reason of the close handshake
// (1006 and "" if the connection dropped). It unregisters c and removes it from every channel at once,
// cancels its context, and removes c from a BufferedPresence here or queues the removal on c's
// worker. The first call counts; later
// ones do nothing. It may be called without open (the upgrade failed) and from inside Peer.Close or
// Peer.WritePrepared. Safe for concurrent use; does not block.
//
// A close with 1008 and ReasonSendBufferFull counts in Stats.SlowClients.
func (h *Hub) closed(c *Client, code frame.CloseCode, reason string) {
	registered, channels, ok := c.shutdown()
	if !ok {
		return
	}
	h.countClose(code)
	if code == frame.ClosePolicyViolation {
		switch CloseReason(reason) {
		case ReasonSendBufferFull:
			h.ctr.slow.Add(1)
		case ReasonReceiveFull:
			h.ctr.limits[limitReceiveBuffer].Add(1)
		case ReasonRateLimit:
			h.ctr.limits[limitRateClose].Add(1)
		}
	}
	if !registered {
		return
	}
	for _, ch := range channels {
		h.unindex(ch, c)
	}
	h.unregister(c)
	c.enqueueGone()
}

// originAllowed applies Config.Origin to a request's Origin field and Host (see Config.Origin).
func originAllowed(origin, requestHost string, patterns []string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		// "null" (sandboxed pages, file://) or garbage: only an explicit pattern lets it in.
		o := strings.ToLower(origin)
		for _, p := range patterns {
			if p = normPattern(p); p == "*" || p == o {
				return true
			}
		}
		return false
	}
	host := strings.ToLower(u.Host)
	if len(patterns) == 0 {
		return host == strings.ToLower(requestHost)
	}
	full := strings.ToLower(u.Scheme) + "://" + host
	for _, p := range patterns {
		p = normPattern(p)
		target := host
		if strings.Contains(p, "://") {
			target = full
		}
		if p == "*" || p == target {
			return true
		}
		if ok, err := path.Match(p, target); ok && err == nil {
			return true
		}
	}
	return false
}

func normPattern(p string) string {
	return strings.TrimRight(strings.ToLower(strings.TrimSpace(p)), "/")
}

// remoteIP is the host part of a RemoteAddr.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// closeReason cuts a reason to the 123 bytes a close frame holds, on a UTF-8 boundary.
func closeReason(s string) string {
	if len(s) <= 123 {
		return s
	}
	s = s[:123]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
