package conformance

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/surge-ws/ws/frame"
)

// Sections 12 and 13: permessage-deflate, against the echo server started
// with -compress. The client compresses every message (no context takeover,
// which is what the server's answer asks for) and the server must inflate it;
// examples/echo answers with conn.Conn.Write, which compresses messages of 64
// bytes or more, and the client inflates them (or takes them plain).
//
// Scaled down: Autobahn sends 1000 messages per case, cut from five files it
// ships (JSON, a BMP image, Faust, HTML, a PDF); here 5 messages per case,
// cut from generated data of the same kinds. Message and auto-fragment sizes
// are Autobahn's; section 13, which repeats section 12's sizes for each of
// seven offers, keeps the cases of four of them (13.x.1, .4, .10, .18).

// msgSizes are Autobahn's (payload length, auto-fragment size) pairs.
var msgSizes = [][2]int{
	{16, 0}, {64, 0}, {256, 0}, {1024, 0}, {4096, 0}, {8192, 0}, {16384, 0}, {32768, 0}, {65536, 0}, {131072, 0},
	{8192, 256}, {16384, 256}, {32768, 256}, {65536, 256}, {131072, 256}, {131072, 1024}, {131072, 4096}, {131072, 32768},
}

const compressCount = 5

// testData are the generated stand-ins for Autobahn's five files.
type testData struct {
	desc   string
	binary bool
	data   []byte
}

func compressionData() []testData {
	r := rand.New(rand.NewPCG(12, 13))
	var json strings.Builder
	json.WriteString("[")
	for i := range 4000 {
		fmt.Fprintf(&json, `{"id":%d,"name":"user%d","tags":["a%d","b%d"],"score":%.3f,"active":%v},`, i, r.IntN(1000), r.IntN(50), r.IntN(50), r.Float64()*100, r.IntN(2) == 0)
	}
	json.WriteString("{}]")
	img := make([]byte, 256<<10) // smooth gradients with noise, like a photo
	for i := range img {
		img[i] = byte(i/512+i%512/4) + byte(r.IntN(8))
	}
	words := strings.Fields("Habe nun, ach! Philosophie, Juristerei und Medizin, und leider auch Theologie durchaus studiert, mit heißem Bemühn. Da steh ich nun, ich armer Tor! Und bin so klug als wie zuvor; heiße Magister, heiße Doktor gar Ü ö ä ß")
	var faust strings.Builder
	for faust.Len() < 300<<10 {
		faust.WriteString(words[r.IntN(len(words))])
		faust.WriteByte(" \n"[r.IntN(8)/7])
	}
	var html strings.Builder
	for html.Len() < 300<<10 {
		fmt.Fprintf(&html, "<div class=\"row r%d\"><a href=\"/item/%d\">Item %d</a><span>%s</span></div>\n", r.IntN(20), r.IntN(10000), r.IntN(10000), words[r.IntN(len(words))])
	}
	pdf := make([]byte, 256<<10) // already compressed: random
	for i := range pdf {
		pdf[i] = byte(r.Uint32())
	}
	return []testData{
		{"JSON", false, []byte(json.String())},
		{"image", true, img},
		{"German text", false, []byte(faust.String())},
		{"HTML", false, []byte(html.String())},
		{"random binary (like a PDF)", true, pdf},
	}
}

// slicer cuts messages of n bytes (text: n runes) from data, cyclically, as
// Autobahn does.
type slicer struct {
	td  testData
	pos int
	rs  []rune
}

func (s *slicer) next(n int) []byte {
	if s.td.binary {
		out := make([]byte, 0, n)
		for len(out) < n {
			k := min(n-len(out), len(s.td.data)-s.pos)
			out = append(out, s.td.data[s.pos:s.pos+k]...)
			s.pos = (s.pos + k) % len(s.td.data)
		}
		return out
	}
	if s.rs == nil {
		s.rs = []rune(string(s.td.data))
	}
	out := make([]rune, 0, n)
	for len(out) < n {
		k := min(n-len(out), len(s.rs)-s.pos)
		out = append(out, s.rs[s.pos:s.pos+k]...)
		s.pos = (s.pos + k) % len(s.rs)
	}
	return []byte(string(out))
}

// compressedFrames compresses msg and cuts the compressed payload into
// frames of autofrag bytes (0: one frame); RSV1 marks the first.
func compressedFrames(o frame.OpCode, msg []byte, autofrag int) []fr {
	z := frame.Compress(nil, msg)
	if autofrag <= 0 {
		autofrag = len(z) + 1
	}
	frs := fragments(o, z, autofrag)
	if len(frs) == 0 {
		frs = []fr{{fin: true, op: o, payload: z}}
	}
	frs[0].rsv = frame.RSV1
	return frs
}

// compressedRoundTrips sends count messages of size from td, each after the
// previous echo, compressed when deflate was negotiated.
func compressedRoundTrips(td testData, size, autofrag, count int) step {
	return func(c *client) {
		c.t.Helper()
		o := frame.OpText
		if td.binary {
			o = frame.OpBinary
		}
		s := &slicer{td: td}
		for range count {
			msg := s.next(size)
			var wire []byte
			if c.deflate {
				wire = encodeAll(compressedFrames(o, msg, autofrag))
			} else {
				wire = encodeAll(fragments(o, msg, max(autofrag, len(msg))))
			}
			c.write(wire)
			c.expect(o, msg)
		}
	}
}

