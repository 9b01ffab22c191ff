package hub

import (
	"context"
	"net"
	"testing"

	"github.com/cloudwego/netpoll"
	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// A hub without an Authenticator admits a connection without turning conn's
// parsed request into an *http.Request (its URL, its address text): about
// 450 bytes of garbage a connect, at a million connections a good share of
// the collector's work in a ramp.
func TestServeWithoutAuthAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector counts allocations of its own; make test runs this without -race")
	}
	raw := "GET /ws?room=a HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: test\r\n\r\n"
	fr, _, err := frame.ParseRequest([]byte(raw), 8<<10)
	if err != nil {
		t.Fatal(err)
	}
	// The address type conn.Server hands the hook (netpoll's).
	r := &conn.Request{Request: fr, RemoteAddr: &netpoll.TCPAddr{TCPAddr: net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 4000}}}
	waitQuiet(t)
	h := New("admit-allocs", Config{})
	defer func() { _ = h.Stop(context.Background()) }()
	v, rej := h.Serve(r)
	if rej != nil {
		t.Fatalf("refused: %+v", rej)
	}
	if c := v.(*Client); c.ip != "127.0.0.2" || c.userAgent != "test" {
		t.Fatalf("client ip %q, user agent %q", c.ip, c.userAgent)
	}
	// The client (its struct, id and address text) and nothing of HTTP.
	got := minAllocs(5, 100, func() { _, _ = h.Serve(r) })
	if got > 3 {
		t.Fatalf("%.1f allocations to admit a connection, want at most 3", got)
	}
}
