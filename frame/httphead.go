package frame

import (
	"bytes"
	"net/http"
	"strings"
)

// DefaultMaxHeadSize is the head limit ParseRequest and ParseResponse use when
// given max <= 0. Browsers' upgrade requests are well under 2 KiB unless they
// carry large cookies; 8 KiB matches common proxies' default limit.
const DefaultMaxHeadSize = 8 << 10

// HTTP/1.1 head syntax shared by the request and the response parsers.
//
// Lines end in CRLF or, as RFC 9112 section 2.2 allows a recipient to accept, in
// a bare LF: some hand-written clients and test tools send bare LFs, and
// accepting them costs nothing since a CR is stripped when present. A CR
// anywhere else is a control character and fails the line.

// tchar marks the bytes of an RFC 9110 token.
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isToken(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if !tchar[c] {
			return false
		}
	}
	return true
}

func isTokenString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tchar[s[i]] {
			return false
		}
	}
	return true
}

// nextLine returns the line starting at b[i] without its line ending and the
// offset just past that ending; ok is false while b holds no LF after i.
func nextLine(b []byte, i int) (line []byte, next int, ok bool) {
	j := bytes.IndexByte(b[i:], '\n')
	if j < 0 {
		return nil, i, false
	}
	line = b[i : i+j]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, i + j + 1, true
}

// splitField splits a header line into name and value and reports whether it
// is well formed. A line starting with whitespace is obs-fold and whitespace
// between name and colon is forbidden (RFC 9112 section 5.1): both are request
// smuggling vectors, so both fail rather than being repaired.
func splitField(line []byte) (name, value []byte, ok bool) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !isToken(line[:colon]) {
		return nil, nil, false
	}
	value = trimOWS(line[colon+1:])
	for _, c := range value {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return nil, nil, false
		}
	}
	return line[:colon], value, true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func trimOWSString(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// startLineCheck validates a start line. complete is false while the line's
// end has not arrived, so the check can fail garbage (a TLS hello on a plain
// port) early; it must then only reject what the complete line would reject
// with the same error, so that the result does not depend on how the bytes
// were split.
type startLineCheck func(line []byte, complete bool) *HandshakeError

// scanHead finds the end of the head at the start of b, looking at no more than
// max bytes, and validates every line as soon as it is complete. It returns the
// offset just past the blank line and the number of header fields; end == 0
// means "need more" and end < 0 means the head does not fit in max bytes.
func scanHead(b []byte, max int, start startLineCheck, badField *HandshakeError) (end, fields int, err *HandshakeError) {
	lim := min(len(b), max)
	line, i, ok := nextLine(b[:lim], 0)
	if !ok {
		if err := start(b[:lim], false); err != nil {
			return 0, 0, err
		}
		return moreOrTooBig(len(b), max), 0, nil
	}
	if err := start(line, true); err != nil {
		return 0, 0, err
	}
	for {
		line, next, ok := nextLine(b[:lim], i)
		if !ok {
			return moreOrTooBig(len(b), max), 0, nil
		}
		if len(line) == 0 {
			return next, fields, nil
		}
		if _, _, ok := splitField(line); !ok {
			return 0, 0, badField
		}
		fields++
		i = next
	}
}

func moreOrTooBig(have, max int) int {
	if have < max {
		return 0
	}
	return -1
}

// buildHeader copies the fields of a head already validated by scanHead into
// an http.Header with canonical keys. Every key and value is a substring of one
// string built here, and the value slices share one backing array, so a head
// costs a handful of allocations whatever its number of fields, and nothing in
// the result aliases b (the caller's buffer is reused for frames).
func buildHeader(b []byte, end, fields int) (startLine string, h http.Header) {
	var sb strings.Builder
	sb.Grow(end)
	first, i, _ := nextLine(b, 0)
	sb.Write(first)
	type span struct{ k0, k1, v1 int }
	var stack [32]span
	spans := stack[:0]
	for {
		line, next, _ := nextLine(b, i)
		if len(line) == 0 {
			break
		}
		name, value, _ := splitField(line)
		k0 := sb.Len()
		upper := true
		for _, c := range name {
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			} else if !upper && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			sb.WriteByte(c)
			upper = c == '-'
		}
		k1 := sb.Len()
		sb.Write(value)
		spans = append(spans, span{k0, k1, sb.Len()})
		i = next
	}
	s := sb.String()
	h = make(http.Header, fields)
	vals := make([]string, len(spans))
	for j, sp := range spans {
		k := s[sp.k0:sp.k1]
		vals[j] = s[sp.k1:sp.v1]
		if old, ok := h[k]; ok {
			h[k] = append(old, vals[j])
		} else {
			h[k] = vals[j : j+1 : j+1]
		}
	}
	return s[:len(first)], h
}

// hasToken reports whether any of the comma-separated lists in values holds
// token, compared case-insensitively as Upgrade and Connection tokens are.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(trimOWSString(elem), token) {
				return true
			}
		}
	}
	return false
}

// single returns the one value of a field that may appear only once.
func single(h http.Header, key string) (v string, ok bool) {
	vs := h[key]
	if len(vs) != 1 {
		return "", false
	}
	return vs[0], true
}