func TestAutobahnCompression(t *testing.T) {
	addr := echoServer(t, "-compress")
	const defaultOffer = "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; client_max_window_bits"
	data := compressionData()

	t.Run("12", func(t *testing.T) {
		for j, td := range data {
			t.Run(fmt.Sprintf("12.%d", j+1), func(t *testing.T) {
				var cs []acase
				for i, ms := range msgSizes {
					cs = append(cs, acase{fmt.Sprintf("12.%d.%d", j+1, i+1),
						fmt.Sprintf("%d compressed %s messages of %d bytes, auto-fragmented to %d", compressCount, td.desc, ms[0], ms[1]),
						[]step{requireDeflate(true), compressedRoundTrips(td, ms[0], ms[1], compressCount), cleanClose()}})
				}
				runCases(t, addr, cs, defaultOffer)
			})
		}
	})

	// 13.x: Autobahn's seven offers, with the JSON data. The server takes an
	// offer only if it may use a full window (no server_max_window_bits
	// below 15): 13.3 and 13.5 are declined (Autobahn: UNIMPLEMENTED, not a
	// failure), and of 13.7's three offers the second is taken.
	offers := []struct {
		ext     string
		deflate bool
	}{
		{"permessage-deflate; client_no_context_takeover; client_max_window_bits", true},
		{"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover", true},
		{"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=8", false},
		{"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=15", true},
		{"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=8", false},
		{"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=15", true},
		{"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=8, " +
			"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover, " +
			"permessage-deflate; client_no_context_takeover; client_max_window_bits", true},
	}
	t.Run("13", func(t *testing.T) {
		for j, of := range offers {
			t.Run(fmt.Sprintf("13.%d", j+1), func(t *testing.T) {
				var cs []acase
				for _, i := range []int{0, 3, 9, 17} {
					ms := msgSizes[i]
					cs = append(cs, acase{fmt.Sprintf("13.%d.%d", j+1, i+1),
						fmt.Sprintf("offer %q: %d JSON messages of %d bytes, auto-fragmented to %d", of.ext, compressCount, ms[0], ms[1]),
						[]step{requireDeflate(of.deflate), compressedRoundTrips(data[0], ms[0], ms[1], compressCount), cleanClose()}})
				}
				runCases(t, addr, cs, "Sec-WebSocket-Extensions: "+of.ext)
			})
		}
	})
}

// requireDeflate checks whether permessage-deflate was negotiated.
func requireDeflate(want bool) step {
	return func(c *client) {
		c.t.Helper()
		if c.deflate != want {
			c.t.Fatalf("permessage-deflate negotiated: %v, want %v", c.deflate, want)
		}
	}
}

// Compression-specific protocol rules (not Autobahn cases).
func TestCompressionRules(t *testing.T) {
	addr := echoServer(t, "-compress")
	const offer = "Sec-WebSocket-Extensions: permessage-deflate"
	z := frame.Compress(nil, []byte(hello))
	cs := []acase{
		{"rsv1-on-continuation", "RSV1 on a continuation frame", []step{
			send(frag(frame.OpText, false, "abc"), frag(frame.OpContinuation, true, "def").withRsv(frame.RSV1)), failWith(frame.CloseProtocolError)}},
		{"rsv1-on-ping", "RSV1 on a ping", []step{send(ping("x").withRsv(frame.RSV1)), failWith(frame.CloseProtocolError)}},
		{"corrupt-deflate", "a compressed message that does not inflate", []step{
			send(fr{fin: true, op: frame.OpBinary, rsv: frame.RSV1, payload: []byte{0xff, 0xff, 0xff, 0xff}}), failWith(frame.CloseInvalidPayload)}},
		{"compressed-bad-utf8", "a compressed text message that inflates to invalid UTF-8", []step{
			send(fr{fin: true, op: frame.OpText, rsv: frame.RSV1, payload: frame.Compress(nil, []byte("ok \xed\xa0\x80"))}), failWith(frame.CloseInvalidPayload)}},
		{"uncompressed-between", "uncompressed and compressed messages mixed", []step{
			send(text("plain"), fr{fin: true, op: frame.OpText, rsv: frame.RSV1, payload: z}, text("plain2")),
			expectText("plain"), expectText(hello), expectText("plain2"), cleanClose()}},
		{"empty-compressed", "an empty compressed message (payload 0x00 and no payload)", []step{
			send(fr{fin: true, op: frame.OpText, rsv: frame.RSV1, payload: frame.Compress(nil, nil)}, fr{fin: true, op: frame.OpBinary, rsv: frame.RSV1}),
			expectText(""), expectBin([]byte{}), cleanClose()}},
		{"bomb", "a small compressed message that inflates past -max-message", []step{
			send(fr{fin: true, op: frame.OpBinary, rsv: frame.RSV1, payload: frame.Compress(nil, make([]byte, maxMessage+1))}), failWith(frame.CloseMessageTooBig)}},
	}
	runCases(t, addr, cs, offer)
}
