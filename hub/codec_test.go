package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeMessage(t *testing.T) {
	tests := []struct {
		in   string
		want Message
		err  bool
	}{
		{in: `{"id":"1","event":"subscribe","channel":"room"}`, want: Message{ID: "1", Event: "subscribe", Channel: "room"}},
		{in: ` { "event" : "e" , "data" : { "a" : [1, 2.5e3, -0, true, false, null, "x"] } } `,
			want: Message{Event: "e", Data: json.RawMessage(`{ "a" : [1, 2.5e3, -0, true, false, null, "x"] }`)}},
		{in: `{"event":"e","data":null,"meta":null}`, want: Message{Event: "e"}},
		{in: `{"event":"e","meta":{"k":"v","n":1}}`, want: Message{Event: "e", Meta: map[string]any{"k": "v", "n": 1.0}}},
		{in: `{"EVENT":"e","Id":"1","unknown":{"x":[{}]}}`, want: Message{ID: "1", Event: "e"}},
		{in: `{"event":"a","event":"b"}`, want: Message{Event: "b"}},
		{in: `{"event":"\u00e9\ud83d\ude00\n\"\\\/"}`, want: Message{Event: "é😀\n\"\\/"}},
		{in: `{"event":"\ud800x"}`, want: Message{Event: "\ufffdx"}},
		{in: "{\"event\":\"a\xffb\"}", want: Message{Event: "a\ufffdb"}},
		{in: `{"\u0065vent":"e"}`, want: Message{Event: "e"}},
		{in: `{"id":null,"event":"e"}`, want: Message{Event: "e"}},
		{in: `{}`, want: Message{}},
		{in: `{"data":"s"}`, want: Message{Data: json.RawMessage(`"s"`)}},
		{in: ``, err: true},
		{in: `[]`, err: true},
		{in: `{"event":"e"`, err: true},
		{in: `{"event":"e",}`, err: true},
		{in: `{"event":1}`, err: true},
		{in: `{"id":2,"event":"e"}`, err: true},
		{in: `{"event":"e"} x`, err: true},
		{in: `{"event":"e","data":01}`, err: true},
		{in: `{"event":"e","data":1.}`, err: true},
		{in: `{"event":"e","data":tru}`, err: true},
		{in: `{"event":"e","data":"\x"}`, err: true},
		{in: `{"event":"e","data":"\u12"}`, err: true},
		{in: "{\"event\":\"a\nb\"}", err: true},
		{in: `{"event":"e","meta":[1]}`, err: true},
		{in: `{"event":"e","data":[1,]}`, err: true},
		{in: `{"event":"e","data":{"a"}}`, err: true},
		{in: `{"event":"e","data":` + strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2) + `}`, err: true},
	}
	for _, tc := range tests {
		name := tc.in
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			var m Message
			err := decodeMessage([]byte(tc.in), &m)
			if tc.err {
				if err == nil || !errors.Is(err, errSyntax) {
					t.Fatalf("want a syntax error, got %v (%+v)", err, m)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, tc.want) {
				t.Fatalf("got %+v\nwant %+v", m, tc.want)
			}
		})
	}
}

func TestEncodeMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `quote " back \ slash`, "<html>&", "ctl \x00\x01\x1f\t\n\r\b\f", "é😀", "bad \xff utf8",
		"\u2028\u2029", strings.Repeat("x", 300)}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
	responses := []Response{
		{ID: "1", Event: "e", OK: true},
		{ID: "2", Event: "e<", OK: false, Code: 400, Message: "bad \"x\""},
		{OK: true, Data: map[string]any{"a": []int{1, 2}}, Meta: map[string]any{"m": 1}},
		{Event: "ping", OK: true, Data: json.RawMessage(`{"event":"pong"}`)},
		{OK: true, Data: "str"},
		{OK: true, Data: 3.5},
		{ID: "e1", Event: "echo", OK: true, Data: map[string]any{"data": json.RawMessage(`{"seq": 1, "s":"<b>"}`)}},
		{OK: true, Data: struct{ X int }{1}},
		{OK: true, Data: []any(nil)},
	}
	for _, r := range responses {
		want, _ := json.Marshal(r)
		got, err := appendResponse(nil, &r)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("appendResponse(%+v) = %s %v, want %s", r, got, err, want)
		}
	}
	packets := []Packet{
		{Event: "e"},
		{Channel: "room:1", Event: "chat", Data: json.RawMessage(`{"text":"hi"}`), Meta: map[string]any{"k": "v"}},
	}
	for _, p := range packets {
		want, _ := json.Marshal(p)
		got, err := appendPacket(nil, &p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("appendPacket(%+v) = %s %v, want %s", p, got, err, want)
		}
	}
	// Origin stays in the cluster.
	got, _ := appendPacket(nil, &Packet{Event: "e", Origin: "node-1"})
	if string(got) != `{"event":"e"}` {
		t.Fatal(string(got))
	}
	if _, err := appendResponse(nil, &Response{Data: make(chan int)}); err == nil {
		t.Fatal("unencodable data accepted")
	}
}

// FuzzDecodeMessage checks the hand decoder against encoding/json: the same inputs are accepted and
// give the same message.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","event":"subscribe","channel":"room"}`,
		`{"id":"2","event":"echo","data":{"text":"hello","n":[1,2.5,-3e-2,true,null]}}`,
		`{"event":"e","meta":{"a":{"b":1}}}`,
		`{"event":"\u00e9\ud83d\ude00\"\\"}`,
		`{"event":"e","data":"\ud800"}`,
		`{"Event":"e","x":[{},[]]}`,
		`{"event":1}`, `{"event":"e",}`, `[`, `"x"`, `{"data":01}`, ` null `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Message
		err := decodeMessage(b, &got)
		var want Message
		stdErr := json.Unmarshal(b, &want)
		if hasNonASCIIKeyFold(b) {
			return // encoding/json also folds some non-ASCII letters (K, ſ) into key names
		}
		if string(bytes.TrimSpace(b)) == "null" {
			// encoding/json takes a top-level null as "leave the struct alone"; a null is no
			// message, and the hub answers it as malformed.
			if err == nil {
				t.Fatalf("input %q accepted as a message", b)
			}
			return
		}
		if (err == nil) != (stdErr == nil) {
			// encoding/json reports a type error for a non-string id/event/channel but keeps decoding;
			// both reject the message, which is what matters.
			t.Fatalf("input %q: hand err %v, encoding/json err %v", b, err, stdErr)
		}
		if err != nil {
			return
		}
		if string(want.Data) == "null" {
			want.Data = nil
		}
		if want.Data != nil {
			want.Data = bytes.TrimSpace(want.Data)
		}
		if got.ID != want.ID || got.Event != want.Event || got.Channel != want.Channel ||
			!bytes.Equal(got.Data, want.Data) || !reflect.DeepEqual(got.Meta, want.Meta) {
			t.Fatalf("input %q:\nhand %+v\nstd  %+v", b, got, want)
		}
		if got.Data != nil && !json.Valid(got.Data) {
			t.Fatalf("invalid data kept: %q", got.Data)
		}
	})
}

func hasNonASCIIKeyFold(b []byte) bool {
	l := bytes.ToLower(b)
	return bytes.ContainsAny(b, "\u212a\u017f") || bytes.Contains(l, []byte(`\u212a`)) || bytes.Contains(l, []byte(`\u017f`))
}
