package frame

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// head joins header lines into a request head with CRLF endings.
func head(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n\r\n" }

const rfcKey = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 section 1.3's sample key

// upgrade returns a minimal valid upgrade request edited: "!line" replaces the
// request line, "-Name" removes the Name field, anything else is a line added.
func upgrade(edits ...string) string {
	lines := []string{"Host: example.com", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + rfcKey, "Sec-WebSocket-Version: 13"}
	first := "GET /ws HTTP/1.1"
	for _, e := range edits {
		switch {
		case strings.HasPrefix(e, "!"):
			first = e[1:]
		case strings.HasPrefix(e, "-"):
			lines = slicesDeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, e[1:]+":") })
		default:
			lines = append(lines, e)
		}
	}
	return head(append([]string{first}, lines...)...)
}

func slicesDeleteFunc(s []string, del func(string) bool) []string {
	var out []string
	for _, v := range s {
		if !del(v) {
			out = append(out, v)
		}
	}
	return out
}

const browserRequest = "GET /ws?room=lobby HTTP/1.1\r\n" +
	"Host: example.com:8080\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: http://example.com:8080\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: " + rfcKey + "\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"\r\n"

type requestCase struct {
	name   string
	raw    string
	max    int
	status int                // 0: parses
	header http.Header        // expected HandshakeError.Header when status != 0
	check  func(*Request) any // returns a value compared with want
	want   any
}

