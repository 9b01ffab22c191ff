package hub

import (
	"encoding/json"
	"errors"
	"strconv"
)

// The protocol's envelopes have a fixed shape, so they are decoded and encoded by hand: one pass over the
// message, no reflection, and the data field kept as a sub-slice of the message (see docs/json.md for the
// benchmark that chose this over encoding/json). User data of other types goes through encoding/json.

// errSyntax is wrapped by every decode error.
var errSyntax = errors.New("malformed message")

const maxDepth = 10000 // nesting limit, as encoding/json

type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string {
	return "malformed message: " + e.msg + " at offset " + strconv.Itoa(e.off)
}
func (e *syntaxError) Unwrap() error { return errSyntax }

// decodeMessage decodes one client message into m. Keys match ASCII case-insensitively, the last of
// duplicate keys wins, unknown keys are validated and ignored (as encoding/json). m.Data aliases b.
func decodeMessage(b []byte, m *Message) error {
	s := scanner{b: b}
	s.space()
	if !s.consume('{') {
		return s.fail("expected {")
	}
	s.space()
	if !s.consume('}') {
		for {
			s.space()
			if s.peek() != '"' {
				return s.fail("expected a key")
			}
			key, esc, err := s.stringRaw()
			if err != nil {
				return err
			}
			s.space()
			if !s.consume(':') {
				return s.fail("expected :")
			}
			s.space()
			f := fieldNone
			if !esc {
				f = matchField(key)
			} else if k, err := unquote(key); err == nil {
				f = matchField([]byte(k))
			}
			switch f {
			case fieldID, fieldEvent, fieldChannel:
				var v string
				switch s.peek() {
				case '"':
					raw, esc, err := s.stringRaw()
					if err != nil {
						return err
					}
					if v, err = stringOf(raw, esc); err != nil {
						return &syntaxError{err.Error(), s.i}
					}
				case 'n':
					if !s.literal("null") {
						return s.fail("invalid literal")
					}
				default:
					if err := s.skipValue(0); err != nil {
						return err
					}
					return &syntaxError{"field " + f.String() + " must be a string", s.i}
				}
				switch f {
				case fieldID:
					m.ID = v
				case fieldEvent:
					m.Event = v
				default:
					m.Channel = v
				}
			case fieldData, fieldMeta:
				start := s.i
				if err := s.skipValue(0); err != nil {
					return err
				}
				raw := b[start:s.i:s.i]
				if string(raw) == "null" {
					raw = nil
				}
				switch {
				case f == fieldData:
					m.Data = raw
				case raw == nil:
					m.Meta = nil
				case raw[0] != '{':
					return &syntaxError{"field meta must be an object", start}
				default:
					if err := json.Unmarshal(raw, &m.Meta); err != nil {
						return &syntaxError{err.Error(), start}
					}
				}
			default:
				if err := s.skipValue(0); err != nil {
					return err
				}
			}
			s.space()
			if s.consume(',') {
				continue
			}
			if s.consume('}') {
				break
			}
			return s.fail("expected , or }")
		}
	}
	s.space()
	if s.i != len(b) {
		return s.fail("unexpected data after the message")
	}
	return nil
}

type field uint8

const (
	fieldNone field = iota
	fieldID
	fieldEvent
	fieldChannel
	fieldData
	fieldMeta
)

func (f field) String() string {
	return [...]string{"", "id", "event", "channel", "data", "meta"}[f]
}

func matchField(k []byte) field {
	switch len(k) {
	case 2:
		if eqFold(k, "id") {
			return fieldID
		}
	case 4:
		if eqFold(k, "data") {
			return fieldData
		}
		if eqFold(k, "meta") {
			return fieldMeta
		}
	case 5:
		if eqFold(k, "event") {
			return fieldEvent
		}
	case 7:
		if eqFold(k, "channel") {
			return fieldChannel
		}
	}
	return fieldNone
}

// eqFold compares k with the lower-case ASCII word w, ignoring ASCII case.
func eqFold(k []byte, w string) bool {
	for i := range k {
		if k[i]|0x20 != w[i] {
			return false
		}
	}
	return true
}
