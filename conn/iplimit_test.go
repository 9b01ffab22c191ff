package conn

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// dialFrom opens a TCP connection to addr from the loopback address src.
func dialFrom(t *testing.T, src, addr string) *rawClient {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	rc := &rawClient{t: t, nc: nc, mask: [4]byte{1, 2, 3, 4}}
	rc.br = bufio.NewReader(nc)
	rc.dec.Client = true
	return rc
}

// expect429 reads the answer to a connection over a limit: 429, Retry-After,
// the limit named in the body, and then the end of the connection.
func expect429(t *testing.T, rc *rawClient, want string) {
	t.Helper()
	resp := rc.readResponse()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(body), want) {
		t.Fatalf("got %d (Retry-After %q) %q, want 429 with Retry-After 1 and %q", resp.StatusCode, resp.Header.Get("Retry-After"), body, want)
	}
	rc.expectEOF()
}

func TestIPLimitsMaxConns(t *testing.T) {
	s := echoServer(Config{})
	s.IPLimits = IPLimits{MaxConns: 3}
	addr := startServer(t, s)
	var held []*rawClient
	for range 2 {
		rc := dialFrom(t, "127.0.0.1", addr)
		rc.handshake(nil)
		held = append(held, rc)
	}
	// A third that never sends its request still counts (slowloris).
	silent := dialFrom(t, "127.0.0.1", addr)
	eventually(t, "three connections on the server", func() bool { return s.Len() == 3 })
	expect429(t, dialFrom(t, "127.0.0.1", addr), tooManyConns)
	if n := s.Rejected()[http.StatusTooManyRequests]; n != 1 {
		t.Fatalf("Rejected()[429] = %d after one refusal", n)
	}

	// Another address is not affected, and the refused one keeps working.
	other := dialFrom(t, "127.0.0.2", addr)
	if resp := other.handshake(nil); resp.StatusCode != 101 {
		t.Fatalf("127.0.0.2: status %d, want 101", resp.StatusCode)
	}
	held[0].send(true, 1, []byte("still served"))
	if f := held[0].mustNext(); string(f.Payload) != "still served" {
		t.Fatalf("echo %q", f.Payload)
	}

	// A closed connection frees its place.
	silent.nc.Close()
	eventually(t, "the silent connection to be gone", func() bool { return s.Len() == 3 })
	if resp := dialFrom(t, "127.0.0.1", addr).handshake(nil); resp.StatusCode != 101 {
		t.Fatalf("after a close: status %d, want 101", resp.StatusCode)
	}
}

func TestIPLimitsHandshakeRate(t *testing.T) {
	s := echoServer(Config{})
	s.IPLimits = IPLimits{HandshakeRate: 4, HandshakeBurst: 2}
	addr := startServer(t, s)
	for i := range 2 {
		rc := dialFrom(t, "127.0.0.3", addr)
		if resp := rc.handshake(nil); resp.StatusCode != 101 {
			t.Fatalf("connection %d of the burst: status %d", i, resp.StatusCode)
		}
		rc.nc.Close() // closing gives no token back
	}
	expect429(t, dialFrom(t, "127.0.0.3", addr), tooManyHandshakes)
	time.Sleep(300 * time.Millisecond) // a token comes back every 250 ms
	if resp := dialFrom(t, "127.0.0.3", addr).handshake(nil); resp.StatusCode != 101 {
		t.Fatalf("after the refill: status %d, want 101", resp.StatusCode)
	}
}

func TestIPLimitsServeHTTP(t *testing.T) {
	s := echoServer(Config{})
	s.IPLimits = IPLimits{MaxConns: 1}
	hs := httptest.NewServer(s)
	defer hs.Close()
	addr := strings.TrimPrefix(hs.URL, "http://")
	first := dialRaw(t, addr)
	if resp := first.handshake(nil); resp.StatusCode != 101 {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	second := dialRaw(t, addr)
	second.write([]byte(upgradeRequest("/")))
	resp := second.readResponse()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), tooManyConns) {
		t.Fatalf("second: %d %q, want 429 %q", resp.StatusCode, body, tooManyConns)
	}
	first.nc.Close()
	eventually(t, "the first connection to be gone", func() bool { return s.Len() == 0 })
	if resp := dialRaw(t, addr).handshake(nil); resp.StatusCode != 101 {
		t.Fatalf("after the first closed: %d, want 101", resp.StatusCode)
	}
}

// The table forgets addresses that have no connection and a full bucket, so
// it does not grow with every address ever seen.
func TestIPTableSweep(t *testing.T) {
	var tb ipTable
	l := IPLimits{HandshakeRate: 10}
	now := time.Now()
	for i := range 1000 {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		if why := tb.admit(ip, l, now); why != "" {
			t.Fatal(why)
		}
		tb.release(ip)
	}
	kept := netip.MustParseAddr("10.9.9.9")
	tb.admit(kept, l, now)
	tb.admit(netip.MustParseAddr("10.9.9.10"), l, now.Add(2*time.Minute)) // sweeps
	if n := len(tb.m); n != 2 {
		t.Fatalf("%d addresses kept after the sweep, want 2 (one with a connection, the newest)", n)
	}
	if tb.m[kept] == nil {
		t.Fatal("the address with a connection was forgotten")
	}
}

// An idle connection's memory is mostly Conn and netpoll's connection: Conn
// stays in the 320-byte malloc size class (the next one is 352).
func TestConnSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > 320 {
		t.Fatalf("Conn is %d bytes, over the 320-byte size class: reorder fields or move rarely used ones out", n)
	}
}
