package hub

import (
	"encoding/json"
	"strings"
	"testing"
)

// The envelope codec benchmark behind the choice in docs/json.md: encoding/json against the hand-written
// decoder and encoder, on the fixed-shape envelopes with data kept raw. Third-party libraries are
// compared in the separate module internal/jsoncmp (so this module does not depend on them).
//
//	go test -run '^$' -bench JSON -benchmem ./hub/

// jsonSamples are client messages: a subscribe, a small chat message, a 1 KiB payload.
var jsonSamples = []struct{ name, msg string }{
	{"subscribe", `{"id":"1","event":"subscribe","channel":"room:42"}`},
	{"chat", `{"id":"42","event":"chat.message","channel":"room:1","data":{"text":"hello world","user":{"id":7,"name":"ann"},"tags":["a","b"]}}`},
	{"1KiB", `{"id":"43","event":"doc.update","data":{"ops":[` + strings.Repeat(`{"op":"insert","pos":12345,"text":"lorem ipsum"},`, 20) + `{"op":"end"}]}}`},
}

func BenchmarkJSONDecode(b *testing.B) {
	for _, s := range jsonSamples {
		in := []byte(s.msg)
		b.Run(s.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				var m Message
				if err := json.Unmarshal(in, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/hand", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				var m Message
				if err := decodeMessage(in, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// jsonPacket is a publish: data already encoded once (json.RawMessage), the envelope to add.
var jsonPacket = Packet{Channel: "room:1", Event: "chat.message",
	Data: json.RawMessage(`{"text":"hello world","user":{"id":7,"name":"ann"},"tags":["a","b"]}`)}

var jsonResponse = Response{ID: "42", Event: "chat.message", OK: true, Data: json.RawMessage(`{"text":"hello world"}`)}

func BenchmarkJSONEncode(b *testing.B) {
	b.Run("packet/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&jsonPacket); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("packet/hand", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			var err error
			if buf, err = appendPacket(buf[:0], &jsonPacket); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("response/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&jsonResponse); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("response/hand", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			var err error
			if buf, err = appendResponse(buf[:0], &jsonResponse); err != nil {
				b.Fatal(err)
			}
		}
	})
}
