package hub

import (
	"encoding/json"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/surge-ws/ws/frame"
)

// encodeBuf pools the scratch buffers envelopes are encoded into; frame.NewPrepared copies out of them.
var encodeBuf = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledBuf = 64 << 10

func getBuf() *[]byte { return encodeBuf.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		*b = (*b)[:0]
		encodeBuf.Put(b)
	}
}

// marshalData encodes a data value once: nil stays nil, json.RawMessage is validated and kept as is
// (no copy), anything else is encoded by appendEncoded.
func marshalData(v any) (json.RawMessage, error) {
	switch d := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return checkRaw(d)
	}
	return appendEncoded(nil, v)
}

// appendData appends `,"data":` and v encoded as marshalData would, straight
// into b (a reply's data needs no buffer of its own); nothing when v encodes
// to no data.
func appendData(b []byte, v any) ([]byte, error) {
	switch d := v.(type) {
	case nil:
		return b, nil
	case json.RawMessage:
		raw, err := checkRaw(d)
		if err != nil || raw == nil {
			return b, err
		}
		return append(append(b, `,"data":`...), raw...), nil
	}
	start := len(b)
	out, err := appendEncoded(append(b, `,"data":`...), v)
	if err != nil {
		return b[:start], err
	}
	return out, nil
}

// checkRaw applies the rule for json.RawMessage data: empty is no data, and
// anything else must be valid JSON.
func checkRaw(d json.RawMessage) (json.RawMessage, error) {
	if len(d) == 0 {
		return nil, nil
	}
	if !validJSON(d) {
		return nil, ErrInvalidJSON
	}
	return d, nil
}

// appendEncoded appends v as encoding/json.Marshal would: by hand for the
// common shapes (appendValue), through encoding/json for the rest.
func appendEncoded(b []byte, v any) ([]byte, error) {
	if out, ok := appendValue(b, v, 0); ok {
		return out, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, raw...), nil
}

// preparePacket encodes p as a text frame, once, for any number of clients.
func preparePacket(p *Packet) (*frame.Prepared, error) {
	bp := getBuf()
	b, err := appendPacket((*bp)[:0], p)
	if err != nil {
		putBuf(bp)
		return nil, err
	}
	f := frame.NewPrepared(frame.OpText, b)
	*bp = b
	putBuf(bp)
	return f, nil
}

// sendResponse encodes r and writes it to c alone. Nothing of it outlives the call: the encoding
// buffer is pooled and the transport copies the frame (into a pooled buffer of its own), so a reply
// allocates nothing here. An encoding error comes back before anything is written.
func sendResponse(c *Client, r *Response) (encErr, writeErr error) {
	bp := getBuf()
	b, err := appendResponse((*bp)[:0], r)
	if err == nil {
		c.hub.countReply(c, r.Code)
		writeErr = c.writeText(b)
	}
	*bp = b
	putBuf(bp)
	return err, writeErr
}

// appendPacket appends the client wire form of p: {"channel"?,"event","data"?,"meta"?}. Origin is left
// out (it is the node's name, for the cluster only). p.Data must be valid JSON.
func appendPacket(b []byte, p *Packet) ([]byte, error) {
	b = append(b, '{')
	if p.Channel != "" {
		b = append(b, `"channel":`...)
		b = appendString(b, p.Channel)
		b = append(b, ',')
	}
	b = append(b, `"event":`...)
	b = appendString(b, p.Event)
	if len(p.Data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, p.Data...)
	}
	if len(p.Meta) > 0 {
		m, err := json.Marshal(p.Meta)
		if err != nil {
			return b, err
		}
		b = append(b, `,"meta":`...)
		b = append(b, m...)
	}
	return append(b, '}'), nil
}

// appendResponse appends {"id"?,"event"?,"ok","code"?,"message"?,"data"?,"meta"?}.
func appendResponse(b []byte, r *Response) ([]byte, error) {
	b = append(b, '{')
	if r.ID != "" {
		b = append(b, `"id":`...)
		b = appendString(b, r.ID)
		b = append(b, ',')
	}
	if r.Event != "" {
		b = append(b, `"event":`...)
		b = appendString(b, r.Event)
		b = append(b, ',')
	}
	if r.OK {
		b = append(b, `"ok":true`...)
	} else {
		b = append(b, `"ok":false`...)
	}
	if r.Code != 0 {
		b = append(b, `,"code":`...)
		b = strconv.AppendInt(b, int64(r.Code), 10)
	}
	if r.Message != "" {
		b = append(b, `,"message":`...)
		b = appendString(b, r.Message)
	}
	if r.Data != nil {
		var err error
		if b, err = appendData(b, r.Data); err != nil {
			return b, err
		}
	}
	if len(r.Meta) > 0 {
		m, err := json.Marshal(r.Meta)
		if err != nil {
			return b, err
		}
		b = append(b, `,"meta":`...)
		b = append(b, m...)
	}
	return append(b, '}'), nil
}

// errorData is the data of an "error" packet: {"event"?,"code","message"}.
func errorData(event string, code int, message string) json.RawMessage {
	b := make([]byte, 0, 32+len(event)+len(message))
	b = append(b, '{')
	if event != "" {
		b = append(b, `"event":`...)
		b = appendString(b, event)
		b = append(b, ',')
	}
	b = append(b, `"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// safeASCII marks the ASCII bytes that need no escape: as encoding/json's HTML-safe set (", \, control
// characters, <, > and & are escaped).
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return
}()

// appendString appends s as a JSON string exactly as encoding/json.Marshal would: HTML-safe, invalid
// UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
