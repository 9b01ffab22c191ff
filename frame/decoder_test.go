package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

var testMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// fr is a frame fixture: a client's (masked) frame unless unmasked is set.
type fr struct {
	fin      bool
	rsv      byte
	op       OpCode
	payload  string
	unmasked bool
}

func (f fr) bytes() []byte {
	var m *[4]byte
	if !f.unmasked {
		m = &testMask
	}
	return AppendFrame(nil, f.fin, f.op, f.rsv, []byte(f.payload), m)
}

func stream(frames ...fr) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, f.bytes()...)
	}
	return b
}

func closePayload(code CloseCode, reason string) string {
	return string([]byte{byte(code >> 8), byte(code)}) + reason
}

// decoded is what a test keeps of a Frame: copies, since payloads alias.
type decoded struct {
	Header
	Payload    string
	Compressed bool
}

// decodeChunks runs d over b delivered in chunks of the given sizes (the last
// one repeated), keeping undecoded bytes as a connection's buffer would. It
// returns the frames, the first error and the number of bytes left undecoded.
func decodeChunks(d *Decoder, b []byte, sizes ...int) (out []decoded, err error, left int) {
	var buf []byte
	for i, k := 0, 0; i < len(b); k++ {
		size := sizes[min(k, len(sizes)-1)]
		end := min(i+max(size, 1), len(b))
		buf = append(buf, b[i:end]...)
		i = end
		for {
			f, n, err := d.Next(buf)
			if err != nil {
				return out, err, len(buf)
			}
			if n == 0 {
				// As the transport does: check what has come of the frame.
				if err := d.Partial(buf); err != nil {
					return out, err, len(buf)
				}
				break
			}
			out = append(out, decoded{f.Header, string(f.Payload), f.Compressed})
			buf = append(buf[:0], buf[n:]...)
		}
	}
	return out, nil, len(buf)
}

