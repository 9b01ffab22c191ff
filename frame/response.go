package frame

import (
	"net/http"
	"strconv"
	"strings"
)

// Response is a parsed handshake response. Like Request it holds copies,
// aliases nothing, and is not modified after ParseResponse returns.
type Response struct {
	Status   int         // the status line's code
	Header   http.Header // every field, canonical keys
	Protocol string      // Sec-WebSocket-Protocol chosen by the server, "" if none
	Deflate  bool        // the server accepted permessage-deflate
}

// ParseResponse parses the server's answer to a request made with
// AppendRequest(..., key, ...). It cannot know whether that request offered
// permessage-deflate, so it takes an acceptance as answering AppendRequest's
// offer; a caller that did not offer it must refuse resp.Deflate, or call
// ParseResponseOffer, which does.
//
// The contract on b, max and n is ParseRequest's: n == 0 && err == nil means
// need more; n counts the head only, and b[n:] are the server's first frames.
// A 101 must carry Upgrade: websocket, Connection: upgrade and a
// Sec-WebSocket-Accept equal to AcceptKey(key). A non-101 status returns resp
// and a *HandshakeError with that Status (and the response's Header), with n
// the head's length, so the caller can read a body that follows. A 101 that
// breaks the rules returns resp and a *HandshakeError with Status 101; a head
// that cannot be parsed returns a *HandshakeError with Status 0 and no resp.
//
// Checking that resp.Protocol is one of those offered is the caller's.
func ParseResponse(b []byte, key string, max int) (resp *Response, n int, err error) {
	return ParseResponseOffer(b, key, true, max)
}

// ParseResponseOffer is ParseResponse for a caller that says whether it
// offered permessage-deflate: a server accepting an extension the client did
// not offer then fails the handshake, as RFC 6455 section 4.1 requires.
func ParseResponseOffer(b []byte, key string, deflateOffered bool, max int) (resp *Response, n int, err error) {
	if max <= 0 {
		max = DefaultMaxHeadSize
	}
	end, fields, herr := scanHead(b, max, checkStatusLine, errBadResponseField)
	switch {
	case herr != nil:
		return nil, 0, herr.clone()
	case end < 0:
		return nil, 0, &HandshakeError{Reason: "response head larger than " + strconv.Itoa(max) + " bytes"}
	case end == 0:
		return nil, 0, nil
	}
	line, h := buildHeader(b, end, fields)
	resp = &Response{Header: h}
	resp.Status, _ = strconv.Atoi(line[9:12]) // checkStatusLine vouched for 3 digits
	if resp.Status != http.StatusSwitchingProtocols {
		reason := "server refused the upgrade"
		if phrase := statusReason(line); phrase != "" {
			reason += ": " + phrase
		}
		return resp, end, &HandshakeError{Status: resp.Status, Reason: reason, Header: h}
	}
	if herr := resp.check(line[:8] == "HTTP/1.0", key, deflateOffered); herr != nil {
		herr.Status = resp.Status
		return resp, end, herr
	}
	return resp, end, nil
}

// check applies RFC 6455 section 4.1's checks of the server's 101.
func (resp *Response) check(http10 bool, key string, deflateOffered bool) *HandshakeError {
	h := resp.Header
	switch {
	case http10:
		return &HandshakeError{Reason: "101 response over HTTP/1.0"}
	case !hasToken(h["Upgrade"], "websocket"):
		return &HandshakeError{Reason: `Upgrade field lacks "websocket"`}
	case !hasToken(h["Connection"], "upgrade"):
		return &HandshakeError{Reason: `Connection field lacks "upgrade"`}
	}
	accept, ok := single(h, "Sec-Websocket-Accept")
	if !ok || accept != AcceptKey(key) {
		return &HandshakeError{Reason: "wrong Sec-WebSocket-Accept"}
	}
	if ps := h["Sec-Websocket-Protocol"]; len(ps) > 0 {
		if len(ps) != 1 || !isTokenString(ps[0]) {
			return &HandshakeError{Reason: "malformed Sec-WebSocket-Protocol"}
		}
		resp.Protocol = ps[0]
	}
	deflate, ok := checkDeflateResponse(h["Sec-Websocket-Extensions"], deflateOffered)
	if !ok {
		return &HandshakeError{Reason: "unacceptable Sec-WebSocket-Extensions"}
	}
	resp.Deflate = deflate
	return nil
}

var errBadResponseField = &HandshakeError{Reason: "malformed header line in response"}

// checkStatusLine validates "HTTP/1.1 101 Switching Protocols". The reason
// phrase may be empty or missing. Before the line is complete, only its
// "HTTP/" prefix can be judged.
func checkStatusLine(line []byte, complete bool) *HandshakeError {
	const prefix = "HTTP/"
	if n := min(len(line), len(prefix)); string(line[:n]) != prefix[:n] {
		return errMalformedStatusLine
	}
	if !complete {
		return nil
	}
	if len(line) < 12 || (len(line) > 12 && line[12] != ' ') || line[8] != ' ' {
		return errMalformedStatusLine
	}
	major, _, ok := parseVersion(line[:8])
	if !ok || major != 1 {
		return errMalformedStatusLine
	}
	code := line[9:12]
	for _, c := range code {
		if c < '0' || c > '9' {
			return errMalformedStatusLine
		}
	}
	if code[0] == '0' {
		return errMalformedStatusLine
	}
	for _, c := range line[12:] {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return errMalformedStatusLine
		}
	}
	return nil
}

var errMalformedStatusLine = &HandshakeError{Reason: "malformed status line"}

// statusReason returns the reason phrase of a status line checkStatusLine
// accepted.
func statusReason(line string) string {
	if len(line) <= 13 {
		return ""
	}
	return strings.TrimSpace(line[13:])
}
