package conformance

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/surge-ws/ws/frame"
)

const hello = "Hello, world!"

// Section 1: framing, text and binary messages of the lengths around each
// length encoding's boundary.
func framingCases() []acase {
	var cs []acase
	lens := []int{0, 125, 126, 127, 128, 65535, 65536}
	for i, n := range lens {
		p := repeat("*", n)
		cs = append(cs, acase{fmt.Sprintf("1.1.%d", i+1), fmt.Sprintf("text message of %d bytes", n),
			[]step{send(textB(p)), expectTextB(p), cleanClose()}})
	}
	p := repeat("*", 65536)
	cs = append(cs, acase{"1.1.8", "text message of 65536 bytes sent in chops of 997",
		[]step{sendChops(997, 0, textB(p)), expectTextB(p), cleanClose()}})
	for i, n := range lens {
		p := repeat("\xfe", n)
		cs = append(cs, acase{fmt.Sprintf("1.2.%d", i+1), fmt.Sprintf("binary message of %d bytes", n),
			[]step{send(binary_(p)), expectBin(p), cleanClose()}})
	}
	p = repeat("\xfe", 65536)
	cs = append(cs, acase{"1.2.8", "binary message of 65536 bytes sent in chops of 997",
		[]step{sendChops(997, 0, binary_(p)), expectBin(p), cleanClose()}})
	return cs
}

// Section 2: pings and pongs.
func pingCases() []acase {
	p125 := strings.Repeat("\xfe", 125)
	var ten []fr
	var tenPongs []step
	for i := range 10 {
		ten = append(ten, ping(fmt.Sprintf("payload-%d", i)))
		tenPongs = append(tenPongs, expectPong(fmt.Sprintf("payload-%d", i)))
	}
	return []acase{
		{"2.1", "ping without payload", []step{send(ping("")), expectPong(""), cleanClose()}},
		{"2.2", "ping with a small text payload", []step{send(ping(hello)), expectPong(hello), cleanClose()}},
		{"2.3", "ping with a small binary payload", []step{send(ping("\x00\xff\xfe\xfd\xfc\xfb\x00\xff")), expectPong("\x00\xff\xfe\xfd\xfc\xfb\x00\xff"), cleanClose()}},
		{"2.4", "ping with a 125-byte payload", []step{send(ping(p125)), expectPong(p125), cleanClose()}},
		{"2.5", "ping with a 126-byte payload: control frames carry at most 125", []step{send(ping(p125 + "\xfe")), failWith(frame.CloseProtocolError)}},
		{"2.6", "ping with a 125-byte payload sent in chops of 1 byte", []step{sendChops(1, 0, ping(p125)), expectPong(p125), cleanClose()}},
		{"2.7", "unsolicited pong without payload", []step{send(pong("")), quiet(pause), cleanClose()}},
		{"2.8", "unsolicited pong with payload", []step{send(pong("unsolicited pong payload")), quiet(pause), cleanClose()}},
		{"2.9", "unsolicited pong, then ping", []step{send(pong("unsolicited pong payload"), ping("ping payload")), expectPong("ping payload"), cleanClose()}},
		{"2.10", "10 pings", append(append([]step{send(ten...)}, tenPongs...), cleanClose())},
		{"2.11", "10 pings sent in chops of 1 byte", append(append([]step{sendChops(1, 0, ten...)}, tenPongs...), cleanClose())},
	}
}

// Section 3: reserved bits, with no extension negotiated.
func rsvCases() []acase {
	const bin8 = "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
	return []acase{
		{"3.1", "text message with RSV = 1", []step{send(text(hello).withRsv(1)), failWith(frame.CloseProtocolError)}},
		{"3.2", "text, text with RSV = 2, ping", []step{send(text(hello), text(hello).withRsv(2), ping("")), expectText(hello), failWith(frame.CloseProtocolError)}},
		{"3.3", "text, text with RSV = 3, ping; frame-wise", []step{sendSync(text(hello), text(hello).withRsv(3), ping("")), expectText(hello), failWith(frame.CloseProtocolError)}},
		{"3.4", "text, text with RSV = 4, ping; octet-wise", []step{sendChops(1, 0, text(hello), text(hello).withRsv(4), ping("")), expectText(hello), failWith(frame.CloseProtocolError)}},
		{"3.5", "binary message with RSV = 5", []step{send(binary_([]byte(bin8)).withRsv(5)), failWith(frame.CloseProtocolError)}},
		{"3.6", "ping with RSV = 6", []step{send(ping(hello).withRsv(6)), failWith(frame.CloseProtocolError)}},
		{"3.7", "close with RSV = 7", []step{send(closeFr(1000, "").withRsv(7)), failWith(frame.CloseProtocolError)}},
	}
}