var requestCases = []requestCase{
	{name: "minimal", raw: upgrade(), check: func(r *Request) any {
		return []string{r.Method, r.URI, r.Path, r.RawQuery, r.Proto, r.Host, r.Key}
	}, want: []string{"GET", "/ws", "/ws", "", "HTTP/1.1", "example.com", rfcKey}},
	{name: "browser", raw: browserRequest, check: func(r *Request) any {
		return []any{r.Path, r.RawQuery, r.Origin, r.Deflate, r.Header.Get("User-Agent")[:11], len(r.Header)}
	}, want: []any{"/ws", "room=lobby", "http://example.com:8080", true, "Mozilla/5.0", 12}},
	{name: "bare LF line endings", raw: strings.ReplaceAll(upgrade(), "\r\n", "\n"), check: func(r *Request) any { return r.Key }, want: rfcKey},
	{name: "mixed line endings", raw: strings.Replace(upgrade(), "\r\n", "\n", 2), check: func(r *Request) any { return r.Host }, want: "example.com"},
	{name: "absolute-form", raw: upgrade("!GET http://example.com:80/chat?x=1&y HTTP/1.1"), check: func(r *Request) any {
		return []string{r.URI, r.Path, r.RawQuery}
	}, want: []string{"http://example.com:80/chat?x=1&y", "/chat", "x=1&y"}},
	{name: "absolute-form without path", raw: upgrade("!GET ws://example.com?q HTTP/1.1"), check: func(r *Request) any {
		return []string{r.Path, r.RawQuery}
	}, want: []string{"/", "q"}},
	{name: "HTTP/1.2 is 1.1", raw: upgrade("!GET / HTTP/1.2"), check: func(r *Request) any { return r.Proto }, want: "HTTP/1.2"},
	{name: "token lists and case", raw: upgrade("-Upgrade", "-Connection", "Upgrade: h2c, WebSocket", "Connection: keep-alive,  UPGRADE "), check: func(r *Request) any { return r.Key }, want: rfcKey},
	{name: "upgrade token on second line", raw: upgrade("-Connection", "Connection: keep-alive", "Connection: upgrade"), check: func(r *Request) any { return r.Header["Connection"] }, want: []string{"keep-alive", "upgrade"}},
	{name: "protocols in order across lines", raw: upgrade("Sec-WebSocket-Protocol: chat, , superchat", "Sec-WebSocket-Protocol: v2.runa"), check: func(r *Request) any { return r.Protocols }, want: []string{"chat", "superchat", "v2.runa"}},
	{name: "canonical keys", raw: upgrade("x-custom-HEADER:  v  "), check: func(r *Request) any { return r.Header["X-Custom-Header"] }, want: []string{"v"}},
	{name: "empty header value", raw: upgrade("X-Empty:"), check: func(r *Request) any { return r.Header["X-Empty"] }, want: []string{""}},
	{name: "obs-text in value", raw: upgrade("X-Name: caf\xe9"), check: func(r *Request) any { return r.Header.Get("X-Name") }, want: "caf\xe9"},
	{name: "content-length 0", raw: upgrade("Content-Length: 0"), check: func(r *Request) any { return r.Key }, want: rfcKey},
	{name: "no origin", raw: upgrade(), check: func(r *Request) any { return r.Origin }, want: ""},
	{name: "head exactly max", raw: upgrade(), max: len(upgrade()), check: func(r *Request) any { return r.Key }, want: rfcKey},

	// permessage-deflate offers.
	{name: "deflate plain", raw: upgrade("Sec-WebSocket-Extensions: permessage-deflate"), check: deflateOf, want: true},
	{name: "deflate all params", raw: upgrade("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10; server_max_window_bits=15; server_no_context_takeover; client_no_context_takeover"), check: deflateOf, want: true},
	{name: "deflate quoted bits", raw: upgrade(`Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits="12"`), check: deflateOf, want: true},
	{name: "deflate small server window declined", raw: upgrade("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10"), check: deflateOf, want: false},
	{name: "deflate second offer accepted", raw: upgrade("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate"), check: deflateOf, want: true},
	{name: "deflate on second line", raw: upgrade("Sec-WebSocket-Extensions: x-foo", "Sec-WebSocket-Extensions: permessage-deflate"), check: deflateOf, want: true},
	{name: "deflate unknown param", raw: upgrade("Sec-WebSocket-Extensions: permessage-deflate; foo"), check: deflateOf, want: false},
	{name: "deflate duplicate param", raw: upgrade("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_no_context_takeover"), check: deflateOf, want: false},
	{name: "deflate bits out of range", raw: upgrade("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=16"), check: deflateOf, want: false},
	{name: "deflate bits leading zero", raw: upgrade(`Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits="09"`), check: deflateOf, want: false},
	{name: "deflate bits non-digit", raw: upgrade(`Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits="1;"`), check: deflateOf, want: false},
	{name: "deflate malformed field", raw: upgrade("Sec-WebSocket-Extensions: permessage-deflate;;"), check: deflateOf, want: false},
	{name: "other extension only", raw: upgrade("Sec-WebSocket-Extensions: x-webkit-deflate-frame"), check: deflateOf, want: false},

	// Refusals.
	{name: "request line two parts", raw: upgrade("!GET /ws"), status: 400},
	{name: "request line double space", raw: upgrade("!GET  /ws HTTP/1.1"), status: 400},
	{name: "request line trailing junk", raw: upgrade("!GET /ws HTTP/1.1 x"), status: 400},
	{name: "request line empty", raw: "\r\n" + upgrade(), status: 400},
	{name: "method not a token", raw: upgrade("!GE(T /ws HTTP/1.1"), status: 400},
	{name: "target not origin-form", raw: upgrade("!GET ws HTTP/1.1"), status: 400},
	{name: "target with fragment", raw: upgrade("!GET /ws#x HTTP/1.1"), status: 400},
	{name: "target with control byte", raw: upgrade("!GET /w\x01s HTTP/1.1"), status: 400},
	{name: "target non-ASCII", raw: upgrade("!GET /caf\xc3\xa9 HTTP/1.1"), status: 400},
	{name: "bad version", raw: upgrade("!GET /ws HTTP/1.x"), status: 400},
	{name: "lowercase version", raw: upgrade("!GET /ws http/1.1"), status: 400},
	{name: "HTTP/1.0", raw: upgrade("!GET /ws HTTP/1.0"), status: 400},
	{name: "HTTP/0.9", raw: upgrade("!GET /ws HTTP/0.9"), status: 400},
	{name: "HTTP/2.0", raw: upgrade("!GET /ws HTTP/2.0"), status: 505},
	{name: "POST", raw: upgrade("!POST /ws HTTP/1.1"), status: 405, header: http.Header{"Allow": {"GET"}}},
	{name: "lowercase get", raw: upgrade("!get /ws HTTP/1.1"), status: 405, header: http.Header{"Allow": {"GET"}}},
	{name: "header without colon", raw: upgrade("X-Broken"), status: 400},
	{name: "header empty name", raw: upgrade(": v"), status: 400},
	{name: "space before colon", raw: upgrade("X-Name : v"), status: 400},
	{name: "obs-fold", raw: upgrade("X-Name: a", " b"), status: 400},
	{name: "obs-fold tab", raw: upgrade("X-Name: a", "\tb"), status: 400},
	{name: "bare CR in value", raw: upgrade("X-Name: a\rb"), status: 400},
	{name: "NUL in value", raw: upgrade("X-Name: a\x00b"), status: 400},
	{name: "missing host", raw: upgrade("-Host"), status: 400},
	{name: "empty host", raw: upgrade("-Host", "Host: "), status: 400},
	{name: "two hosts", raw: upgrade("Host: other.example"), status: 400},
	{name: "missing upgrade", raw: upgrade("-Upgrade"), status: 426, header: http.Header{"Upgrade": {"websocket"}}},
	{name: "upgrade other protocol", raw: upgrade("-Upgrade", "Upgrade: h2c"), status: 426, header: http.Header{"Upgrade": {"websocket"}}},
	{name: "upgrade token as substring", raw: upgrade("-Upgrade", "Upgrade: websockets"), status: 426, header: http.Header{"Upgrade": {"websocket"}}},
	{name: "missing connection", raw: upgrade("-Connection"), status: 400},
	{name: "connection keep-alive only", raw: upgrade("-Connection", "Connection: keep-alive"), status: 400},
	{name: "version 8", raw: upgrade("-Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"), status: 426, header: http.Header{"Sec-Websocket-Version": {"13"}, "Upgrade": {"websocket"}}},
	{name: "version missing", raw: upgrade("-Sec-WebSocket-Version"), status: 426, header: http.Header{"Sec-Websocket-Version": {"13"}, "Upgrade": {"websocket"}}},
	{name: "version twice", raw: upgrade("Sec-WebSocket-Version: 13"), status: 426, header: http.Header{"Sec-Websocket-Version": {"13"}, "Upgrade": {"websocket"}}},
	{name: "key missing", raw: upgrade("-Sec-WebSocket-Key"), status: 400},
	{name: "key 15 bytes", raw: upgrade("-Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA"), status: 400},
	{name: "key 17 bytes", raw: upgrade("-Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA="), status: 400},
	{name: "key not base64", raw: upgrade("-Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!!"), status: 400},
	{name: "key twice", raw: upgrade("Sec-WebSocket-Key: " + rfcKey), status: 400},
	{name: "transfer-encoding", raw: upgrade("Transfer-Encoding: chunked"), status: 400},
	{name: "content-length body", raw: upgrade("Content-Length: 5"), status: 400},
	{name: "malformed protocol", raw: upgrade("Sec-WebSocket-Protocol: chat;v=1"), status: 400},
	{name: "head over max", raw: upgrade(), max: len(upgrade()) - 1, status: 431},
	{name: "TLS hello on plain port", raw: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", status: 400},
}

func deflateOf(r *Request) any { return r.Deflate }

func TestParseRequest(t *testing.T) {
	for _, tc := range requestCases {
		t.Run(tc.name, func(t *testing.T) {
			req, n, err := ParseRequest([]byte(tc.raw), tc.max)
			if tc.status != 0 {
				var he *HandshakeError
				if !errors.As(err, &he) {
					t.Fatalf("err = %v, want *HandshakeError %d", err, tc.status)
				}
				// A well-formed head that is not a valid upgrade comes back
				// parsed (for a plain-HTTP fallback); anything else does not.
				if he.Status != tc.status || (req == nil) != (n == 0) || (req != nil && n != len(tc.raw)) {
					t.Fatalf("status %d req %v n %d (%v), want status %d", he.Status, req, n, err, tc.status)
				}
				if !reflect.DeepEqual(he.Header, tc.header) {
					t.Fatalf("header %v, want %v", he.Header, tc.header)
				}
				return
			}
			if err != nil || n != len(tc.raw) {
				t.Fatalf("n %d err %v, want %d <nil>", n, err, len(tc.raw))
			}
			if got := tc.check(req); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestParseRequestSplit feeds every case byte by byte, as a connection would
// with bytes arriving one at a time: the result must not depend on the split.
// Until the result is decided every call must say "need more"; after, the same
// result as one-shot parsing, with the bytes after the head left alone.
func TestParseRequestSplit(t *testing.T) {
	frames := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	for _, tc := range requestCases {
		t.Run(tc.name, func(t *testing.T) {
			full := append([]byte(tc.raw), frames...)
			wantReq, wantN, wantErr := ParseRequest(full, tc.max)
			decided := false
			for i := 0; i <= len(full); i++ {
				req, n, err := ParseRequest(full[:i:i], tc.max)
				if req == nil && n == 0 && err == nil {
					if decided {
						t.Fatalf("prefix %d: need more after a decision", i)
					}
					continue
				}
				decided = true
				if n != wantN || !reflect.DeepEqual(req, wantReq) || !reflect.DeepEqual(err, wantErr) {
					t.Fatalf("prefix %d: (%v, %d, %v), want (%v, %d, %v)", i, req, n, err, wantReq, wantN, wantErr)
				}
				if n > 0 && !bytes.Equal(full[n:i], frames[:i-n]) {
					t.Fatalf("prefix %d: bytes after the head changed", i)
				}
			}
			if !decided && tc.status != 0 {
				t.Fatalf("never decided")
			}
		})
	}
}

func TestParseRequestTrailingBytes(t *testing.T) {
	after := []byte("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58GET / HTTP/1.1\r\n\r\n")
	b := append([]byte(browserRequest), after...)
	req, n, err := ParseRequest(b, 0)
	if err != nil || req == nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[n:], after) {
		t.Fatalf("b[n:] = %q, want %q", b[n:], after)
	}
}

// TestParseRequestNoAlias checks that the request survives the reuse of the
// buffer it was parsed from.
func TestParseRequestNoAlias(t *testing.T) {
	b := []byte(browserRequest)
	req, _, err := ParseRequest(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	before := *req
	hdr := req.Header.Clone()
	for i := range b {
		b[i] = 'x'
	}
	if !reflect.DeepEqual(*req, before) || !reflect.DeepEqual(req.Header, hdr) {
		t.Fatal("request changed with the buffer")
	}
}

func TestParseRequestNeedMore(t *testing.T) {
	for _, s := range []string{"", "G", "GET /ws HTTP/1.1", "GET /ws HTTP/1.1\r\nHost: x\r\n", "GET /ws HTTP/1.1\r\nHost: x\r\n\r"} {
		req, n, err := ParseRequest([]byte(s), 0)
		if req != nil || n != 0 || err != nil {
			t.Errorf("%q: (%v, %d, %v), want need more", s, req, n, err)
		}
	}
}

func TestParseRequestDefaultMax(t *testing.T) {
	big := upgrade("X-Big: " + strings.Repeat("a", DefaultMaxHeadSize))
	_, _, err := ParseRequest([]byte(big), 0)
	var he *HandshakeError
	if !errors.As(err, &he) || he.Status != 431 {
		t.Fatalf("err = %v, want 431", err)
	}
	if _, _, err := ParseRequest([]byte(big), len(big)); err != nil {
		t.Fatalf("with max = len: %v", err)
	}
}

// TestParseRequestErrorsNotShared checks that a caller may modify the error's
// header without affecting later errors.
func TestParseRequestErrorsNotShared(t *testing.T) {
	_, _, err := ParseRequest([]byte(upgrade("!POST / HTTP/1.1")), 0)
	err.(*HandshakeError).Header.Set("Allow", "PUT")
	_, _, err = ParseRequest([]byte(upgrade("!POST / HTTP/1.1")), 0)
	if got := err.(*HandshakeError).Header.Get("Allow"); got != "GET" {
		t.Fatalf("Allow = %q", got)
	}
}

func TestParseRequestReturnsPlainHTTP(t *testing.T) {
	raw := "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\r\n\r\n"
	req, n, err := ParseRequest([]byte(raw), 0)
	var he *HandshakeError
	if !errors.As(err, &he) || he.Status != 426 {
		t.Fatalf("err = %v, want 426", err)
	}
	if req == nil || n != len(raw) || req.Path != "/index.html" || req.RawQuery != "x=1" || req.Header.Get("Accept") != "text/html" {
		t.Fatalf("plain request not returned: %+v n=%d", req, n)
	}
	// Syntax errors return no request.
	if req, n, _ := ParseRequest([]byte("GET /\r\nHost: x\r\n\r\n"), 0); req != nil || n != 0 {
		t.Fatalf("malformed request line returned %+v, %d", req, n)
	}
}

func TestRequestFromHTTP(t *testing.T) {
	h := http.Header{
		"Upgrade":               {"websocket"},
		"Connection":            {"keep-alive, Upgrade"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-Websocket-Version": {"13"},
		"Origin":                {"http://example.com"},
	}
	req, err := RequestFromHTTP("GET", "/ws?room=1", "HTTP/1.1", "example.com", h)
	if err != nil {
		t.Fatal(err)
	}
	if req.Path != "/ws" || req.RawQuery != "room=1" || req.Host != "example.com" || req.Origin != "http://example.com" || req.Key != "dGhlIHNhbXBsZSBub25jZQ==" {
		t.Fatalf("got %+v", req)
	}
	if h.Get("Host") != "" {
		t.Fatal("the caller's header was modified")
	}
	for name, tc := range map[string]struct {
		method string
		drop   string
		status int
	}{
		"post":       {"POST", "", 405},
		"no upgrade": {"GET", "Upgrade", 426},
		"no key":     {"GET", "Sec-Websocket-Key", 400},
	} {
		hh := h.Clone()
		delete(hh, tc.drop)
		_, err := RequestFromHTTP(tc.method, "/ws", "HTTP/1.1", "example.com", hh)
		var he *HandshakeError
		if !errors.As(err, &he) || he.Status != tc.status {
			t.Errorf("%s: %v, want %d", name, err, tc.status)
		}
	}
}
