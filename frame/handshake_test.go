package frame

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

func TestAcceptKey(t *testing.T) {
	if got := AcceptKey(rfcKey); got != rfcAccept {
		t.Fatalf("AcceptKey = %q, want %q", got, rfcAccept)
	}
	long := strings.Repeat("k", 100) // longer than the stack buffer: still right
	if AcceptKey(long) != string(appendAcceptKey(nil, long)) || len(AcceptKey(long)) != 28 {
		t.Fatal("long key")
	}
}

func TestNewKey(t *testing.T) {
	a, b := NewKey(), NewKey()
	if a == b {
		t.Fatal("two equal keys")
	}
	if !validKey(a) {
		t.Fatalf("NewKey() = %q, not base64 of 16 bytes", a)
	}
}

func TestSelectProtocol(t *testing.T) {
	tests := []struct {
		name               string
		offered, supported []string
		want               string
	}{
		{"server preference wins", []string{"a", "b", "c"}, []string{"c", "b"}, "c"},
		{"none shared", []string{"a"}, []string{"b"}, ""},
		{"nothing offered", nil, []string{"a"}, ""},
		{"nothing supported", []string{"a"}, nil, ""},
		{"case-sensitive", []string{"Chat"}, []string{"chat"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SelectProtocol(tc.offered, tc.supported); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAppendAccept(t *testing.T) {
	req := &Request{Key: rfcKey, Deflate: true}
	tests := []struct {
		name     string
		req      *Request
		protocol string
		deflate  bool
		extra    http.Header
		want     string
	}{
		{name: "plain", req: req, want: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n\r\n"},
		{name: "protocol and deflate", req: req, protocol: "chat", deflate: true, want: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n" +
			"Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\r\n"},
		{name: "deflate not offered", req: &Request{Key: rfcKey}, deflate: true, want: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n\r\n"},
		{name: "extra sorted, own fields and bad keys skipped, values sanitized", req: req,
			extra: http.Header{"X-B": {"2"}, "X-A": {"1\r\nInjected: yes", "3"}, "Upgrade": {"h2c"}, "sec-websocket-accept": {"x"}, "Bad Key": {"v"}},
			want: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept + "\r\n" +
				"X-A: 1  Injected: yes\r\nX-A: 3\r\nX-B: 2\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(AppendAccept([]byte("prefix"), tc.req, tc.protocol, tc.deflate, tc.extra))
			if got != "prefix"+tc.want {
				t.Fatalf("got\n%q\nwant\n%q", got, "prefix"+tc.want)
			}
		})
	}
}

func TestAppendReject(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   string
	}{
		{name: "426 with header", status: 426, header: http.Header{"Sec-Websocket-Version": {"13"}}, body: "upgrade to websocket",
			want: "HTTP/1.1 426 Upgrade Required\r\nSec-Websocket-Version: 13\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\nConnection: close\r\n\r\nupgrade to websocket"},
		{name: "default body", status: 405, header: http.Header{"Allow": {"GET"}},
			want: "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 18\r\nConnection: close\r\n\r\nMethod Not Allowed"},
		{name: "own fields not duplicated", status: 400, header: http.Header{"Connection": {"keep-alive"}, "Content-Length": {"99"}}, body: "x",
			want: "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"},
		{name: "unknown status", status: 599, body: "x",
			want: "HTTP/1.1 599 Status 599\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendReject(nil, tc.status, tc.header, tc.body)); got != tc.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// TestRejectParses checks that every refusal ParseRequest asks for makes a
// response a client parses back to the same status and header.
func TestRejectParses(t *testing.T) {
	for _, tc := range requestCases {
		if tc.status == 0 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseRequest([]byte(tc.raw), tc.max)
			he := err.(*HandshakeError)
			raw := AppendReject(nil, he.Status, he.Header, he.Reason)
			resp, n, err := ParseResponse(raw, rfcKey, 0)
			if resp == nil || resp.Status != tc.status || string(raw[n:]) != he.Reason {
				t.Fatalf("resp %+v n %d err %v", resp, n, err)
			}
			for k, v := range he.Header {
				if resp.Header.Get(k) != v[0] {
					t.Fatalf("%s = %q, want %q", k, resp.Header.Get(k), v[0])
				}
			}
		})
	}
}

// TestHandshakeRoundTrip runs both sides: the client's request parsed by the
// server, its 101 parsed by the client.
func TestHandshakeRoundTrip(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		key := NewKey()
		raw := AppendRequest(nil, "example.com:443", "/ws?x=1", key, []string{"v2", "v1"}, deflate,
			http.Header{"Origin": {"https://example.com"}, "Host": {"evil"}, "Authorization": {"Bearer t"}})
		req, n, err := ParseRequest(raw, 0)
		if err != nil || n != len(raw) {
			t.Fatalf("server: %v\n%s", err, raw)
		}
		if req.Host != "example.com:443" || req.Path != "/ws" || req.RawQuery != "x=1" || req.Origin != "https://example.com" ||
			req.Deflate != deflate || strings.Join(req.Protocols, ",") != "v2,v1" || req.Header.Get("Authorization") != "Bearer t" {
			t.Fatalf("req %+v", req)
		}
		protocol := SelectProtocol(req.Protocols, []string{"v1", "v2"})
		out := AppendAccept(nil, req, protocol, true, nil)
		resp, n, err := ParseResponseOffer(out, key, deflate, 0)
		if err != nil || n != len(out) {
			t.Fatalf("client: %v\n%s", err, out)
		}
		if resp.Protocol != "v1" || resp.Deflate != deflate {
			t.Fatalf("resp %+v", resp)
		}
	}
}

func TestAppendRequest(t *testing.T) {
	got := string(AppendRequest(nil, "h", "", rfcKey, nil, false, nil))
	want := "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + rfcKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	if _, err := base64.StdEncoding.DecodeString(rfcKey); err != nil {
		t.Fatal(err)
	}
}

func TestAppendAcceptAllocs(t *testing.T) {
	req := &Request{Key: rfcKey, Deflate: true}
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { AppendAccept(buf[:0], req, "chat", true, nil) }); n != 0 {
		t.Fatalf("AppendAccept allocates %v times", n)
	}
}
