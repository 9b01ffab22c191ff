package frame

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

// Request is a parsed WebSocket upgrade request. It holds copies: nothing in
// it aliases the bytes it was parsed from, so the connection's buffer can be
// reused at once. A Request is not modified by this package after
// ParseRequest returns; share it read-only.
type Request struct {
	Method   string // always "GET" in a Request returned without error
	URI      string // request-target as sent, e.g. "/ws?a=1" (or absolute-form "http://host/ws")
	Path     string // path of URI, not percent-decoded; "/" when an absolute-form URI has none
	RawQuery string // query of URI without the '?', not decoded
	Proto    string // "HTTP/1.1"
	Host     string // the Host field

	Header    http.Header // every field, canonical keys (Sec-Websocket-Key, not Sec-WebSocket-Key)
	Key       string      // Sec-WebSocket-Key
	Origin    string      // Origin, "" when absent (non-browser clients)
	Protocols []string    // Sec-WebSocket-Protocol offers, in the client's order of preference
	Deflate   bool        // the client offered permessage-deflate in a form AppendAccept can accept
}

// ParseRequest parses an HTTP/1.1 WebSocket upgrade request (RFC 6455 section
// 4.2.1) from b, which holds every byte received on the connection so far. It
// is meant to be called again each time more bytes arrive, with all of them.
//
// n == 0 && err == nil: b does not hold the whole head yet; call again with
// more bytes. n > 0: req is the request and b[n:] are bytes the client sent
// after it (its first frames), which must not be dropped. err != nil: it is a
// *HandshakeError whose Status and Header make the response to send (with
// AppendReject) before closing the connection; n and req are then zero.
//
// A head may be at most max bytes including its blank line (max <= 0 means
// DefaultMaxHeadSize): a longer one fails with 431 once max bytes have
// arrived. Lines are checked as they complete, so garbage fails before max
// bytes arrive, and the result never depends on how b was split across calls.
// Lines may end in CRLF or a bare LF (RFC 9112 section 2.2 lets a recipient
// accept bare LF; some tools send it); a CR anywhere else fails.
//
// Status codes: 400 for malformed syntax (request line, header line, obs-fold,
// whitespace before a colon, bare CR), HTTP/1.0 or older, a missing, empty or
// repeated Host, a Connection field without "upgrade", a Sec-WebSocket-Key that
// is not base64 of 16 bytes (or is repeated), a malformed Sec-WebSocket-Protocol,
// and a request body (Transfer-Encoding, or Content-Length other than 0), since
// bytes after the head are taken as frames; 405 (with Allow: GET) for another
// method; 505 for HTTP major version 2 or above; 426 (with Upgrade: websocket)
// for an Upgrade field without "websocket"; 426 (with Sec-WebSocket-Version: 13
// and Upgrade: websocket) for a Sec-WebSocket-Version other than 13; 431 for a
// head over max bytes.
//
// When the head is well-formed HTTP but not a valid WebSocket upgrade (the
// 400s and 426s of the header checks above), ParseRequest returns the parsed
// request and n along with the error, so a server can hand a plain HTTP
// request to another handler; req is nil for every other error.
func ParseRequest(b []byte, max int) (req *Request, n int, err error) {
	if max <= 0 {
		max = DefaultMaxHeadSize
	}
	end, fields, herr := scanHead(b, max, checkRequestLine, errBadRequestField)
	switch {
	case herr != nil:
		return nil, 0, herr.clone()
	case end < 0:
		return nil, 0, &HandshakeError{Status: http.StatusRequestHeaderFieldsTooLarge, Reason: "request head larger than " + strconv.Itoa(max) + " bytes"}
	case end == 0:
		return nil, 0, nil
	}
	line, h := buildHeader(b, end, fields)
	req = &Request{Header: h}
	var rest string
	req.Method, rest, _ = strings.Cut(line, " ")
	req.URI, req.Proto, _ = strings.Cut(rest, " ")
	req.Path, req.RawQuery = splitTarget(req.URI)
	if herr := req.check(); herr != nil {
		return req, end, herr
	}
	return req, end, nil
}

// check applies RFC 6455 section 4.2.1 to the header fields.
func (req *Request) check() *HandshakeError {
	h := req.Header
	host, ok := single(h, "Host")
	if !ok || host == "" {
		return badRequest("missing or repeated Host field")
	}
	req.Host = host
	if len(h["Transfer-Encoding"]) > 0 {
		return badRequest("upgrade request with a body")
	}
	if cl, ok := h["Content-Length"]; ok && (len(cl) != 1 || cl[0] != "0") {
		return badRequest("upgrade request with a body")
	}
	if !hasToken(h["Upgrade"], "websocket") {
		return &HandshakeError{
			Status: http.StatusUpgradeRequired,
			Reason: `Upgrade field lacks "websocket"`,
			Header: http.Header{"Upgrade": {"websocket"}},
		}
	}
	if !hasToken(h["Connection"], "upgrade") {
		return badRequest(`Connection field lacks "upgrade"`)
	}
	if v, ok := single(h, "Sec-Websocket-Version"); !ok || v != "13" {
		return &HandshakeError{
			Status: http.StatusUpgradeRequired,
			Reason: "unsupported Sec-WebSocket-Version",
			Header: http.Header{"Sec-Websocket-Version": {"13"}, "Upgrade": {"websocket"}},
		}
	}
	key, ok := single(h, "Sec-Websocket-Key")
	if !ok || !validKey(key) {
		return badRequest("Sec-WebSocket-Key is not base64 of 16 bytes")
	}
	req.Key = key
	req.Origin = h.Get("Origin")
	protocols, ok := parseProtocols(h["Sec-Websocket-Protocol"])
	if !ok {
		return badRequest("malformed Sec-WebSocket-Protocol")
	}
	req.Protocols = protocols
	req.Deflate = acceptableDeflateOffer(h["Sec-Websocket-Extensions"])
	return nil
}

