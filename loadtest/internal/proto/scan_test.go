package proto

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Msg
		wantErr bool
	}{
		{name: "push", in: `{"channel":"room","event":"chat.message","data":{"seq":3,"t":9},"origin":"n1"}`,
			want: Msg{Channel: b("room"), Event: b("chat.message"), Data: b(`{"seq":3,"t":9}`), Origin: b("n1")}},
		{name: "reply ok", in: `{"id":"17","event":"subscribe","ok":true}`,
			want: Msg{Reply: true, OK: true, ID: b("17"), Event: b("subscribe")}},
		{name: "reply error", in: `{"id":"1","ok":false,"code":"not_found","message":"handler x is not registered"}`,
			want: Msg{Reply: true, ID: b("1"), Code: b("not_found"), Message: b("handler x is not registered")}},
		{name: "numeric code", in: `{"id":"1","ok":false,"code":404}`,
			want: Msg{Reply: true, ID: b("1"), Code: b("404")}},
		{name: "data first, nested, spaces", in: " {\n\"data\" : [1,{\"ok\":true,\"id\":\"no\"},\"}\"] , \"event\":\"e\" } ",
			want: Msg{Event: b("e"), Data: b(`[1,{"ok":true,"id":"no"},"}"]`)}},
		{name: "null data and id", in: `{"id":null,"event":"e","data":null}`, want: Msg{Event: b("e")}},
		{name: "escaped value", in: `{"event":"a\"b","ok":true}`, want: Msg{Reply: true, OK: true, Event: b(`a\"b`), Escaped: true}},
		{name: "escaped key ignored", in: `{"\u0069d":"x","event":"e"}`, want: Msg{Event: b("e")}},
		{name: "unknown fields", in: `{"meta":{"a":[true,false,null,-1.5e3]},"event":"e"}`, want: Msg{Event: b("e")}},
		{name: "empty object", in: `{}`, want: Msg{}},
		{name: "not an object", in: `[1]`, wantErr: true},
		{name: "trailing garbage", in: `{"event":"e"}x`, wantErr: true},
		{name: "trailing comma", in: `{"event":"e",}`, wantErr: true},
		{name: "bad ok", in: `{"ok":1}`, wantErr: true},
		{name: "id not a string", in: `{"id":5}`, wantErr: true},
		{name: "unterminated", in: `{"event":"e`, wantErr: true},
		{name: "bad escape", in: `{"event":"\x"}`, wantErr: true},
		{name: "control char", in: "{\"event\":\"a\nb\"}", wantErr: true},
		{name: "bad number", in: `{"data":01}`, wantErr: true},
		{name: "unbalanced", in: `{"data":{"a":1}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Msg
			err := Scan([]byte(tt.in), &m)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !equalMsg(m, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", show(m), show(tt.want))
			}
		})
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		in   string
		key  string
		want int64
		ok   bool
	}{
		{`{"seq":12,"t":1700000000000000000}`, "t", 1700000000000000000, true},
		{`{"text":"seq","seq":-4}`, "seq", -4, true},
		{`{"a":{"seq":1},"seq":2}`, "seq", 2, true},
		{`{"seq":1.5}`, "seq", 0, false},
		{`{"seq":"1"}`, "seq", 0, false},
		{`{"t":1}`, "seq", 0, false},
		{`[1]`, "seq", 0, false},
		{`{"seq":99999999999999999999}`, "seq", 0, false},
	}
	for _, tt := range tests {
		got, ok := Int([]byte(tt.in), tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Int(%s, %q) = %d, %v; want %d, %v", tt.in, tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAppendRequestIsValidJSON(t *testing.T) {
	data := AppendStamp(nil, 7, 123, 5)
	b := AppendRequest(nil, "1", "chat.message", "ro\"om\n", data)
	var v struct {
		ID      string `json:"id"`
		Event   string `json:"event"`
		Channel string `json:"channel"`
		Data    struct {
			Seq  int64  `json:"seq"`
			T    int64  `json:"t"`
			Text string `json:"text"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if v.ID != "1" || v.Event != "chat.message" || v.Channel != "ro\"om\n" || v.Data.Seq != 7 || v.Data.T != 123 || v.Data.Text != "xxxxx" {
		t.Fatalf("round trip: %+v", v)
	}
	if b := AppendRequest(nil, "", "ping", "", nil); string(b) != `{"event":"ping"}` {
		t.Fatalf("minimal request = %s", b)
	}
}

func TestUnquote(t *testing.T) {
	var m Msg
	if err := Scan([]byte(`{"event":"caf\u00e9 \"x\""}`), &m); err != nil {
		t.Fatal(err)
	}
	s, err := Unquote(m.Event)
	if err != nil || s != `café "x"` {
		t.Fatalf("Unquote = %q, %v", s, err)
	}
}

func TestScanAllocatesNothing(t *testing.T) {
	msg := []byte(`{"channel":"room","event":"chat.message","data":{"seq":3,"t":9,"text":"hello"}}`)
	var m Msg
	allocs := testing.AllocsPerRun(100, func() {
		_ = Scan(msg, &m)
		_, _ = Int(m.Data, "t")
	})
	if allocs != 0 {
		t.Fatalf("Scan allocates %v times per message", allocs)
	}
}

// FuzzScan checks Scan against encoding/json: Scan never accepts text that is
// not JSON, and on any JSON object whose keys encoding/json would read the
// same way, Scan accepts exactly when our fields have their types, and finds
// the same ok, event and data.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","event":"subscribe","ok":true}`,
		`{"channel":"room","event":"chat.message","data":{"seq":1,"t":2}}`,
		`{"id":"2","ok":false,"code":"bad","message":"m","data":[1,"x",{"y":null}]}`,
		`{}`, `{"a":1e5,"b":-0.5}`, `{"event":"\u00e9\n"}`, `[`, `{"ok":tru}`, `{"code":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Msg
		err := Scan(b, &m)
		if !json.Valid(b) {
			if err == nil {
				t.Fatalf("Scan accepted invalid JSON %q", b)
			}
			return
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(b, &fields) != nil || fields == nil || oddKeys(b, fields) {
			return
		}
		typed := true
		for k, v := range fields {
			switch k {
			case "id", "event", "channel", "message", "origin":
				typed = typed && (v[0] == '"' || string(v) == "null")
			case "code":
				typed = typed && v[0] != '{' && v[0] != '[' && v[0] != 't' && v[0] != 'f'
			case "ok":
				typed = typed && (string(v) == "true" || string(v) == "false")
			}
		}
		if (err == nil) != typed {
			t.Fatalf("Scan(%q) err = %v, but fields typed = %v", b, err, typed)
		}
		if err != nil {
			return
		}
		ok, hasOK := fields["ok"]
		if hasOK != m.Reply || (hasOK && (string(ok) == "true") != m.OK) {
			t.Fatalf("ok mismatch on %q", b)
		}
		if ev, has := fields["event"]; has && ev[0] == '"' && !m.Escaped && string(ev[1:len(ev)-1]) != string(m.Event) {
			t.Fatalf("event %q, want %s", m.Event, ev)
		}
		if d, has := fields["data"]; has && string(d) != "null" && string(d) != string(m.Data) {
			t.Fatalf("data %q, want %s", m.Data, d)
		}
	})
}

// oddKeys reports whether the object has keys encoding/json matches
// differently from Scan: duplicates, escaped spellings or case variants of
// ours.
func oddKeys(b []byte, fields map[string]json.RawMessage) bool {
	ours := []string{"id", "event", "ok", "data", "channel", "code", "message", "origin"}
	for k := range fields {
		for _, o := range ours {
			if k != o && strings.EqualFold(k, o) {
				return true
			}
		}
	}
	n := 0
	s := scanner{b: b}
	s.space()
	s.consume('{')
	for {
		s.space()
		_, esc, ok := s.str()
		if !ok {
			break
		}
		if esc {
			return true
		}
		n++
		s.space()
		s.consume(':')
		s.space()
		if !s.skip(0) {
			break
		}
		s.space()
		if !s.consume(',') {
			break
		}
	}
	return n != len(fields)
}

func b(s string) []byte { return []byte(s) }

func equalMsg(a, b Msg) bool {
	return a.Reply == b.Reply && a.OK == b.OK && a.Escaped == b.Escaped &&
		string(a.ID) == string(b.ID) && string(a.Event) == string(b.Event) &&
		string(a.Channel) == string(b.Channel) && string(a.Code) == string(b.Code) &&
		string(a.Message) == string(b.Message) && string(a.Origin) == string(b.Origin) &&
		string(a.Data) == string(b.Data) && (a.Data == nil) == (b.Data == nil)
}

type shown struct {
	Reply, OK, Escaped                              bool
	ID, Event, Channel, Code, Message, Origin, Data string
}

func show(m Msg) shown {
	return shown{m.Reply, m.OK, m.Escaped, string(m.ID), string(m.Event), string(m.Channel),
		string(m.Code), string(m.Message), string(m.Origin), string(m.Data)}
}

func BenchmarkScanPush(b *testing.B) {
	msg := []byte(`{"channel":"room","event":"chat.message","data":{"seq":12345,"t":1700000000000000000,"text":"hello there"}}`)
	var m Msg
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		_ = Scan(msg, &m)
		_, _ = Int(m.Data, "t")
	}
}