// Section 4: reserved opcodes.
func opcodeCases() []acase {
	const rp = "reserved opcode payload"
	return []acase{
		{"4.1.1", "reserved non-control opcode 3", []step{send(op(3, "")), failWith(frame.CloseProtocolError)}},
		{"4.1.2", "reserved non-control opcode 4 with payload", []step{send(op(4, rp)), failWith(frame.CloseProtocolError)}},
		{"4.1.3", "text, opcode 5, ping", []step{send(text(hello), op(5, ""), ping("")), expectText(hello), failWith(frame.CloseProtocolError)}},
		{"4.1.4", "text, opcode 6 with payload, ping", []step{send(text(hello), op(6, rp), ping("")), expectText(hello), failWith(frame.CloseProtocolError)}},
		{"4.1.5", "text, opcode 7 with payload, ping", []step{send(text(hello), op(7, rp), ping("")), expectText(hello), failWith(frame.CloseProtocolError)}},
		{"4.2.1", "reserved control opcode 11", []step{send(op(11, "")), failWith(frame.CloseProtocolError)}},
		{"4.2.2", "reserved control opcode 12 with payload", []step{send(op(12, rp)), failWith(frame.CloseProtocolError)}},
		{"4.2.3", "text, opcode 13, ping", []step{send(text(hello), op(13, ""), ping("")), expectText(hello), failWith(frame.CloseProtocolError)}},
		{"4.2.4", "text, opcode 14 with payload, ping", []step{send(text(hello), op(14, rp), ping("")), expectText(hello), failWith(frame.CloseProtocolError)}},
		{"4.2.5", "text, opcode 15 with payload, ping", []step{send(text(hello), op(15, rp), ping("")), expectText(hello), failWith(frame.CloseProtocolError)}},
	}
}

