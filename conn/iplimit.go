package conn

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/cloudwego/netpoll"
)

// IPLimits bound what one client address may open on a Server. The zero
// value sets no limit. They count by the TCP peer's address: behind a proxy
// or load balancer every client has the proxy's address, so set them there
// instead (or not at all).
//
// A connection over a limit is answered at once, before its request is read
// or any hook runs: "429 Too Many Requests" with "Retry-After: 1" and a body
// that names the limit, then the socket is closed.
type IPLimits struct {
	// MaxConns bounds the connections from one address that are in their
	// handshake or open. 0: no limit.
	MaxConns int
	// HandshakeRate bounds new connections per second from one address, a
	// token bucket refilled at this rate (no timer: it is brought up to date
	// when the address connects). 0: no limit.
	HandshakeRate float64
	// HandshakeBurst is the bucket's size: how many connections an address
	// may open at once after a quiet spell. Default max(1, HandshakeRate).
	HandshakeBurst int
}

func (l IPLimits) on() bool { return l.MaxConns > 0 || l.HandshakeRate > 0 }

// Bodies of the 429 answers.
const (
	tooManyConns      = "too many connections from your address"
	tooManyHandshakes = "too many new connections from your address per second"
)

// ipTable counts connections and handshake tokens per address, for one
// Server. Safe for concurrent use; one lock, taken once per accept and once
// per close of a counted connection.
type ipTable struct {
	mu        sync.Mutex
	m         map[netip.Addr]*ipEntry
	lastSweep time.Time
}

type ipEntry struct {
	conns  int
	tokens float64
	at     time.Time // when tokens was brought up to date
}

// admit counts a new connection from ip, or returns why it may not open.
func (t *ipTable) admit(ip netip.Addr, l IPLimits, now time.Time) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[netip.Addr]*ipEntry{}
		t.lastSweep = now
	}
	if now.Sub(t.lastSweep) > time.Minute {
		t.sweepLocked(l, now)
	}
	e := t.m[ip]
	if e == nil {
		e = &ipEntry{tokens: burst(l), at: now}
		t.m[ip] = e
	}
	if l.MaxConns > 0 && e.conns >= l.MaxConns {
		return tooManyConns
	}
	if l.HandshakeRate > 0 {
		e.tokens = min(burst(l), e.tokens+now.Sub(e.at).Seconds()*l.HandshakeRate)
		e.at = now
		if e.tokens < 1 {
			return tooManyHandshakes
		}
		e.tokens--
	}
	e.conns++
	return ""
}

// release uncounts a connection admit counted.
func (t *ipTable) release(ip netip.Addr) {
	t.mu.Lock()
	if e := t.m[ip]; e != nil {
		e.conns--
	}
	t.mu.Unlock()
}

// sweepLocked forgets addresses with no connection whose bucket has refilled:
// they are as if never seen. So the table holds the addresses with
// connections plus those seen in the last few seconds, whatever their number.
func (t *ipTable) sweepLocked(l IPLimits, now time.Time) {
	t.lastSweep = now
	for ip, e := range t.m {
		if e.conns == 0 && (l.HandshakeRate <= 0 || e.tokens+now.Sub(e.at).Seconds()*l.HandshakeRate >= burst(l)) {
			delete(t.m, ip)
		}
	}
}

func burst(l IPLimits) float64 {
	if l.HandshakeBurst > 0 {
		return float64(l.HandshakeBurst)
	}
	return max(1, l.HandshakeRate)
}

// addrIP returns the IP of a TCP address: net's, or netpoll's (which embeds
// net's); the zero Addr for anything else.
func addrIP(a net.Addr) netip.Addr {
	switch ta := a.(type) {
	case *net.TCPAddr:
		return ta.AddrPort().Addr().Unmap()
	case *netpoll.TCPAddr:
		return ta.AddrPort().Addr().Unmap()
	case nil:
		return netip.Addr{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap.Addr().Unmap()
}

// retryAfter is the header of a 429 answer.
var retryAfter = http.Header{"Retry-After": {"1"}}
