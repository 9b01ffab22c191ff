package proto

import (
	"errors"
	"strconv"
)

// ErrSyntax is returned for a message that is not one JSON object.
var ErrSyntax = errors.New("proto: malformed message")

// Msg is the top level of one server message, as Scan found it. String fields
// hold the raw contents between the quotes (escapes left as they are; see
// Escaped); Data holds the raw JSON value. All alias the scanned bytes.
type Msg struct {
	// Reply is true when the message has an "ok" field: it answers a request
	// that carried an id. Pushed packets have no "ok".
	Reply bool
	OK    bool

	ID, Event, Channel, Code, Message, Origin []byte
	// Data is the raw "data" value (nil when absent or null).
	Data []byte
	// Escaped is true when one of the string fields above contained a
	// backslash escape: compare it with Unquote, not byte for byte.
	Escaped bool
}

// Scan reads the top-level fields of one JSON object into m (which it resets).
// Unknown fields are skipped; nested values are checked only for balance and
// string syntax, which is all a scanner that must not decode needs. Keys are
// matched exactly (the hub writes them in lower case).
func Scan(b []byte, m *Msg) error {
	*m = Msg{}
	s := scanner{b: b}
	s.space()
	if !s.consume('{') {
		return ErrSyntax
	}
	s.space()
	if s.consume('}') {
		return s.end()
	}
	for {
		s.space()
		key, kesc, ok := s.str()
		if !ok {
			return ErrSyntax
		}
		s.space()
		if !s.consume(':') {
			return ErrSyntax
		}
		s.space()
		if kesc {
			// A key spelled with escapes is none of ours.
			key = nil
		}
		switch string(key) {
		case "id", "event", "channel", "code", "message", "origin":
			if err := s.stringField(m, key); err != nil {
				return err
			}
		case "ok":
			m.Reply = true
			switch {
			case s.literal("true"):
				m.OK = true
			case s.literal("false"):
			default:
				return ErrSyntax
			}
		case "data":
			start := s.i
			if !s.skip(0) {
				return ErrSyntax
			}
			if raw := b[start:s.i:s.i]; string(raw) != "null" {
				m.Data = raw
			}
		default:
			if !s.skip(0) {
				return ErrSyntax
			}
		}
		s.space()
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return s.end()
		}
		return ErrSyntax
	}
}

// stringField stores a string (or null) value into the field named key. The
// hub sends "code" as a string; a number is accepted too, kept raw.
func (s *scanner) stringField(m *Msg, key []byte) error {
	var v []byte
	switch s.peek() {
	case '"':
		raw, esc, ok := s.str()
		if !ok {
			return ErrSyntax
		}
		v = raw
		m.Escaped = m.Escaped || esc
	case 'n':
		if !s.literal("null") {
			return ErrSyntax
		}
	default:
		start := s.i
		if string(key) != "code" || !s.number() {
			return ErrSyntax
		}
		v = s.b[start:s.i:s.i]
	}
	switch string(key) {
	case "id":
		m.ID = v
	case "event":
		m.Event = v
	case "channel":
		m.Channel = v
	case "code":
		m.Code = v
	case "message":
		m.Message = v
	default:
		m.Origin = v
	}
	return nil
}

// Int returns the integer value of the top-level key in the JSON object obj
// (the "data" of a message). ok is false when obj is not an object, the key is
// missing or its value is not an integer that fits in int64.
func Int(obj []byte, key string) (v int64, ok bool) {
	s := scanner{b: obj}
	s.space()
	if !s.consume('{') {
		return 0, false
	}
	for {
		s.space()
		if s.consume('}') {
			return 0, false
		}
		k, esc, good := s.str()
		if !good {
			return 0, false
		}
		s.space()
		if !s.consume(':') {
			return 0, false
		}
		s.space()
		if !esc && string(k) == key {
			start := s.i
			if !s.number() {
				return 0, false
			}
			n, err := strconv.ParseInt(string(obj[start:s.i]), 10, 64)
			if err != nil {
				return 0, false
			}
			return n, true
		}
		if !s.skip(0) {
			return 0, false
		}
		s.space()
		if !s.consume(',') && s.peek() != '}' {
			return 0, false
		}
	}
}

// Unquote decodes the raw contents of a JSON string (as Scan returns them).
func Unquote(raw []byte) (string, error) {
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	return unquoteJSON(q)
}
