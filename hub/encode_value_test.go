package hub

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

func TestAppendValueMatchesEncodingJSON(t *testing.T) {
	cases := []any{
		nil, "a<b>&c\u2028", true, 0, -12, int64(1 << 60), int32(-7), uint64(math.MaxUint64),
		0.0, 1.5, -2.25e-7, 1e21, 123456789.0, 1e-6, 5e-324,
		json.RawMessage(` { "x" : [1, 2 ,"<a>"], "y":"\u2028 ok" } `),
		json.RawMessage(nil),
		map[string]any{"data": json.RawMessage(`{"text":"hello"}`), "b": 1, "a": []any{"x", nil, false}},
		map[string]any{},
		[]any{},
		[]any(nil),
		map[string]any(nil),
		map[string]any{"nested": map[string]any{"z": 1.0, "k": map[string]any{"deep": "v"}}},
	}
	for _, v := range cases {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendValue(nil, v, 0)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("%#v:\n got %s (%v)\nwant %s", v, got, ok, want)
		}
	}
	// Values it does not handle fall back (and leave the buffer untouched).
	for _, v := range []any{math.NaN(), float32(1), struct{ A int }{1}, map[string]any{"ok": 1, "bad": math.Inf(1)}, json.RawMessage(`{bad`)} {
		if b, ok := appendValue([]byte("x"), v, 0); ok || string(b) != "x" {
			t.Errorf("%#v: handled (%v) or touched the buffer (%q)", v, ok, b)
		}
	}
}

func FuzzAppendValue(f *testing.F) {
	f.Add([]byte(`{"data":{"text":"hi <b>"},"n":[1,2.5,-3e-9,true,null]}`))
	f.Add([]byte(`"\u2028"`))
	f.Add([]byte(`[{"a":{"b":{"c":[]}}}, 1e300]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		if json.Unmarshal(in, &v) != nil {
			return
		}
		for _, val := range []any{v, map[string]any{"data": json.RawMessage(in), "v": v}} {
			want, err := json.Marshal(val)
			got, ok := appendValue(nil, val, 0)
			if err != nil {
				if ok {
					t.Fatalf("encoding/json fails (%v) but appendValue gave %s", err, got)
				}
				continue
			}
			if ok && !bytes.Equal(got, want) {
				t.Fatalf("input %q:\n got %s\nwant %s", in, got, want)
			}
		}
	})
}