// Section 5: fragmentation.
func fragmentationCases() []acase {
	const (
		t = frame.OpText
		k = frame.OpContinuation
	)
	f1f2 := []fr{frag(t, false, "fragment1"), frag(k, true, "fragment2")}
	withPing := []fr{frag(t, false, "fragment1"), ping("ping payload"), frag(k, true, "fragment2")}
	noStartFin := []fr{frag(k, true, "non-continuation payload"), text(hello)}
	noStartMore := []fr{frag(k, false, "non-continuation payload"), text(hello)}
	rep := func(frs []fr) []fr { return append(append([]fr{}, frs...), frs...) }
	fails := func(s step) []step { return []step{s, failWith(frame.CloseProtocolError)} }
	f5 := []string{"fragment1", "fragment2", "fragment3", "fragment4", "fragment5"}
	c519 := func(sender func(...fr) step) []step {
		return []step{
			sender(frag(t, false, f5[0]), frag(k, false, f5[1]), ping("pongme 1!")),
			expectPong("pongme 1!"), // answered before the message is complete
			wait(pause),
			sender(frag(k, false, f5[2]), frag(k, false, f5[3]), ping("pongme 2!"), frag(k, true, f5[4])),
			expectPong("pongme 2!"),
			expectText(strings.Join(f5, "")),
			cleanClose(),
		}
	}
	return []acase{
		{"5.1", "ping in 2 fragments", fails(send(frag(frame.OpPing, false, "fragment1"), frag(k, true, "fragment2")))},
		{"5.2", "pong in 2 fragments", fails(send(frag(frame.OpPong, false, "fragment1"), frag(k, true, "fragment2")))},
		{"5.3", "text message in 2 fragments", []step{send(f1f2...), expectText("fragment1fragment2"), cleanClose()}},
		{"5.4", "text message in 2 fragments, with a wait between them", []step{
			send(f1f2[0]), quiet(pause), send(f1f2[1]), expectText("fragment1fragment2"), cleanClose()}},
		{"5.5", "text message in 2 fragments, octet-wise", []step{sendChops(1, 0, f1f2...), expectText("fragment1fragment2"), cleanClose()}},
		{"5.6", "text message in 2 fragments with a ping between them", []step{send(withPing...), expectPong("ping payload"), expectText("fragment1fragment2"), cleanClose()}},
		{"5.7", "same as 5.6, frame-wise", []step{sendSync(withPing...), expectPong("ping payload"), expectText("fragment1fragment2"), cleanClose()}},
		{"5.8", "same as 5.6, octet-wise", []step{sendChops(1, 0, withPing...), expectPong("ping payload"), expectText("fragment1fragment2"), cleanClose()}},
		{"5.9", "final continuation with nothing to continue, then text", fails(send(noStartFin...))},
		{"5.10", "same as 5.9, frame-wise", fails(sendSync(noStartFin...))},
		{"5.11", "same as 5.9, octet-wise", fails(sendChops(1, 0, noStartFin...))},
		{"5.12", "non-final continuation with nothing to continue, then text", fails(send(noStartMore...))},
		{"5.13", "same as 5.12, frame-wise", fails(sendSync(noStartMore...))},
		{"5.14", "same as 5.12, octet-wise", fails(sendChops(1, 0, noStartMore...))},
		{"5.15", "2 fragments, continuation with nothing to continue, text", []step{
			send(frag(t, false, "fragment1"), frag(k, true, "fragment2"), frag(k, false, "fragment3"), frag(t, true, "fragment4")),
			expectText("fragment1fragment2"), failWith(frame.CloseProtocolError)}},
		{"5.16", "2x: continuation with nothing to continue, text in 2 fragments", fails(send(rep([]fr{frag(k, false, "fragment1"), frag(t, false, "fragment2"), frag(k, true, "fragment3")})...))},
		{"5.17", "2x: final continuation with nothing to continue, text in 2 fragments", fails(send(rep([]fr{frag(k, true, "fragment1"), frag(t, false, "fragment2"), frag(k, true, "fragment3")})...))},
		{"5.18", "text in 2 fragments, both with the text opcode", fails(send(frag(t, false, "fragment1"), frag(t, true, "fragment2")))},
		{"5.19", "text in 5 fragments with 2 pings and a wait between them", c519(send)},
		{"5.20", "same as 5.19, frame-wise", c519(sendSync)},
	}
}

// utf8Sequences are Autobahn's UTF-8 test sequences (from Markus Kuhn's
// UTF-8-test.txt), category by category; category i (from 0) is section
// 6.(i+5). valid is Autobahn's verdict.
type utf8Seq struct {
	valid bool
	p     string
}