func TestDecoderRules(t *testing.T) {
	big := strings.Repeat("a", 126)
	tests := []struct {
		name   string
		dec    Decoder
		frames []fr
		code   CloseCode // 0: no error
		n      int       // frames returned before the error (or in all)
	}{
		{name: "masked text", frames: []fr{{fin: true, op: OpText, payload: "Hello"}}, n: 1},
		{name: "empty frames", frames: []fr{{op: OpText}, {fin: true, op: OpContinuation}, {fin: true, op: OpPing}, {fin: true, op: OpClose}}, n: 4},
		{name: "unmasked client frame", frames: []fr{{fin: true, op: OpText, payload: "x", unmasked: true}}, code: 1002},
		{name: "masked server frame", dec: Decoder{Client: true}, frames: []fr{{fin: true, op: OpText, payload: "x"}}, code: 1002},
		{name: "unmasked server frame", dec: Decoder{Client: true}, frames: []fr{{fin: true, op: OpText, payload: "x", unmasked: true}}, n: 1},
		{name: "RSV1 without deflate", frames: []fr{{fin: true, rsv: 4, op: OpText}}, code: 1002},
		{name: "RSV2", dec: Decoder{Deflate: true}, frames: []fr{{fin: true, rsv: 2, op: OpText}}, code: 1002},
		{name: "RSV3", dec: Decoder{Deflate: true}, frames: []fr{{fin: true, rsv: 1, op: OpBinary}}, code: 1002},
		{name: "RSV1 with deflate", dec: Decoder{Deflate: true}, frames: []fr{{fin: true, rsv: 4, op: OpText, payload: "\xff"}}, n: 1},
		{name: "RSV1 on continuation", dec: Decoder{Deflate: true}, frames: []fr{{rsv: 4, op: OpText}, {fin: true, rsv: 4, op: OpContinuation}}, code: 1002, n: 1},
		{name: "RSV1 on ping", dec: Decoder{Deflate: true}, frames: []fr{{fin: true, rsv: 4, op: OpPing}}, code: 1002},
		{name: "opcode 3", frames: []fr{{fin: true, op: 3}}, code: 1002},
		{name: "opcode 7", frames: []fr{{fin: true, op: 7}}, code: 1002},
		{name: "opcode 0xB", frames: []fr{{fin: true, op: 0xb}}, code: 1002},
		{name: "opcode 0xF", frames: []fr{{fin: true, op: 0xf}}, code: 1002},
		{name: "ping of 125 bytes", frames: []fr{{fin: true, op: OpPing, payload: big[:125]}}, n: 1},
		{name: "ping of 126 bytes", frames: []fr{{fin: true, op: OpPing, payload: big}}, code: 1002},
		{name: "fragmented ping", frames: []fr{{op: OpPing}}, code: 1002},
		{name: "fragmented close", frames: []fr{{op: OpClose}}, code: 1002},
		{name: "continuation without message", frames: []fr{{fin: true, op: OpContinuation}}, code: 1002},
		{name: "continuation after final frame", frames: []fr{{fin: true, op: OpText}, {fin: true, op: OpContinuation}}, code: 1002, n: 1},
		{name: "text inside open message", frames: []fr{{op: OpText}, {fin: true, op: OpText}}, code: 1002, n: 1},
		{name: "binary inside open message", frames: []fr{{op: OpBinary}, {fin: true, op: OpBinary}}, code: 1002, n: 1},
		{name: "control frames between fragments", frames: []fr{{op: OpText, payload: "a"}, {fin: true, op: OpPing}, {fin: true, op: OpPong}, {fin: true, op: OpContinuation, payload: "b"}}, n: 4},
		{name: "close empty", frames: []fr{{fin: true, op: OpClose}}, n: 1},
		{name: "close 1 byte", frames: []fr{{fin: true, op: OpClose, payload: "\x03"}}, code: 1002},
		{name: "close 1000 with reason", frames: []fr{{fin: true, op: OpClose, payload: closePayload(1000, "bye ✓")}}, n: 1},
		{name: "close reason not UTF-8", frames: []fr{{fin: true, op: OpClose, payload: closePayload(1000, "\xce")}}, code: 1007},
		{name: "text UTF-8", frames: []fr{{fin: true, op: OpText, payload: "κόσμε"}}, n: 1},
		{name: "text not UTF-8", frames: []fr{{fin: true, op: OpText, payload: "ab\xc0\xafcd"}}, code: 1007},
		{name: "text surrogate", frames: []fr{{fin: true, op: OpText, payload: "\xed\xa0\x80"}}, code: 1007},
		{name: "rune split across fragments", frames: []fr{{op: OpText, payload: "κ\xcf"}, {op: OpContinuation}, {fin: true, op: OpContinuation, payload: "\x8cε"}}, n: 3},
		{name: "final fragment ends mid-rune", frames: []fr{{op: OpText, payload: "a"}, {fin: true, op: OpContinuation, payload: "\xe2\x82"}}, code: 1007, n: 1},
		{name: "UTF-8 fails on the first bad fragment", frames: []fr{{op: OpText, payload: "ok"}, {op: OpContinuation, payload: "\xf4\x90"}, {fin: true, op: OpContinuation, payload: "\x80\x80"}}, code: 1007, n: 1},
		{name: "binary not UTF-8", frames: []fr{{fin: true, op: OpBinary, payload: "\xff\xfe"}}, n: 1},
		{name: "compressed text not checked", dec: Decoder{Deflate: true}, frames: []fr{{rsv: 4, op: OpText, payload: "\xff"}, {fin: true, op: OpContinuation, payload: "\xfe"}}, n: 2},
		{name: "UTF-8 state reset between messages", frames: []fr{{fin: true, op: OpBinary, payload: "\xe2"}, {fin: true, op: OpText, payload: "a"}}, n: 2},
		{name: "message at max size", dec: Decoder{MaxMessageSize: 4}, frames: []fr{{op: OpText, payload: "ab"}, {fin: true, op: OpPing, payload: "ping is not counted"}, {fin: true, op: OpContinuation, payload: "cd"}}, n: 3},
		{name: "frame over max size", dec: Decoder{MaxMessageSize: 4}, frames: []fr{{fin: true, op: OpBinary, payload: "abcde"}}, code: 1009},
		{name: "fragments over max size", dec: Decoder{MaxMessageSize: 4}, frames: []fr{{op: OpText, payload: "abc"}, {op: OpContinuation, payload: "d"}, {fin: true, op: OpContinuation, payload: "e"}}, code: 1009, n: 2},
		{name: "size counted per message", dec: Decoder{MaxMessageSize: 4}, frames: []fr{{fin: true, op: OpText, payload: "abcd"}, {fin: true, op: OpText, payload: "abcd"}}, n: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.dec
			b := stream(tc.frames...)
			out, err, left := decodeChunks(&d, b, len(b))
			if tc.code == 0 {
				if err != nil || left != 0 {
					t.Fatalf("err %v left %d", err, left)
				}
			} else {
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != tc.code {
					t.Fatalf("err %v, want close code %d", err, tc.code)
				}
				if len(pe.Reason) > MaxCloseReason {
					t.Fatalf("reason too long for a close frame: %q", pe.Reason)
				}
			}
			if len(out) != tc.n {
				t.Fatalf("%d frames, want %d", len(out), tc.n)
			}
			for i, f := range out {
				want := tc.frames[i]
				if f.Payload != want.payload || f.Op != want.op || f.Fin != want.fin || f.Rsv != want.rsv || f.Masked == want.unmasked {
					t.Fatalf("frame %d = %+v, want %+v", i, f, want)
				}
			}
		})
	}
}

