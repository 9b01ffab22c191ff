package hub

import "unicode/utf8"

// A JSON scanner over one message: validates and skips values, scans strings, unescapes them.

type scanner struct {
	b []byte
	i int
}

func (s *scanner) fail(msg string) error { return &syntaxError{msg, s.i} }

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) literal(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// stringRaw scans the string at s.i (which is '"') and returns its bytes between the quotes and
// whether it has escapes. Escapes are validated.
func (s *scanner) stringRaw() (raw []byte, esc bool, err error) {
	s.i++
	start := s.i
	b := s.b
	for i := s.i; i < len(b); {
		for i < len(b) && plainStringByte[b[i]] { // the common case: no quote, escape or control
			i++
		}
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return b[start:i], esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				s.i = i
				return nil, false, s.fail("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					s.i = i
					return nil, false, s.fail("invalid \\u escape")
				}
				i += 6
			default:
				s.i = i
				return nil, false, s.fail("invalid escape")
			}
		default:
			s.i = i
			return nil, false, s.fail("control character in string")
		}
	}
	s.i = len(b)
	return nil, false, s.fail("unterminated string")
}

// plainStringByte marks the bytes a string scan passes over: all but '"', '\\' and control characters.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f') {
			return false
		}
	}
	return true
}

// skipValue scans and validates one JSON value.
func (s *scanner) skipValue(depth int) error {
	if depth > maxDepth {
		return s.fail("exceeded max depth")
	}
	switch c := s.peek(); {
	case c == '"':
		_, _, err := s.stringRaw()
		return err
	case c == '{':
		s.i++
		s.space()
		if s.consume('}') {
			return nil
		}
		for {
			s.space()
			if s.peek() != '"' {
				return s.fail("expected a key")
			}
			if _, _, err := s.stringRaw(); err != nil {
				return err
			}
			s.space()
			if !s.consume(':') {
				return s.fail("expected :")
			}
			s.space()
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			s.space()
			if s.consume(',') {
				continue
			}
			if s.consume('}') {
				return nil
			}
			return s.fail("expected , or }")
		}
	case c == '[':
		s.i++
		s.space()
		if s.consume(']') {
			return nil
		}
		for {
			s.space()
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			s.space()
			if s.consume(',') {
				continue
			}
			if s.consume(']') {
				return nil
			}
			return s.fail("expected , or ]")
		}
	case c == 't':
		if s.literal("true") {
			return nil
		}
	case c == 'f':
		if s.literal("false") {
			return nil
		}
	case c == 'n':
		if s.literal("null") {
			return nil
		}
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return s.fail("invalid value")
}

func (s *scanner) number() error {
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.i = i
		return s.fail("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return s.fail("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return s.fail("invalid number")
		}
	}
	s.i = i
	return nil
}

// validJSON reports whether b is exactly one JSON value (surrounding white space allowed).
func validJSON(b []byte) bool {
	s := scanner{b: b}
	s.space()
	if s.skipValue(0) != nil {
		return false
	}
	s.space()
	return s.i == len(b)
}

// stringOf converts the raw bytes of a string (between the quotes) to its value. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func stringOf(raw []byte, esc bool) (string, error) {
	if !esc && utf8.Valid(raw) {
		return string(raw), nil
	}
	return unquote(raw)
}

// unquote decodes the escapes of a validated string body.
func unquote(raw []byte) (string, error) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c == '\\' {
			switch raw[i+1] {
			case '"', '\\', '/':
				out = append(out, raw[i+1])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(raw[i+2:])
				i += 6
				if utf16IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						r2 = hex4(raw[i+2:])
					}
					if dec := utf16Decode(r, r2); dec != utf8.RuneError {
						i += 6
						out = utf8.AppendRune(out, dec)
						continue
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				continue
			}
			i += 2
			continue
		}
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(raw[i:])
		out = utf8.AppendRune(out, r) // RuneError for invalid bytes
		i += size
	}
	return string(out), nil
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

func utf16IsSurrogate(r rune) bool { return r >= 0xd800 && r < 0xe000 }

func utf16Decode(r1, r2 rune) rune {
	if r1 >= 0xd800 && r1 < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000 {
		return (r1-0xd800)<<10 | (r2 - 0xdc00) + 0x10000
	}
	return utf8.RuneError
}