func utf8Categories() [][]utf8Seq {
	const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	var cats [][]utf8Seq
	add := func(valid bool, ps ...string) []utf8Seq {
		var s []utf8Seq
		for _, p := range ps {
			s = append(s, utf8Seq{valid, p})
		}
		return s
	}
	// 6.5 some valid UTF-8 sequences
	cats = append(cats, add(true, "hello\x24world", "hello\xc2\xa2world", "hello\xe2\x82\xacworld", "hello\xf0\xa4\xad\xa2world", kosme))
	// 6.6 all prefixes of kosme: valid when they end on a code point boundary
	var prefixes []utf8Seq
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, utf8Seq{utf8.ValidString(kosme[:i]), kosme[:i]})
	}
	cats = append(cats, prefixes)
	// 6.7 first possible sequence of a certain length
	cats = append(cats, add(true, "\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80"))
	// 6.8 first possible sequence of length 5/6 (invalid code points)
	cats = append(cats, add(false, "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80"))
	// 6.9 last possible sequence of a certain length
	cats = append(cats, add(true, "\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"))
	// 6.10 last possible sequence of length 4/5/6 (invalid code points)
	cats = append(cats, add(false, "\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf"))
	// 6.11 other boundary conditions
	cats = append(cats, append(add(true, "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf"), add(false, "\xf4\x90\x80\x80")...))
	// 6.12 unexpected continuation bytes
	var conts strings.Builder
	for b := 0x80; b < 0xbf; b++ { // Autobahn's xrange(0x80, 0xbf) stops before 0xbf
		conts.WriteByte(byte(b))
	}
	cats = append(cats, add(false, "\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf", "\x80\xbf\x80\xbf\x80", "\x80\xbf\x80\xbf\x80\xbf", conts.String()))
	// 6.13 lonely start characters, each followed by a space
	var lonely []string
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var s strings.Builder
		for b := r[0]; b < r[1]; b++ {
			s.WriteByte(byte(b))
			s.WriteByte(' ')
		}
		lonely = append(lonely, s.String())
	}
	cats = append(cats, add(false, lonely...))
	// 6.14 sequences with the last continuation byte missing
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	cats = append(cats, add(false, missing...))
	// 6.15 concatenation of incomplete sequences
	cats = append(cats, add(false, strings.Join(missing, "")))
	// 6.16 impossible bytes
	cats = append(cats, add(false, "\xfe", "\xff", "\xfe\xfe\xff\xff"))
	// 6.17 overlong ASCII character
	cats = append(cats, add(false, "\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf"))
	// 6.18 maximum overlong sequences
	cats = append(cats, add(false, "\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf"))
	// 6.19 overlong NUL
	cats = append(cats, add(false, "\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x80\x80\x80\x80\x80"))
	// 6.20 single UTF-16 surrogates
	cats = append(cats, add(false, "\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf"))
	// 6.21 paired UTF-16 surrogates
	cats = append(cats, add(false, "\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf",
		"\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf"))
	// 6.22 non-character code points (valid UTF-8)
	nonchars := []string{"\xef\xbf\xbe", "\xef\xbf\xbf"}
	for _, z1 := range []string{"\xf0", "\xf1", "\xf2", "\xf3", "\xf4"} {
		for _, z2 := range []string{"\x8f", "\x9f", "\xaf", "\xbf"} {
			if z1 == "\xf4" && z2 != "\x8f" {
				continue // above U+10FFFF
			}
			for _, z3 := range []string{"\xbe", "\xbf"} {
				zz := z1 + z2 + "\xbf" + z3
				if zz != "\xf0\x8f\xbf\xbe" && zz != "\xf0\x8f\xbf\xbf" { // overlong
					nonchars = append(nonchars, zz)
				}
			}
		}
	}
	cats = append(cats, add(true, nonchars...))
	// 6.23 Unicode specials
	cats = append(cats, add(true, "\xef\xbf\xb9", "\xef\xbf\xba", "\xef\xbf\xbb", "\xef\xbf\xbc", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf"))
	return cats
}

// Section 6: UTF-8 handling.
func utf8Cases(t *testing.T) []acase {
	const (
		tx = frame.OpText
		k  = frame.OpContinuation
	)
	const hello2 = "Hello-µ@ßöäüàá-UTF-8!!"
	const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	bytewise := func(s string) []fr {
		var frs []fr
		for i := range len(s) {
			o := tx
			if i > 0 {
				o = k
			}
			frs = append(frs, frag(o, i == len(s)-1, s[i:i+1]))
		}
		return frs
	}
	const inv631 = kosme + "\xed\xa0\x80" + "edited"
	// 6.4.x: PAYLOAD1 valid, PAYLOAD2 makes it invalid, PAYLOAD3 the rest.
	const p1, p2, p3 = kosme, "\xf4\x90\x80\x80", "edited"
	const p642 = p1 + p2 + p3

	cs := []acase{
		{"6.1.1", "empty text message", []step{send(text("")), expectText(""), cleanClose()}},
		{"6.1.2", "text message in 3 empty fragments", []step{send(frag(tx, false, ""), frag(k, false, ""), frag(k, true, "")), expectText(""), cleanClose()}},
		{"6.1.3", "text message in 3 fragments, first and last empty", []step{send(frag(tx, false, ""), frag(k, false, "middle frame payload"), frag(k, true, "")), expectText("middle frame payload"), cleanClose()}},
		{"6.2.1", "valid UTF-8 in one fragment", []step{send(text(hello2)), expectText(hello2), cleanClose()}},
		{"6.2.2", "valid UTF-8 in 2 fragments split on a code point boundary", []step{send(frag(tx, false, "Hello-µ@ßöä"), frag(k, true, "üàá-UTF-8!!")), expectText(hello2), cleanClose()}},
		{"6.2.3", "valid UTF-8 in fragments of 1 byte", []step{send(bytewise(hello2)...), expectText(hello2), cleanClose()}},
		{"6.2.4", "valid UTF-8 (kosme) in fragments of 1 byte, split inside code points", []step{send(bytewise(kosme)...), expectText(kosme), cleanClose()}},
		{"6.3.1", "invalid UTF-8 unfragmented", []step{send(text(inv631)), failWith(frame.CloseInvalidPayload)}},
		{"6.3.2", "invalid UTF-8 in fragments of 1 byte", []step{send(bytewise(inv631)...), failWith(frame.CloseInvalidPayload)}},
		// Fail fast: the fragment that makes the text invalid must fail the
		// connection at once; the final fragment is never sent.
		{"6.4.1", "fail fast: 3 fragments, the 2nd makes the text invalid", []step{
			send(frag(tx, false, p1)), quiet(pause), send(frag(k, false, p2)), failFastWith(frame.CloseInvalidPayload)}},
		{"6.4.2", "fail fast: 3 fragments, the 2nd is the one invalid byte", []step{
			send(frag(tx, false, p642[:12])), quiet(pause), send(frag(k, false, p642[12:13])), failFastWith(frame.CloseInvalidPayload)}},
		{"6.4.3", "fail fast: one frame in 3 chops, the 2nd makes the text invalid", failInChops(text(p642), len(p1), len(p2))},
		{"6.4.4", "fail fast: one frame in 3 chops, the 2nd is the one invalid byte", failInChops(text(p642), 12, 1)},
	}
	for i, cat := range utf8Categories() {
		for j, seq := range cat {
			if seq.valid != utf8.ValidString(seq.p) {
				t.Fatalf("6.%d.%d: the catalogue says valid=%v, unicode/utf8 disagrees", i+5, j+1, seq.valid)
			}
			c := acase{id: fmt.Sprintf("6.%d.%d", i+5, j+1)}
			if seq.valid {
				c.desc = fmt.Sprintf("valid UTF-8 %x", seq.p)
				c.steps = []step{send(text(seq.p)), expectText(seq.p), cleanClose()}
			} else {
				c.desc = fmt.Sprintf("invalid UTF-8 %x", seq.p)
				c.steps = []step{send(text(seq.p)), failWith(frame.CloseInvalidPayload)}
			}
			cs = append(cs, c)
		}
	}
	return cs
}

// failInChops sends one text frame whose payload turns invalid in its second
// part, cut into three chops: payload[:a], payload[a:a+b], the rest. The
// server must fail the connection after the second chop, before the frame is
// complete (Autobahn: OK; a server that waits for the whole frame would be
// NON-STRICT, which this suite does not accept: the decoder checks what has
// arrived of a text frame, frame.Decoder.Partial).
func failInChops(f fr, a, b int) []step {
	return []step{func(c *client) {
		c.t.Helper()
		wire := f.encode()
		hdr := len(wire) - len(f.payload)
		c.write(wire[:hdr+a])
		c.quiet(pause)
		c.write(wire[hdr+a : hdr+a+b])
		if !c.arrived(failFast) {
			c.t.Fatalf("no close within %v of the bytes that make the text invalid (the frame is not complete yet)", failFast)
		}
		c.expectClose(frame.CloseInvalidPayload)
	}}
}

// Section 7: close handling.
func closeCases() []acase {
	cs := []acase{
		{"7.1.1", "text message, then close", []step{send(text("Hello World!")), expectText("Hello World!"), cleanClose()}},
		{"7.1.2", "two close frames", []step{send(closeFr(1000, ""), closeFr(1000, "")), closeEcho(1000)}},
		{"7.1.3", "close, then ping: no pong", []step{send(closeFr(1000, ""), ping("")), closeEcho(1000)}},
		{"7.1.4", "close, then text: no echo", []step{send(closeFr(1000, ""), text(hello)), closeEcho(1000)}},
		{"7.1.5", "fragment, close, last fragment: no echo", []step{
			send(frag(frame.OpText, false, "fragment1"), closeFr(1000, ""), frag(frame.OpContinuation, true, "fragment2")), closeEcho(1000)}},
		{"7.1.6", "256 KiB text, text, close, ping: both echoed, no pong", func() []step {
			big := repeat("BAsd7&jh23", 256<<10)
			return []step{send(textB(big), text("Hello World!"), closeFr(1000, ""), ping("")),
				expectTextB(big), expectText("Hello World!"), closeEcho(1000)}
		}()},
		{"7.3.1", "close with an empty payload: echoed empty", []step{send(closeRaw(nil)), closeEcho(0)}},
		{"7.3.2", "close with a 1-byte payload", []step{send(closeRaw([]byte("a"))), failWith(frame.CloseProtocolError)}},
		{"7.3.3", "close with code 1000 and no reason", []step{send(closeFr(1000, "")), closeEcho(1000)}},
		{"7.3.4", "close with code 1000 and a reason", []step{send(closeFr(1000, "Hello World!")), closeEcho(1000)}},
		{"7.3.5", "close with a 123-byte reason", []step{send(closeFr(1000, strings.Repeat("*", 123))), closeEcho(1000)}},
		{"7.3.6", "close with a 124-byte reason: payload over 125", []step{send(closeFr(1000, strings.Repeat("*", 124))), failWith(frame.CloseProtocolError)}},
		{"7.5.1", "close with a reason that is not UTF-8", []step{
			send(closeFr(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64")), failWith(frame.CloseInvalidPayload)}},
	}
	// 7.7.x: valid codes are echoed. Autobahn lists 13; 1012-1014 (IANA
	// registered since) follow as 7.7.14-16.
	for i, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999, 1012, 1013, 1014} {
		cs = append(cs, acase{fmt.Sprintf("7.7.%d", i+1), fmt.Sprintf("close with valid code %d: echoed", code),
			[]step{send(closeFr(code, "")), closeEcho(frame.CloseCode(code))}})
	}
	// 7.9.x: invalid codes fail with 1002. Autobahn lists 9; 1015 (never on
	// the wire) follows as 7.9.10.
	for i, code := range []uint16{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 1015} {
		cs = append(cs, acase{fmt.Sprintf("7.9.%d", i+1), fmt.Sprintf("close with invalid code %d", code),
			[]step{send(closeFr(code, "")), failWith(frame.CloseProtocolError)}})
	}
	// 7.13.x are informational in Autobahn; RFC 6455 defines no code above
	// 4999, and this server fails such a close with 1002.
	cs = append(cs,
		acase{"7.13.1", "close with code 5000", []step{send(closeFr(5000, "")), failWith(frame.CloseProtocolError)}},
		acase{"7.13.2", "close with code 65535", []step{send(closeFr(65535, "")), failWith(frame.CloseProtocolError)}},
	)
	return cs
}

// Section 10: a message the client auto-fragments comes back whole.
func autoFragmentCases() []acase {
	p := repeat("*", 65536)
	var frs []fr
	for i := 0; i < len(p); i += 1300 {
		o := frame.OpText
		if i > 0 {
			o = frame.OpContinuation
		}
		end := min(i+1300, len(p))
		frs = append(frs, fr{fin: end == len(p), op: o, payload: p[i:end]})
	}
	return []acase{{"10.1.1", "65536-byte text auto-fragmented into 1300-byte frames", []step{send(frs...), expectTextB(p), cleanClose()}}}
}

func TestAutobahn(t *testing.T) {
	addr := echoServer(t)
	sections := []struct {
		name  string
		cases []acase
	}{
		{"1-framing", framingCases()},
		{"2-pings", pingCases()},
		{"3-reserved-bits", rsvCases()},
		{"4-opcodes", opcodeCases()},
		{"5-fragmentation", fragmentationCases()},
		{"6-utf8", utf8Cases(t)},
		{"7-close", closeCases()},
		{"10-misc", autoFragmentCases()},
	}
	start := time.Now()
	t.Cleanup(func() { t.Logf("catalogue ran in %v", time.Since(start).Round(time.Millisecond)) })
	for _, s := range sections {
		t.Run(s.name, func(t *testing.T) { runCases(t, addr, s.cases) })
	}
}