// TestDecoderHeaderErrorsEarly checks that a bad header fails as soon as the
// bytes that show it are there, without its payload.
func TestDecoderHeaderErrorsEarly(t *testing.T) {
	tests := []struct {
		name string
		dec  Decoder
		b    []byte
		code CloseCode
	}{
		{"reserved opcode", Decoder{}, []byte{0x83, 0x85}, 1002},
		{"unmasked", Decoder{}, []byte{0x81, 0x05}, 1002},
		{"RSV", Decoder{}, []byte{0xc1, 0x85}, 1002},
		{"long ping", Decoder{}, []byte{0x89, 0xfe}, 1002},
		{"too big, 16-bit length", Decoder{MaxMessageSize: 1000}, []byte{0x82, 0xfe, 0x03, 0xe9}, 1009},
		{"too big, 64-bit length", Decoder{MaxMessageSize: 1 << 20}, []byte{0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 1}, 1009},
		{"64-bit length MSB", Decoder{}, []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0}, 1002},
		{"length without limit", Decoder{}, []byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, n, err := tc.dec.Next(tc.b)
			if n != 0 || (tc.code == 0) != (err == nil) || (err != nil && CloseCodeOf(err) != tc.code) {
				t.Fatalf("n %d err %v, want code %d", n, err, tc.code)
			}
		})
	}
}

// TestDecoderNeedMore checks that every prefix of a frame asks for more bytes
// and leaves both the bytes and the decoder as they were.
func TestDecoderNeedMore(t *testing.T) {
	b := stream(fr{op: OpText, payload: "héllo"}, fr{fin: true, op: OpContinuation, payload: strings.Repeat("x", 300)})
	first := len(fr{op: OpText, payload: "héllo"}.bytes())
	var d Decoder
	if _, n, err := d.Next(b); n != first || err != nil {
		t.Fatalf("first frame: n %d err %v", n, err)
	}
	rest := b[first:]
	orig := bytes.Clone(rest)
	for i := range len(rest) {
		before := d
		f, n, err := d.Next(rest[:i])
		if n != 0 || err != nil || f.Payload != nil {
			t.Fatalf("prefix %d: n %d err %v", i, n, err)
		}
		if !bytes.Equal(rest, orig) || !reflect.DeepEqual(d, before) {
			t.Fatalf("prefix %d: bytes or state changed", i)
		}
	}
	f, n, err := d.Next(rest)
	if n != len(rest) || err != nil || string(f.Payload) != strings.Repeat("x", 300) || d.InMessage() {
		t.Fatalf("last frame: n %d err %v", n, err)
	}
}

func TestDecoderInMessageReset(t *testing.T) {
	var d Decoder
	if _, _, err := d.Next(fr{op: OpText, payload: "\xe2"}.bytes()); err != nil || !d.InMessage() {
		t.Fatalf("err %v InMessage %v", err, d.InMessage())
	}
	d.Reset()
	if d.InMessage() {
		t.Fatal("InMessage after Reset")
	}
	if _, _, err := d.Next(fr{fin: true, op: OpText, payload: "a"}.bytes()); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
}

