package frame

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
)

// HandshakeError is a failed opening handshake.
//
// From ParseRequest it says how to answer the client: Status is the HTTP status
// to send and Header the fields that status requires (Allow with 405,
// Upgrade or Sec-WebSocket-Version with 426); pass both to AppendReject. From
// ParseResponse, Status is the status the server sent (0 when its head could
// not be parsed) and Header, for a refusal, the server's fields.
type HandshakeError struct {
	Status int
	Reason string
	Header http.Header
}

// Error gives the status with its text, the way it appears on the wire.
func (e *HandshakeError) Error() string {
	if e.Status == 0 {
		return "frame: handshake failed: " + e.Reason
	}
	return "frame: handshake failed: " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + ": " + e.Reason
}

// clone copies a shared error value so a caller may modify what it gets.
func (e *HandshakeError) clone() *HandshakeError {
	c := *e
	c.Header = e.Header.Clone()
	return &c
}

// acceptGUID is the fixed GUID of RFC 6455 section 1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value that answers key: base64 of
// the SHA-1 of key followed by the RFC 6455 GUID.
func AcceptKey(key string) string {
	var buf [28]byte
	return string(appendAcceptKey(buf[:0], key))
}

func appendAcceptKey(dst []byte, key string) []byte {
	var buf [64]byte // a valid key is 24 bytes: the concatenation fits on the stack
	sum := sha1.Sum(append(append(buf[:0], key...), acceptGUID...))
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// NewKey returns a fresh Sec-WebSocket-Key: base64 of 16 bytes from
// crypto/rand, since RFC 6455 section 4.1 asks for a randomly selected nonce.
func NewKey() string {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:]) // never fails since Go 1.24
	return base64.StdEncoding.EncodeToString(nonce[:])
}

// SelectProtocol returns the first of the server's supported subprotocols that
// the client offered, so the server's preference wins; "" when none match (the
// 101 then names no subprotocol, and the client decides whether to go on).
// Subprotocol names compare case-sensitively.
func SelectProtocol(offered, supported []string) string {
	for _, s := range supported {
		if slices.Contains(offered, s) {
			return s
		}
	}
	return ""
}

// deflateParams is the only permessage-deflate configuration this package
// speaks: neither side keeps its LZ77 window between messages, so a connection
// holds no compression state while idle.
const deflateParams = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// AppendAccept appends the 101 Switching Protocols response to req. protocol,
// when not empty, must be one req offered (see SelectProtocol). deflate accepts
// permessage-deflate and is ignored unless req.Deflate, since answering an
// extension the client did not offer fails the client. extra adds fields, in
// sorted key order; it cannot override the fields the handshake itself sets.
func AppendAccept(dst []byte, req *Request, protocol string, deflate bool, extra http.Header) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = appendAcceptKey(dst, req.Key)
	dst = append(dst, "\r\n"...)
	if protocol != "" {
		dst = appendField(dst, "Sec-WebSocket-Protocol", protocol)
	}
	if deflate && req.Deflate {
		dst = appendField(dst, "Sec-WebSocket-Extensions", deflateParams)
	}
	dst = appendExtra(dst, extra, acceptOwn)
	return append(dst, "\r\n"...)
}

var acceptOwn = []string{"Upgrade", "Connection", "Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"}

// AppendReject appends a complete response refusing the upgrade: status line,
// header's fields (sorted by key), a text/plain body and Connection: close, as
// the connection is closed after it. body defaults to the status text.
func AppendReject(dst []byte, status int, header http.Header, body string) []byte {
	text := http.StatusText(status)
	if text == "" {
		text = "Status " + strconv.Itoa(status)
	}
	if body == "" {
		body = text
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, text...)
	dst = append(dst, "\r\n"...)
	dst = appendExtra(dst, header, rejectOwn)
	dst = append(dst, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\nConnection: close\r\n\r\n"...)
	return append(dst, body...)
}

var rejectOwn = []string{"Content-Type", "Content-Length", "Connection"}

// AppendRequest appends a client's upgrade request for uri ("/path?query";
// "/" when empty) on host. key is from NewKey; protocols are offered in order;
// deflate offers permessage-deflate without context takeover. header adds
// fields (Origin, Authorization, ...) in sorted key order; it cannot override
// the fields the handshake itself sets.
func AppendRequest(dst []byte, host, uri, key string, protocols []string, deflate bool, header http.Header) []byte {
	if uri == "" {
		uri = "/"
	}
	dst = append(dst, "GET "...)
	dst = append(dst, sanitize(uri)...)
	dst = append(dst, " HTTP/1.1\r\n"...)
	dst = appendField(dst, "Host", host)
	dst = append(dst, "Upgrade: websocket\r\nConnection: Upgrade\r\n"...)
	dst = appendField(dst, "Sec-WebSocket-Key", key)
	dst = append(dst, "Sec-WebSocket-Version: 13\r\n"...)
	if len(protocols) > 0 {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		for i, p := range protocols {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, sanitize(p)...)
		}
		dst = append(dst, "\r\n"...)
	}
	if deflate {
		dst = appendField(dst, "Sec-WebSocket-Extensions", deflateParams)
	}
	dst = appendExtra(dst, header, requestOwn)
	return append(dst, "\r\n"...)
}

var requestOwn = []string{"Host", "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"}

func appendField(dst []byte, key, value string) []byte {
	dst = append(dst, key...)
	dst = append(dst, ": "...)
	dst = append(dst, sanitize(value)...)
	return append(dst, "\r\n"...)
}

// appendExtra writes h's fields sorted by key, so responses are reproducible,
// skipping keys that are not tokens and the keys in own (compared
// canonically), which the caller writes itself.
func appendExtra(dst []byte, h http.Header, own []string) []byte {
	if len(h) == 0 {
		return dst
	}
	var stack [16]string
	keys := stack[:0]
	for k := range h {
		if isTokenString(k) && !slices.Contains(own, http.CanonicalHeaderKey(k)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			dst = appendField(dst, k, v)
		}
	}
	return dst
}

// sanitize replaces CR, LF and NUL with spaces, as net/http does, so that a
// value from user input cannot end the field and inject others.
func sanitize(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c == '\r' || c == '\n' || c == 0 {
					b[j] = ' '
				}
			}
			return string(b)
		}
	}
	return s
}
