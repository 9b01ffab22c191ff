package hub

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// admit is admitting for a request net/http parsed: the tests' way in.
func (h *Hub) admit(r *http.Request) (c *Client, status int, message string) {
	return h.admitting(&admission{origin: r.Header.Get("Origin"), host: r.Host, ip: remoteIP(r.RemoteAddr),
		userAgent: r.UserAgent(), http: r})
}

// Endpoint hands every transport setting of the Config to conn: reading the hub's Config back is not
// enough, the transport must get them. Each case sets one field to a value that is not conn's default.
func TestEndpointConfig(t *testing.T) {
	logger := discardLogger()
	tests := []struct {
		name string
		cfg  Config
		ok   func(conn.Config) bool
	}{
		{"MaxMessageSize", Config{MaxMessageSize: 1234}, func(c conn.Config) bool { return c.MaxMessageSize == 1234 }},
		{"ReadTimeout", Config{ReadTimeout: 7 * time.Second}, func(c conn.Config) bool { return c.ReadTimeout == 7*time.Second }},
		{"WriteTimeout", Config{WriteTimeout: 8 * time.Second}, func(c conn.Config) bool { return c.WriteTimeout == 8*time.Second }},
		{"PingInterval", Config{PingInterval: 9 * time.Second}, func(c conn.Config) bool { return c.PingInterval == 9*time.Second }},
		{"PongTimeout", Config{PongTimeout: 11 * time.Second}, func(c conn.Config) bool { return c.PongTimeout == 11*time.Second }},
		{"SendBuffer", Config{SendBuffer: 77}, func(c conn.Config) bool { return c.SendQueue == 77 }},
		{"Compression", Config{Compression: true}, func(c conn.Config) bool { return c.Compression }},
		{"handlers off the input goroutine", Config{}, func(c conn.Config) bool { return c.NonBlocking }},
		{"InlineHandlers", Config{InlineHandlers: true}, func(c conn.Config) bool { return !c.NonBlocking }},
		{"Logger", Config{Logger: logger}, func(c conn.Config) bool { return c.Logger == logger }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, tc.cfg)
			ep := h.Endpoint()
			if !tc.ok(ep.Config) {
				t.Fatalf("the transport got %+v", ep.Config)
			}
			if ep.Upgrade == nil || ep.Handler == nil {
				t.Fatal("no upgrade hook or handler")
			}
		})
	}
}

// rawClient is a WebSocket client on a bare socket: it never answers a ping, so the server's keep-alive
// can be watched frame by frame.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr, path string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	rc := &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
	_ = nc.SetDeadline(time.Now().Add(waitFor))
	req := "GET " + path + " HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %s", resp.Status)
	}
	return rc
}

// next reads the next frame the server sends, waiting at most d for it; what names it for the failure.
func (rc *rawClient) next(d time.Duration, what string) (frame.OpCode, []byte) {
	rc.t.Helper()
	_ = rc.nc.SetReadDeadline(time.Now().Add(d))
	var b []byte
	for {
		h, n, err := frame.ParseHeader(b)
		if err != nil {
			rc.t.Fatal(err)
		}
		if n > 0 && int64(len(b)-n) >= h.Length {
			return h.Op, b[n : n+int(h.Length)]
		}
		c, err := rc.br.ReadByte()
		if err != nil {
			rc.t.Fatalf("no %s within %v (%d bytes of a frame): %v", what, d, len(b), err)
		}
		b = append(b, c)
	}
}

// The hub's ReadTimeout reaches the transport: a client from which nothing arrives is closed with
// 1001 "read timeout", while one that keeps talking stays.
func TestServeReadTimeout(t *testing.T) {
	h := New("default", Config{ReadTimeout: 500 * time.Millisecond})
	addr := serveHub(t, h, "/ws")
	silent, talker := mustDial(t, addr, "/ws"), mustDial(t, addr, "/ws")
	start := time.Now()
	for time.Since(start) < 1500*time.Millisecond {
		talker.exchange([]step{{`{"id":"1","event":"ping"}`, `{"id":"1","event":"ping","ok":true,"data":{"event":"pong"}}`}})
		time.Sleep(100 * time.Millisecond)
	}
	if code, reason := silent.closed(); code != frame.CloseGoingAway || reason != "read timeout" {
		t.Fatalf("silent client closed with %d %q, want 1001 \"read timeout\"", code, reason)
	}
	select {
	case <-talker.done:
		t.Fatal("a client that kept talking was closed")
	default:
	}
}

// The hub's PingInterval and PongTimeout reach the transport: the server pings a quiet client after
// PingInterval and, unanswered, closes it PongTimeout later with 1001 "pong timeout". (conn's defaults,
// 30 s and 10 s, would fail the waits below.)
func TestServePingAndPongTimeout(t *testing.T) {
	h := New("default", Config{PingInterval: 200 * time.Millisecond, PongTimeout: 500 * time.Millisecond})
	addr := serveHub(t, h, "/ws")
	rc := dialRaw(t, addr, "/ws")
	op, _ := rc.next(waitFor, "ping (PingInterval 200ms)")
	if op != frame.OpPing {
		t.Fatalf("first frame from the server: opcode %d, want a ping", op)
	}
	pinged := time.Now()
	op, p := rc.next(3*time.Second, "close after the unanswered ping (PongTimeout 500ms)")
	if op != frame.OpClose {
		t.Fatalf("after an unanswered ping: opcode %d, want a close", op)
	}
	code, reason, err := frame.ParseClose(p)
	if err != nil || code != frame.CloseGoingAway || reason != "pong timeout" {
		t.Fatalf("close %d %q %v, want 1001 \"pong timeout\"", code, reason, err)
	}
	if d := time.Since(pinged); d < 400*time.Millisecond {
		t.Fatalf("closed %v after the ping, before PongTimeout", d)
	}

	// A client that answers pings (conn's Dialer does) stays through many intervals.
	w := mustDial(t, addr, "/ws")
	time.Sleep(1500 * time.Millisecond)
	w.exchange([]step{{`{"id":"1","event":"ping"}`, `{"id":"1","event":"ping","ok":true,"data":{"event":"pong"}}`}})
	select {
	case <-w.done:
		t.Fatal("a client that answers pings was closed")
	default:
	}
}