// mixedStream is a client's stream exercising every frame kind and length
// encoding, for the chunking tests.
func mixedStream() []byte {
	return stream(
		fr{fin: true, op: OpText, payload: "Hello"},
		fr{op: OpText, payload: "κό"},
		fr{fin: true, op: OpPing, payload: "p"},
		fr{op: OpContinuation, payload: "\xcf"},
		fr{fin: true, op: OpContinuation, payload: "\x83με" + strings.Repeat("-", 200)},
		fr{fin: true, op: OpBinary, payload: strings.Repeat("\xff", 70000)},
		fr{fin: true, op: OpPong},
		fr{fin: true, op: OpClose, payload: closePayload(1001, "going")},
	)
}

// TestDecoderChunked checks that the frames do not depend on how the stream
// is cut: split in two at every boundary, and delivered in chunks of every
// small size.
func TestDecoderChunked(t *testing.T) {
	b := mixedStream()
	var d Decoder
	want, err, left := decodeChunks(&d, bytes.Clone(b), len(b))
	if err != nil || left != 0 || len(want) != 8 {
		t.Fatalf("one-shot: %d frames, err %v, left %d", len(want), err, left)
	}
	check := func(t *testing.T, sizes ...int) {
		var d Decoder
		got, err, left := decodeChunks(&d, bytes.Clone(b), sizes...)
		if err != nil || left != 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("chunks %v: %d frames, err %v, left %d", sizes, len(got), err, left)
		}
	}
	t.Run("split at every boundary", func(t *testing.T) {
		for i := 1; i < len(b); i += 1 + i/512 { // every byte up to the big frame, then sampled
			check(t, i, len(b))
		}
	})
	t.Run("chunk sizes", func(t *testing.T) {
		for size := 1; size <= 16; size++ {
			check(t, size)
		}
		check(t, 1000)
	})
}

// TestDecoderChunkedErrors checks that a stream that fails, fails with the
// same error and the same frames before it however it is cut.
func TestDecoderChunkedErrors(t *testing.T) {
	b := stream(
		fr{op: OpText, payload: "ab"},
		fr{op: OpContinuation, payload: "c\xe2\x82"},
		fr{fin: true, op: OpPing},
		fr{op: OpContinuation, payload: "\xff"},
	)
	var d Decoder
	want, wantErr, _ := decodeChunks(&d, bytes.Clone(b), len(b))
	if CloseCodeOf(wantErr) != 1007 || len(want) != 3 {
		t.Fatalf("one-shot: %d frames, err %v", len(want), wantErr)
	}
	for i := 1; i < len(b); i++ {
		var d Decoder
		got, err, _ := decodeChunks(&d, bytes.Clone(b), i, len(b))
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(err, wantErr) {
			t.Fatalf("split %d: %v %v", i, got, err)
		}
	}
}