var errBadRequestField = badRequest("malformed header line")

func badRequest(reason string) *HandshakeError {
	return &HandshakeError{Status: http.StatusBadRequest, Reason: reason}
}

// checkRequestLine validates "GET /path HTTP/1.1". Only the method can be
// judged before the line is complete; it is checked first in the complete line
// too, so both paths fail with the same error.
func checkRequestLine(line []byte, complete bool) *HandshakeError {
	method, rest, found := bytes.Cut(line, []byte{' '})
	for _, c := range method {
		if !tchar[c] {
			return errMalformedRequestLine
		}
	}
	if !complete {
		return nil
	}
	target, version, found2 := bytes.Cut(rest, []byte{' '})
	if !found || !found2 || len(method) == 0 || !validTarget(target) {
		return errMalformedRequestLine
	}
	major, minor, ok := parseVersion(version)
	switch {
	case !ok:
		return errMalformedRequestLine
	case major >= 2:
		return errVersionNotSupported
	case major < 1 || minor < 1:
		return errOldVersion
	}
	if string(method) != http.MethodGet {
		return errMethod
	}
	return nil
}

var (
	errMalformedRequestLine = badRequest("malformed request line")
	errOldVersion           = badRequest("WebSocket needs HTTP/1.1 or later")
	errVersionNotSupported  = &HandshakeError{Status: http.StatusHTTPVersionNotSupported, Reason: "HTTP major version not supported"}
	errMethod               = &HandshakeError{Status: http.StatusMethodNotAllowed, Reason: "method not allowed", Header: http.Header{"Allow": {"GET"}}}
)

// parseVersion parses "HTTP/" DIGIT "." DIGIT (RFC 9112 section 2.3).
func parseVersion(v []byte) (major, minor int, ok bool) {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9' {
		return 0, 0, false
	}
	return int(v[5] - '0'), int(v[7] - '0'), true
}

// validTarget accepts origin-form ("/p?q") and absolute-form ("http://h/p"),
// made of visible ASCII without '#': a fragment is never sent, and raw
// non-ASCII or control bytes are what request-smuggling probes are made of.
func validTarget(t []byte) bool {
	if len(t) == 0 {
		return false
	}
	for _, c := range t {
		if c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	if t[0] == '/' {
		return true
	}
	scheme, _, ok := bytes.Cut(t, []byte("://"))
	if !ok || len(scheme) == 0 {
		return false
	}
	for _, c := range scheme {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// splitTarget splits a target validTarget accepted into its path and query.
func splitTarget(uri string) (path, query string) {
	if uri[0] != '/' {
		_, rest, _ := strings.Cut(uri, "://")
		i := strings.IndexAny(rest, "/?")
		if i < 0 {
			return "/", ""
		}
		uri = rest[i:]
		if uri[0] == '?' {
			return "/", uri[1:]
		}
	}
	path, query, _ = strings.Cut(uri, "?")
	return path, query
}

// validKey reports whether key is base64 of exactly 16 bytes (RFC 6455 section
// 4.1, item 7), decoding into a stack buffer.
func validKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	var buf [18]byte
	n, err := base64.StdEncoding.Decode(buf[:], []byte(key))
	return err == nil && n == 16
}

// parseProtocols splits Sec-WebSocket-Protocol fields into their tokens,
// skipping the empty list elements RFC 9110 section 5.6.1 says to tolerate.
func parseProtocols(values []string) ([]string, bool) {
	var out []string
	for _, v := range values {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			elem = trimOWSString(elem)
			if elem == "" {
				continue
			}
			if !isTokenString(elem) {
				return nil, false
			}
			out = append(out, elem)
		}
	}
	return out, true
}

// RequestFromHTTP checks an upgrade request that net/http (or another HTTP
// server) has already parsed, with the same rules as ParseRequest, and
// returns it as a Request. method, uri, proto and host are the request line
// and Host; header holds the other fields (canonical keys, as net/http keeps
// them). The error is a *HandshakeError.
func RequestFromHTTP(method, uri, proto, host string, header http.Header) (*Request, error) {
	if method != http.MethodGet {
		return nil, &HandshakeError{Status: http.StatusMethodNotAllowed, Reason: "method is not GET", Header: http.Header{"Allow": {"GET"}}}
	}
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h["Host"] = []string{host}
	req := &Request{Method: method, URI: uri, Proto: proto, Header: h}
	req.Path, req.RawQuery = splitTarget(uri)
	if herr := req.check(); herr != nil {
		return nil, herr
	}
	return req, nil
}
