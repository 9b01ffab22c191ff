package hub

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// appendValue appends v as encoding/json.Marshal would, for the values
// handlers reply with most — map[string]any, []any, strings, bools, numbers,
// json.RawMessage and nil, nested — without reflection. It reports false
// (leaving b as it was) for anything else, and the caller falls back to
// encoding/json; TestAppendValueMatchesEncodingJSON and FuzzAppendValue hold
// the output to encoding/json's byte for byte.
func appendValue(b []byte, v any, depth int) ([]byte, bool) {
	if depth > 32 {
		return b, false
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendString(b, x), true
	case bool:
		return strconv.AppendBool(b, x), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case int32:
		return strconv.AppendInt(b, int64(x), 10), true
	case uint64:
		return strconv.AppendUint(b, x, 10), true
	case float64:
		return appendFloat(b, x)
	case json.RawMessage:
		if len(x) == 0 {
			return append(b, "null"...), true // what encoding/json writes for an empty RawMessage
		}
		if !validJSON(x) {
			return b, false
		}
		return appendCompact(b, x), true
	case map[string]any:
		return appendObject(b, x, depth)
	case []any:
		if x == nil {
			return append(b, "null"...), true
		}
		start := len(b)
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendValue(b, e, depth+1); !ok {
				return b[:start], false
			}
		}
		return append(b, ']'), true
	}
	return b, false
}

func appendObject(b []byte, m map[string]any, depth int) ([]byte, bool) {
	if m == nil {
		return append(b, "null"...), true
	}
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // encoding/json sorts map keys
	start := len(b)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var ok bool
		if b, ok = appendValue(b, m[k], depth+1); !ok {
			return b[:start], false
		}
	}
	return append(b, '}'), true
}

// appendFloat formats f like encoding/json's float64 encoder.
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendCompact appends valid JSON src without insignificant white space and
// with <, >, &, U+2028 and U+2029 in strings escaped, as encoding/json does
// with a json.RawMessage inside a value it marshals.
func appendCompact(b, src []byte) []byte {
	inString, escaped := false, false
	start := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			case c == '<' || c == '>' || c == '&':
				b = append(b, src[start:i]...)
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				start = i + 1
			case c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8:
				b = append(b, src[start:i]...)
				b = append(b, '\\', 'u', '2', '0', '2', hexDigits[src[i+2]&0xf])
				i += 2
				start = i + 1
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case ' ', '\t', '\n', '\r':
			b = append(b, src[start:i]...)
			start = i + 1
		}
	}
	return append(b, src[start:]...)
}
