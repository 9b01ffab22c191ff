package jsoncmp

import (
	"encoding/json"
	"strings"
	"testing"

	goccy "github.com/goccy/go-json"
	segment "github.com/segmentio/encoding/json"
)

// Copies of the hub's envelope types (hub.Message, hub.Packet, hub.Response).
type Message struct {
	ID      string          `json:"id,omitempty"`
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	Meta    map[string]any  `json:"meta,omitempty"`
}

type Packet struct {
	Channel string          `json:"channel,omitempty"`
	Event   string          `json:"event"`
	Data    json.RawMessage `json:"data,omitempty"`
	Meta    map[string]any  `json:"meta,omitempty"`
	Origin  string          `json:"origin,omitempty"`
}

type Response struct {
	ID      string         `json:"id,omitempty"`
	Event   string         `json:"event,omitempty"`
	OK      bool           `json:"ok"`
	Code    int            `json:"code,omitempty"`
	Message string         `json:"message,omitempty"`
	Data    any            `json:"data,omitempty"`
	Meta    map[string]any `json:"meta,omitempty"`
}

// The same samples as hub/json_bench_test.go.
var samples = []struct{ name, msg string }{
	{"subscribe", `{"id":"1","event":"subscribe","channel":"room:42"}`},
	{"chat", `{"id":"42","event":"chat.message","channel":"room:1","data":{"text":"hello world","user":{"id":7,"name":"ann"},"tags":["a","b"]}}`},
	{"1KiB", `{"id":"43","event":"doc.update","data":{"ops":[` + strings.Repeat(`{"op":"insert","pos":12345,"text":"lorem ipsum"},`, 20) + `{"op":"end"}]}}`},
}

var libs = []struct {
	name      string
	unmarshal func([]byte, any) error
	marshal   func(any) ([]byte, error)
}{
	{"encoding-json", json.Unmarshal, json.Marshal},
	{"goccy", goccy.Unmarshal, goccy.Marshal},
	{"segmentio", segment.Unmarshal, segment.Marshal},
}

func BenchmarkJSONDecode(b *testing.B) {
	for _, s := range samples {
		in := []byte(s.msg)
		for _, l := range libs {
			b.Run(s.name+"/"+l.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(in)))
				for b.Loop() {
					var m Message
					if err := l.unmarshal(in, &m); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

var packet = Packet{Channel: "room:1", Event: "chat.message",
	Data: json.RawMessage(`{"text":"hello world","user":{"id":7,"name":"ann"},"tags":["a","b"]}`)}

var response = Response{ID: "42", Event: "chat.message", OK: true, Data: json.RawMessage(`{"text":"hello world"}`)}

func BenchmarkJSONEncode(b *testing.B) {
	for _, l := range libs {
		b.Run("packet/"+l.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.marshal(&packet); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("response/"+l.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.marshal(&response); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The libraries must agree with encoding/json on these envelopes, or the comparison means nothing.
func TestSameResults(t *testing.T) {
	for _, s := range samples {
		var want Message
		if err := json.Unmarshal([]byte(s.msg), &want); err != nil {
			t.Fatal(err)
		}
		for _, l := range libs[1:] {
			var got Message
			if err := l.unmarshal([]byte(s.msg), &got); err != nil {
				t.Fatal(l.name, err)
			}
			if got.ID != want.ID || got.Event != want.Event || string(got.Data) != string(want.Data) {
				t.Fatalf("%s: %+v", l.name, got)
			}
		}
	}
}
