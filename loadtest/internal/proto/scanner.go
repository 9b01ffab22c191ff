package proto

import "encoding/json"

// maxDepth bounds nesting so a hostile message cannot exhaust the stack.
const maxDepth = 512

// scanner is a cursor over one JSON text. Its methods return false (or
// ErrSyntax) on malformed input and never read past the end.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
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

func (s *scanner) consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end accepts only trailing whitespace after the top-level value.
func (s *scanner) end() error {
	s.space()
	if s.i != len(s.b) {
		return ErrSyntax
	}
	return nil
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// str reads a string and returns its raw contents (between the quotes) and
// whether it contains escapes. Escapes are checked, control characters
// rejected; UTF-8 is the transport's business (the WebSocket layer checks
// text frames).
func (s *scanner) str() (raw []byte, escaped, ok bool) {
	if !s.consume('"') {
		return nil, false, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i:s.i]
			s.i++
			return raw, escaped, true
		case c == '\\':
			escaped = true
			s.i++
			if s.i >= len(s.b) {
				return nil, false, false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.b)-s.i < 5 || !isHex4(s.b[s.i+1:s.i+5]) {
					return nil, false, false
				}
				s.i += 5
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		default:
			s.i++
		}
	}
	return nil, false, false
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// number reads a JSON number with its exact grammar.
func (s *scanner) number() bool {
	start := s.i
	s.consume('-')
	switch {
	case s.consume('0'):
	case s.digits() > 0:
	default:
		s.i = start
		return false
	}
	if s.consume('.') && s.digits() == 0 {
		return false
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// skip moves past one value of any type.
func (s *scanner) skip(depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch s.peek() {
	case '"':
		_, _, ok := s.str()
		return ok
	case '{':
		return s.skipComposite('}', depth, true)
	case '[':
		return s.skipComposite(']', depth, false)
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

func (s *scanner) skipComposite(closer byte, depth int, object bool) bool {
	s.i++
	s.space()
	if s.consume(closer) {
		return true
	}
	for {
		s.space()
		if object {
			if _, _, ok := s.str(); !ok {
				return false
			}
			s.space()
			if !s.consume(':') {
				return false
			}
			s.space()
		}
		if !s.skip(depth + 1) {
			return false
		}
		s.space()
		if s.consume(',') {
			continue
		}
		return s.consume(closer)
	}
}

func unquoteJSON(q []byte) (string, error) {
	var v string
	err := json.Unmarshal(q, &v)
	return v, err
}