// TestDecoderPartialFailsFast checks RFC 6455's fail-fast rule inside one
// frame: once the bytes that arrived of a text frame cannot be UTF-8, Partial
// fails with 1007 without waiting for the rest (Autobahn 6.4.3 and 6.4.4).
func TestDecoderPartialFailsFast(t *testing.T) {
	// bad would be over U+10FFFF: its lead byte may still start a code point,
	// its second byte cannot follow it.
	const valid, bad = "κόσμε", "\xf4\x90\x80\x80"
	cases := []struct {
		name   string
		frames []fr
	}{
		{"one frame", []fr{{fin: true, op: OpText, payload: valid + bad + "edited"}}},
		{"continuation", []fr{{op: OpText, payload: valid}, {fin: true, op: OpContinuation, payload: "ab" + bad + "edited"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := stream(tc.frames...)
			last := tc.frames[len(tc.frames)-1].bytes()
			head := len(b) - len(last)
			hdr := len(last) - len(tc.frames[len(tc.frames)-1].payload)
			badAt := head + hdr + strings.Index(tc.frames[len(tc.frames)-1].payload, bad)
			var d Decoder
			buf := bytes.Clone(b[:badAt])
			var got int
			for {
				_, n, err := d.Next(buf)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				got++
				buf = buf[n:]
			}
			if got != len(tc.frames)-1 {
				t.Fatalf("%d whole frames before the cut, want %d", got, len(tc.frames)-1)
			}
			if err := d.Partial(buf); err != nil {
				t.Fatalf("valid prefix: %v", err)
			}
			buf = append(buf, b[badAt:badAt+1]...) // the lead byte: still fine
			if _, n, err := d.Next(buf); n != 0 || err != nil {
				t.Fatalf("Next on an incomplete frame: n=%d err=%v", n, err)
			}
			if err := d.Partial(buf); err != nil {
				t.Fatalf("after the lead byte: %v", err)
			}
			buf = append(buf, b[badAt+1:badAt+2]...) // the first byte that cannot be UTF-8
			if _, n, err := d.Next(buf); n != 0 || err != nil {
				t.Fatalf("Next on an incomplete frame: n=%d err=%v", n, err)
			}
			if err := d.Partial(buf); CloseCodeOf(err) != CloseInvalidPayload {
				t.Fatalf("Partial after the bad byte: %v, want 1007", err)
			}
		})
	}
}

// TestDecoderPartialThenNext checks that a frame Partial has partly unmasked
// comes out of Next whole and right.
func TestDecoderPartialThenNext(t *testing.T) {
	payload := strings.Repeat("héllo, wörld ", 20)
	b := fr{fin: true, op: OpText, payload: payload}.bytes()
	for _, cuts := range [][]int{{3}, {8, 9}, {10, 50, 51, 200}} {
		var d Decoder
		buf := bytes.Clone(b)
		for _, c := range cuts {
			if _, n, err := d.Next(buf[:c]); n != 0 || err != nil {
				t.Fatalf("cut %d: n=%d err=%v", c, n, err)
			}
			if err := d.Partial(buf[:c]); err != nil {
				t.Fatalf("cut %d: %v", c, err)
			}
		}
		f, n, err := d.Next(buf)
		if err != nil || n != len(b) || string(f.Payload) != payload {
			t.Fatalf("cuts %v: n=%d err=%v payload %q", cuts, n, err, f.Payload)
		}
	}
}

func TestDecoderZeroAllocs(t *testing.T) {
	frame := fr{fin: true, op: OpText, payload: strings.Repeat("abcdefgh", 16)}.bytes()
	buf := make([]byte, len(frame))
	var d Decoder
	allocs := testing.AllocsPerRun(1000, func() {
		copy(buf, frame)
		if _, n, err := d.Next(buf); n != len(buf) || err != nil {
			t.Fatal(n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Next allocates %v times per frame", allocs)
	}
}

// TestDecoderRFCExamples decodes the frames of RFC 6455 section 5.7.
func TestDecoderRFCExamples(t *testing.T) {
	tests := []struct {
		name   string
		client bool
		b      []byte
		want   string
	}{
		{"unmasked text", true, []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, "Hello"},
		{"masked text", false, []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, "Hello"},
		{"unmasked ping", true, []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, "Hello"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Decoder{Client: tc.client}
			f, n, err := d.Next(tc.b)
			if err != nil || n != len(tc.b) || string(f.Payload) != tc.want {
				t.Fatalf("%q %d %v", f.Payload, n, err)
			}
		})
	}
}

// Close codes that may never be sent on the wire (RFC 6455 7.4.1: 1004-1006
// and 1015 are reserved for reports; 0-999 and 5000+ are not codes) fail the
// connection with 1002; every sendable range passes.
func TestDecoderCloseCodesOnTheWire(t *testing.T) {
	mask := [4]byte{9, 8, 7, 6}
	for _, tc := range []struct {
		code CloseCode
		ok   bool
	}{
		{999, false}, {1000, true}, {1001, true}, {1002, true}, {1003, true},
		{1004, false}, {CloseNoStatus, false}, {CloseAbnormal, false},
		{1007, true}, {1011, true}, {1014, true}, {1015, false}, {1016, false},
		{2999, false}, {3000, true}, {4999, true}, {5000, false},
	} {
		t.Run(strconv.Itoa(int(tc.code)), func(t *testing.T) {
			payload := binary.BigEndian.AppendUint16(nil, uint16(tc.code))
			b := AppendFrame(nil, true, OpClose, 0, payload, &mask)
			var d Decoder
			_, n, err := d.Next(b)
			if tc.ok {
				if err != nil || n != len(b) {
					t.Fatalf("close code %d: n=%d err=%v, want the frame accepted", tc.code, n, err)
				}
				return
			}
			if CloseCodeOf(err) != CloseProtocolError {
				t.Fatalf("close code %d: err=%v, want a protocol error (1002)", tc.code, err)
			}
		})
	}
}
