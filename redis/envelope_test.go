package wsredis

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/surge-ws/ws/hub"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	wire := []byte(`{"channel":"room","event":"chat","data":{"text":"hé \"x\""},"meta":{"k":1}}`)
	p := hub.Packet{Channel: "room", Event: "chat", Data: []byte(`{"text":"hé \"x\""}`), Encoded: wire}
	off, n := dataSpan(&p)
	tests := []struct {
		name string
		e    envelope
	}{
		{"packet", envelope{kind: kindPacket, stream: 1 << 62, seq: 7, origin: "node-1", channel: "room",
			event: "chat", dataOff: off, dataLen: n, wire: wire}},
		{"broadcast without data", envelope{kind: kindPacket, seq: 1, origin: "n", event: "e", wire: []byte(`{"event":"e"}`)}},
		{"kick", envelope{kind: kindCommand, seq: 2, origin: "n", op: hub.CommandKick,
			ids: []string{"a", "", "0123456789abcdef-1"}, reason: "bye"}},
		{"send", envelope{kind: kindCommand, seq: 3, origin: "n", event: "e", op: hub.CommandSend,
			ids: []string{"u"}, dataOff: 19, dataLen: 1, wire: []byte(`{"event":"e","data":1}`)}},
		{"kick channel", envelope{kind: kindCommand, seq: 4, origin: "n", channel: "room", op: hub.CommandKickChannel, reason: "r"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := appendEnvelope([]byte("junk"), &tc.e)
			var got envelope
			if err := parseEnvelope(b[4:], &got); err != nil {
				t.Fatal(err)
			}
			if len(got.wire) == 0 {
				got.wire = nil
			}
			if !reflect.DeepEqual(got, tc.e) {
				t.Fatalf("got %+v\nwant %+v", got, tc.e)
			}
		})
	}
	if string(p.Encoded[off:off+n]) != string(p.Data) {
		t.Fatalf("data span %d+%d is %q", off, n, p.Encoded[off:off+n])
	}
	var e envelope
	_ = parseEnvelope(appendEnvelope(nil, &tests[0].e), &e)
	got := e.packet()
	if got.Channel != "room" || got.Event != "chat" || string(got.Data) != string(p.Data) ||
		!bytes.Equal(got.Encoded, wire) || got.Origin != "node-1" {
		t.Fatalf("packet %+v", got)
	}
}

// A channel or event that contains `,"data":` cannot fool dataSpan: inside a JSON string the quote is
// escaped.
func TestDataSpanIgnoresStrings(t *testing.T) {
	wire := []byte(`{"channel":",\"data\":1","event":"e","data":2}`)
	p := hub.Packet{Channel: `,"data":1`, Event: "e", Data: []byte("2"), Encoded: wire}
	off, n := dataSpan(&p)
	if string(wire[off:off+n]) != "2" {
		t.Fatalf("span %d+%d", off, n)
	}
	p.Data = []byte("3") // not what the wire holds: no span rather than a wrong one
	if _, n := dataSpan(&p); n != 0 {
		t.Fatal("span of data that is not in the wire form")
	}
}

func TestParseEnvelopeRejects(t *testing.T) {
	good := appendEnvelope(nil, &envelope{kind: kindCommand, seq: 1, origin: "n", op: hub.CommandKick,
		ids: []string{"abc"}, reason: "r", dataOff: 1, dataLen: 1, wire: []byte("xyz")})
	for i := range len(good) - 3 { // every truncation before the wire bytes fails
		var e envelope
		if err := parseEnvelope(good[:i], &e); err == nil {
			t.Fatalf("truncated at %d parsed: %+v", i, e)
		}
	}
	bad := [][]byte{
		{2, kindPacket, 0, 0, 0, 0, 0, 0, 0, 0},                                  // version
		{envelopeVersion, 9, 0, 0, 0, 0, 0, 0, 0},                                // kind
		{envelopeVersion, kindPacket, 0, 0, 0, 0, 0, 5, 1, 'x'},                  // data outside the wire
		{envelopeVersion, kindCommand, 0, 0, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0x7f}, // ids count
	}
	for _, b := range bad {
		var e envelope
		if err := parseEnvelope(b, &e); err == nil {
			t.Fatalf("%v parsed: %+v", b, e)
		}
	}
}

func TestClientCodec(t *testing.T) {
	at := time.UnixMilli(1764700000123)
	for _, info := range []hub.ClientInfo{
		{UserID: "u1", Name: "Ann", Channels: []string{"a", "room"}, Connected: at, IP: "127.0.0.1"},
		{Connected: at, IP: "2001:db8::1"},
		{Connected: at, IP: "not-an-ip"},
		{Connected: at, IP: ""},
	} {
		var got hub.ClientInfo
		if !decodeClient(encodeClient(&info), &got) {
			t.Fatalf("%+v does not decode", info)
		}
		if got.UserID != info.UserID || got.Name != info.Name || !reflect.DeepEqual(got.Channels, info.Channels) ||
			!got.Connected.Equal(info.Connected) || got.IP != info.IP {
			t.Fatalf("got %+v want %+v", got, info)
		}
		if chans := channelsOf(encodeClient(&info)); !reflect.DeepEqual(chans, info.Channels) {
			t.Fatalf("channelsOf: %q, want %q", chans, info.Channels)
		}
	}
	if v := encodeClient(&hub.ClientInfo{UserID: "user-1234", Name: "Someone", Channels: []string{"room"},
		Connected: at, IP: "10.1.2.3"}); len(v) > 40 {
		t.Fatalf("a typical client's value is %d bytes", len(v))
	}
	for _, tc := range []struct{ address, id string }{
		{"0123456789abcdef-", "0123456789abcdef-1a"},
		{"0123456789abcdef-", "fedcba9876543210-1"},
		{"0123456789abcdef-", "0123456789abcdef-!x"},
		{"", "x"},
	} {
		if got := clientID(tc.address, clientField(tc.address, tc.id)); got != tc.id {
			t.Fatalf("%q under %q comes back as %q", tc.id, tc.address, got)
		}
	}
	if f := clientField("0123456789abcdef-", "0123456789abcdef-1a"); f != "1a" {
		t.Fatalf("field %q", f)
	}
}

// FuzzParseEnvelope: no input panics or reads out of bounds; whatever parses encodes back to bytes
// that parse to the same envelope.
func FuzzParseEnvelope(f *testing.F) {
	f.Add(appendEnvelope(nil, &envelope{kind: kindPacket, stream: 9, seq: 1, origin: "n", channel: "c", event: "e",
		dataOff: 8, dataLen: 1, wire: []byte(`{"event":"e","data":1}`)}))
	f.Add(appendEnvelope(nil, &envelope{kind: kindCommand, seq: 2, origin: "n", op: hub.CommandKick,
		ids: []string{"a", "b"}, reason: "bye"}))
	f.Add([]byte{envelopeVersion, kindCommand, 0, 0, 0, 0, 0, 1, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e envelope
		if parseEnvelope(b, &e) != nil {
			return
		}
		if e.dataLen > 0 {
			_ = e.packet().Data[e.dataLen-1]
		}
		_ = e.command()
		var again envelope
		if err := parseEnvelope(appendEnvelope(nil, &e), &again); err != nil {
			t.Fatalf("re-encoded envelope does not parse: %v", err)
		}
		if len(e.wire) == 0 {
			e.wire = nil
		}
		if len(again.wire) == 0 {
			again.wire = nil
		}
		if len(e.ids) == 0 {
			e.ids = nil
		}
		if !reflect.DeepEqual(e, again) {
			t.Fatalf("%+v\nbecame %+v", e, again)
		}
	})
}

// FuzzDecodeClient: a presence value from Redis never panics the reader, and
// channelsOf reads the same channels as decodeClient from any value that decodes.
func FuzzDecodeClient(f *testing.F) {
	f.Add(encodeClient(&hub.ClientInfo{UserID: "u", Channels: []string{"a"}, IP: "::1"}))
	f.Add("\x01\x00\x04abc")
	f.Fuzz(func(t *testing.T, v string) {
		var info hub.ClientInfo
		chans := channelsOf(v)
		if decodeClient(v, &info) && len(info.Channels) > 0 && !reflect.DeepEqual(chans, info.Channels) {
			t.Fatalf("channelsOf %q, decodeClient %q", chans, info.Channels)
		}
	})
}

// A receiver drops an envelope it has had (go-redis sent a pipeline again), counts holes in a
// sender's numbers as gaps, and starts afresh with a sender's new stream.
func TestReceiveDropsRepeatsAndCountsGaps(t *testing.T) {
	b := &RedisBroker{}
	var got []uint64
	s := &subscription{b: b, m: hub.Member{Node: "B", Packet: func(p hub.Packet) error {
		got = append(got, uint64(p.Data[0]-'0'))
		return nil
	}}, seen: map[string]map[string]position{}}
	send := func(stream, seq uint64) {
		d := []byte{byte('0' + seq%10)}
		e := envelope{kind: kindPacket, stream: stream, seq: seq, origin: "A", event: "e",
			dataOff: 20, dataLen: 1, wire: append([]byte(`{"event":"e","data":`), append(d, '}')...)}
		s.receive("ws:h", string(appendEnvelope(nil, &e)))
	}
	send(7, 1)
	send(7, 2)
	send(7, 2) // repeated
	send(7, 1) // repeated
	send(7, 5) // 3 and 4 lost
	send(8, 1) // the sender started again
	send(8, 2)
	st := b.Stats()
	if !slices.Equal(got, []uint64{1, 2, 5, 1, 2}) || st.Duplicates != 2 || st.Gaps != 2 || st.Received != 5 {
		t.Fatalf("delivered %v, stats %+v", got, st)
	}
	s.receive("ws:h", "not an envelope")
	if b.Stats().Malformed != 1 {
		t.Fatal("malformed not counted")
	}
}
