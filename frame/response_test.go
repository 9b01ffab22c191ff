package frame

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

const rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" // RFC 6455 section 1.3's answer to rfcKey

// switching returns a valid 101 for rfcKey, edited as upgrade() edits requests.
func switching(edits ...string) string {
	lines := []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: " + rfcAccept}
	first := "HTTP/1.1 101 Switching Protocols"
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

type responseCase struct {
	name      string
	raw       string
	noDeflate bool // the client did not offer permessage-deflate (ParseResponseOffer)
	status    int  // HandshakeError.Status; -1: no error
	resp      bool // a Response comes back with the error
	protocol  string
	deflate   bool
}

var responseCases = []responseCase{
	{name: "minimal", raw: switching(), status: -1},
	{name: "bare LF", raw: strings.ReplaceAll(switching(), "\r\n", "\n"), status: -1},
	{name: "no reason phrase", raw: switching("!HTTP/1.1 101"), status: -1},
	{name: "empty reason phrase", raw: switching("!HTTP/1.1 101 "), status: -1},
	{name: "token case", raw: switching("-Upgrade", "-Connection", "Upgrade: WebSocket", "Connection: keep-alive, upgrade"), status: -1},
	{name: "protocol", raw: switching("Sec-WebSocket-Protocol: chat"), status: -1, protocol: "chat"},
	{name: "deflate", raw: switching("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover"), status: -1, deflate: true},
	{name: "deflate server window", raw: switching("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_max_window_bits=10"), status: -1, deflate: true},

	{name: "refused 403", raw: head("HTTP/1.1 403 Forbidden", "Content-Length: 0"), status: 403, resp: true},
	{name: "refused 426", raw: head("HTTP/1.1 426 Upgrade Required", "Sec-WebSocket-Version: 13"), status: 426, resp: true},
	{name: "refused over HTTP/1.0", raw: head("HTTP/1.0 400 Bad Request"), status: 400, resp: true},
	{name: "101 over HTTP/1.0", raw: switching("!HTTP/1.0 101 Switching Protocols"), status: 101, resp: true},
	{name: "missing upgrade", raw: switching("-Upgrade"), status: 101, resp: true},
	{name: "missing connection", raw: switching("-Connection"), status: 101, resp: true},
	{name: "wrong accept", raw: switching("-Sec-WebSocket-Accept", "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA="), status: 101, resp: true},
	{name: "missing accept", raw: switching("-Sec-WebSocket-Accept"), status: 101, resp: true},
	{name: "two accepts", raw: switching("Sec-WebSocket-Accept: " + rfcAccept), status: 101, resp: true},
	{name: "two protocols", raw: switching("Sec-WebSocket-Protocol: a, b"), status: 101, resp: true},
	{name: "deflate keeping server context", raw: switching("Sec-WebSocket-Extensions: permessage-deflate"), status: 101, resp: true},
	{name: "deflate client window not offered", raw: switching("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=10"), status: 101, resp: true},
	{name: "deflate not offered", raw: switching("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover"), noDeflate: true, status: 101, resp: true},
	{name: "unknown extension", raw: switching("Sec-WebSocket-Extensions: x-foo"), status: 101, resp: true},
	{name: "deflate twice", raw: switching("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover, permessage-deflate; server_no_context_takeover"), status: 101, resp: true},
	{name: "malformed status line", raw: switching("!HTTP/1.1 1O1 Switching"), status: 0},
	{name: "status line without space", raw: switching("!HTTP/1.1 101Switching"), status: 0},
	{name: "HTTP/2 status line", raw: switching("!HTTP/2.0 101 Switching Protocols"), status: 0},
	{name: "not HTTP", raw: "SSH-2.0-OpenSSH_9.6\r\n", status: 0},
	{name: "malformed header", raw: switching("Broken"), status: 0},
}

func TestParseResponse(t *testing.T) {
	for _, tc := range responseCases {
		t.Run(tc.name, func(t *testing.T) {
			resp, n, err := ParseResponseOffer([]byte(tc.raw), rfcKey, !tc.noDeflate, 0)
			if tc.status < 0 {
				if err != nil || n != len(tc.raw) {
					t.Fatalf("n %d err %v", n, err)
				}
				if resp.Status != 101 || resp.Protocol != tc.protocol || resp.Deflate != tc.deflate {
					t.Fatalf("resp %+v", resp)
				}
				return
			}
			var he *HandshakeError
			if !errors.As(err, &he) || he.Status != tc.status {
				t.Fatalf("err %v, want status %d", err, tc.status)
			}
			if (resp != nil) != tc.resp {
				t.Fatalf("resp %v, want one: %v", resp, tc.resp)
			}
			if resp != nil && (resp.Status != tc.status || n != len(tc.raw)) {
				t.Fatalf("resp.Status %d n %d", resp.Status, n)
			}
			if tc.status > 101 && !reflect.DeepEqual(he.Header, resp.Header) {
				t.Fatalf("refusal header %v, want the response's", he.Header)
			}
		})
	}
}

func TestParseResponseSplit(t *testing.T) {
	frames := []byte{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}
	for _, tc := range responseCases {
		t.Run(tc.name, func(t *testing.T) {
			full := append([]byte(tc.raw), frames...)
			wantResp, wantN, wantErr := ParseResponseOffer(full, rfcKey, !tc.noDeflate, 0)
			decided := false
			for i := 0; i <= len(full); i++ {
				resp, n, err := ParseResponseOffer(full[:i:i], rfcKey, !tc.noDeflate, 0)
				if resp == nil && n == 0 && err == nil {
					if decided {
						t.Fatalf("prefix %d: need more after a decision", i)
					}
					continue
				}
				decided = true
				if n != wantN || !reflect.DeepEqual(resp, wantResp) || !reflect.DeepEqual(err, wantErr) {
					t.Fatalf("prefix %d: (%v, %d, %v), want (%v, %d, %v)", i, resp, n, err, wantResp, wantN, wantErr)
				}
				if n > 0 && !bytes.Equal(full[n:i], frames[:i-n]) {
					t.Fatalf("prefix %d: frames after the head changed", i)
				}
			}
		})
	}
}

func TestParseResponseDefaultOffer(t *testing.T) {
	raw := switching("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover")
	resp, _, err := ParseResponse([]byte(raw), rfcKey, 0)
	if err != nil || !resp.Deflate {
		t.Fatalf("ParseResponse: %v %+v", err, resp)
	}
}

func TestParseResponseTooBig(t *testing.T) {
	raw := switching("X-Big: " + strings.Repeat("a", 100))
	_, n, err := ParseResponse([]byte(raw), rfcKey, 64)
	var he *HandshakeError
	if !errors.As(err, &he) || he.Status != 0 || n != 0 {
		t.Fatalf("err %v n %d", err, n)
	}
	if _, _, err := ParseResponse([]byte(raw[:63]), rfcKey, 64); err != nil {
		t.Fatalf("below max: %v", err)
	}
}

func TestParseResponseRefusalReason(t *testing.T) {
	_, _, err := ParseResponse([]byte(head("HTTP/1.1 503 Service Unavailable")), rfcKey, 0)
	if !strings.Contains(err.Error(), "503 Service Unavailable: server refused the upgrade: Service Unavailable") {
		t.Fatalf("err %q", err)
	}
}

func TestHandshakeErrorHeader(t *testing.T) {
	he := &HandshakeError{Status: http.StatusBadRequest, Reason: "x"}
	if got := he.Error(); got != "frame: handshake failed: 400 Bad Request: x" {
		t.Fatalf("Error() = %q", got)
	}
}
