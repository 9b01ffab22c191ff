package conformance

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// FuzzServerInput sends arbitrary bytes, cut into random chunks, to an
// in-process conn.Server echo after a valid handshake, and checks that the
// server answers exactly what an independent model of RFC 6455 (written here
// from the RFC, not from the frame package) says it must: a pong for each
// ping, an echo for each complete message, and, at the first violation, a
// close frame with the violation's code followed by the server closing TCP;
// or the echo of a valid close frame. It never waits on a server that owes
// nothing more, so each input ends promptly.
func FuzzServerInput(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed, uint64(len(seed)))
		f.Add(seed, uint64(1)) // and cut byte by byte
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint64) {
		if len(in) > 64<<10 {
			t.Skip("input too large")
		}
		checkServerInput(t, fuzzServer(t), in, cut)
	})
}

// fuzzMax is the in-process server's MaxMessageSize: small, so 1009 is in
// reach of the fuzzer.
const fuzzMax = 1024

var (
	fuzzOnce sync.Once
	fuzzAddr string
	fuzzErr  error
)

// fuzzServer starts one echo conn.Server for the whole process. Its send
// queue is unbounded in practice: the bound on queued messages is a policy
// (see TestPipelinedMessages), not what this target is about.
func fuzzServer(t *testing.T) string {
	fuzzOnce.Do(func() {
		srv := &conn.Server{
			Handler: conn.HandlerFuncs{Message: func(c *conn.Conn, op frame.OpCode, p []byte) { _ = c.Write(op, p) }},
			Config: conn.Config{
				MaxMessageSize: fuzzMax,
				PingInterval:   -1, // no pings of its own in the output
				SendQueue:      1 << 20,
				SendQueueBytes: 1 << 30,
			},
		}
		ln, err := conn.Listen("tcp", "127.0.0.1:0", false)
		if err != nil {
			fuzzErr = err
			return
		}
		fuzzAddr = ln.Addr().String()
		go func() { _ = srv.Serve(ln) }()
	})
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzAddr
}

func checkServerInput(t *testing.T, addr string, in []byte, cut uint64) {
	want, code, closes, partial := model(in, fuzzMax)
	if !closes && !partial {
		// The input ends on a frame boundary: a ping after it is a barrier,
		// its pong the last answer, so no timed wait is needed.
		in = append(in[:len(in):len(in)], frame.AppendFrame(nil, true, frame.OpPing, 0, []byte("barrier"), &[4]byte{1, 2, 3, 4})...)
		want = append(want, message{frame.OpPong, []byte("barrier")})
	}

	r := rand.New(rand.NewPCG(cut, uint64(len(in))))
	var chunks [][]byte
	for rest := in; len(rest) > 0; {
		n := len(rest)
		switch {
		case cut <= 1:
			n = 1
		case cut < uint64(len(rest)):
			n = 1 + r.IntN(int(cut))
		}
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	var early []byte
	if len(chunks) > 0 && cut%3 == 0 {
		early, chunks = chunks[0], chunks[1:] // in the handshake's packet
	}
	c, _ := dialEarly(t, addr, early)
	// Writes end quietly when the server has closed: that is checked below.
	go func() {
		for i, ch := range chunks {
			if _, err := c.nc.Write(ch); err != nil {
				return
			}
			if i < 32 && r.IntN(4) == 0 {
				time.Sleep(100 * time.Microsecond) // let some chunks arrive alone
			}
		}
		if partial {
			// End the stream inside the frame: the server must drop the
			// connection, having answered everything before it.
			_ = c.nc.(*net.TCPConn).CloseWrite()
		}
	}()

	const wait = 5 * time.Second
	for i, w := range want {
		m, err := c.recv(wait)
		if err != nil {
			t.Fatalf("answer %d: want %v, got error %v", i, w, err)
		}
		if m.op != w.op || string(m.payload) != string(w.payload) {
			t.Fatalf("answer %d: want %v, got %v", i, w, m)
		}
	}
	switch {
	case !closes && !partial:
		return // the barrier's pong was the last answer
	case partial:
		// We ended the stream inside a frame: the server owes nothing but
		// closing the connection, with or without a close frame.
		m, err := c.recv(wait)
		switch {
		case err == nil && m.op == frame.OpClose:
			if _, _, perr := frame.ParseClose(m.payload); perr != nil {
				t.Fatalf("close frame %q after the stream ended: %v", m.payload, perr)
			}
			c.expectServerHangup()
		case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		case err != nil:
			t.Fatalf("after %d answers and the end of the stream: %v", len(want), err)
		default:
			t.Fatalf("after %d answers and the end of the stream: unexpected %v", len(want), m)
		}
		return
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(wait))
	c.expectCloseIn(code, wait)
}

// model is an RFC 6455 server that echoes every message, reduced to what it
// must send for input in: pongs and echoes in order, then (closes) a close
// frame with code (0: empty payload) after which the server hangs up. partial
// reports that in ends inside a frame.
func model(in []byte, max int) (out []message, code frame.CloseCode, closes, partial bool) {
	var (
		open   bool // a fragmented message is open
		msgOp  frame.OpCode
		msg    []byte
		remain = in
	)
	fail := func(c frame.CloseCode) ([]message, frame.CloseCode, bool, bool) { return out, c, true, false }
	for {
		b := remain
		if len(b) < 2 {
			return out, 0, false, len(b) > 0
		}
		fin, rsv, op := b[0]&0x80 != 0, b[0]&0x70, frame.OpCode(b[0]&0x0f)
		masked, len7 := b[1]&0x80 != 0, int(b[1]&0x7f)
		control := op >= 8
		switch {
		case rsv != 0: // no extension negotiated
			return fail(1002)
		case op >= 3 && op <= 7, op >= 11:
			return fail(1002)
		case !masked:
			return fail(1002)
		case control && (!fin || len7 > 125):
			return fail(1002)
		case op == 0 && !open, op != 0 && !control && open:
			return fail(1002)
		}
		n, length := 2, uint64(len7)
		switch len7 {
		case 126:
			if len(b) < 4 {
				return out, 0, false, true
			}
			length, n = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return out, 0, false, true
			}
			length, n = binary.BigEndian.Uint64(b[2:]), 10
			if length>>63 != 0 {
				return fail(1002)
			}
		}
		if !control {
			before := 0
			if op == 0 {
				before = len(msg)
			}
			if length > uint64(max-before) {
				return fail(1009)
			}
		}
		if uint64(len(b)) < uint64(n)+4+length {
			return out, 0, false, true
		}
		key := b[n : n+4]
		p := make([]byte, length)
		for i := range p {
			p[i] = b[n+4+i] ^ key[i%4]
		}
		remain = b[n+4+int(length):]

		switch op {
		case 9: // ping
			out = append(out, message{frame.OpPong, p})
		case 10: // pong
		case 8: // close
			switch {
			case len(p) == 0:
				return out, 0, true, false
			case len(p) == 1:
				return fail(1002)
			}
			c := binary.BigEndian.Uint16(p)
			if !(c >= 1000 && c <= 1003 || c >= 1007 && c <= 1014 || c >= 3000 && c <= 4999) {
				return fail(1002)
			}
			if !utf8.Valid(p[2:]) {
				return fail(1007)
			}
			return out, frame.CloseCode(c), true, false
		default: // data
			if op != 0 {
				msgOp, msg = op, []byte{}
			}
			msg = append(msg, p...)
			open = !fin
			if msgOp == frame.OpText && (!validPrefix(msg) || fin && !utf8.Valid(msg)) {
				return fail(1007) // fail fast: at the frame that makes it invalid
			}
			if fin {
				out = append(out, message{msgOp, msg})
				msg = nil
			}
		}
	}
}

// validPrefix reports whether s is valid UTF-8 or can be completed into it:
// all of it but an incomplete last code point is valid, and that code point
// can still be finished.
func validPrefix(s []byte) bool {
	if utf8.Valid(s) {
		return true
	}
	for k := 1; k <= 3 && k <= len(s); k++ {
		head, tail := s[:len(s)-k], s[len(s)-k:]
		if !utf8.RuneStart(tail[0]) || utf8.FullRune(tail) || !utf8.Valid(head) {
			continue
		}
		size := 2 // the length the lead byte announces
		switch {
		case tail[0] >= 0xf0:
			size = 4
		case tail[0] >= 0xe0:
			size = 3
		}
		if k >= size {
			continue
		}
		// Only the first continuation byte is restricted by the lead byte;
		// try each, then fill with 0x80.
		if k >= 2 {
			full := append(append([]byte{}, tail...), make([]byte, size-k)...)
			for i := k; i < size; i++ {
				full[i] = 0x80
			}
			if utf8.Valid(full) {
				return true
			}
			continue
		}
		for c := byte(0x80); c <= 0xbf; c++ {
			full := []byte{tail[0], c, 0x80, 0x80}[:size]
			if utf8.Valid(full) {
				return true
			}
		}
	}
	return false
}

// fuzzSeeds are well-formed and broken client streams for the fuzzer to start
// from. They use a zero masking key so the payloads read as they are.
func fuzzSeeds() [][]byte {
	z := &[4]byte{}
	k := &[4]byte{0x37, 0xfa, 0x21, 0x3d}
	fb := func(fin bool, op frame.OpCode, p string) []byte {
		return frame.AppendFrame(nil, fin, op, 0, []byte(p), z)
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	closeP := func(code uint16, reason string) string {
		return string(binary.BigEndian.AppendUint16(nil, code)) + reason
	}
	return [][]byte{
		{},
		fb(true, frame.OpText, "hello"),
		frame.AppendFrame(nil, true, frame.OpBinary, 0, []byte{0, 1, 2, 0xff}, k),
		cat(fb(false, frame.OpText, "frag"), fb(true, frame.OpPing, "p"), fb(true, frame.OpContinuation, "mented")),
		cat(fb(true, frame.OpText, "a"), fb(true, frame.OpClose, closeP(1000, "bye")), fb(true, frame.OpText, "after")),
		fb(true, frame.OpClose, closeP(4999, "")),
		fb(true, frame.OpClose, closeP(1005, "")),
		fb(true, frame.OpClose, ""),
		fb(true, frame.OpClose, "x"),
		fb(true, frame.OpClose, closeP(1000, "\xff")),
		fb(true, frame.OpText, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"),
		cat(fb(false, frame.OpText, "\xce"), fb(true, frame.OpContinuation, "\xba")),
		fb(true, frame.OpBinary, string(make([]byte, 300))),
		fb(true, frame.OpBinary, string(make([]byte, fuzzMax+1))),
		frame.AppendFrame(nil, true, frame.OpText, 4, []byte("rsv"), z),
		frame.AppendFrame(nil, true, frame.OpText, 0, []byte("unmasked"), nil),
		fb(true, 3, "reserved"),
		fb(false, frame.OpPing, ""),
		fb(true, frame.OpContinuation, "nothing to continue"),
		cat(fb(false, frame.OpText, "a"), fb(true, frame.OpText, "b")),
		cat(fb(true, frame.OpPong, "unsolicited"), fb(true, frame.OpPing, string(make([]byte, 125)))),
		{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, // 64-bit length with the top bit set
		{0x81, 0xfe, 0x00, 0x05, 0, 0, 0, 0, 'h', 'e'},      // incomplete
	}
}

// TestModelAgreesWithCatalogue keeps the fuzz oracle honest on inputs whose
// answers the Autobahn cases spell out.
func TestModelAgreesWithCatalogue(t *testing.T) {
	z := &[4]byte{9, 8, 7, 6}
	fb := func(fin bool, op frame.OpCode, p string) []byte {
		return frame.AppendFrame(nil, fin, op, 0, []byte(p), z)
	}
	for _, tc := range []struct {
		name   string
		in     []byte
		out    int
		code   frame.CloseCode
		closes bool
	}{
		{"echo", fb(true, frame.OpText, "hi"), 1, 0, false},
		{"ping", fb(true, frame.OpPing, "x"), 1, 0, false},
		{"close empty", fb(true, frame.OpClose, ""), 0, 0, true},
		{"close 4000", fb(true, frame.OpClose, "\x0f\xa0"), 0, 4000, true},
		{"close 1005", fb(true, frame.OpClose, "\x03\xed"), 0, 1002, true},
		{"bad utf8 prefix", append(fb(false, frame.OpText, "\xf4\x90"), 0x80), 0, 1007, true},
		{"good utf8 prefix", fb(false, frame.OpText, "\xf4\x8f"), 0, 0, false},
		{"too big", fb(true, frame.OpBinary, string(make([]byte, fuzzMax+1)))[:4], 0, 1009, true},
		{"incomplete", fb(true, frame.OpBinary, "abcdef")[:7], 0, 0, false},
	} {
		out, code, closes, _ := model(tc.in, fuzzMax)
		if len(out) != tc.out || code != tc.code || closes != tc.closes {
			t.Errorf("%s: model says %v, %d, %v", tc.name, out, code, closes)
		}
	}
	for _, s := range []string{"", "a", "\xce", "\xe0\xa0", "\xf0\x90\x80", "\xf4\x8f\xbf"} {
		if !validPrefix([]byte(s)) {
			t.Errorf("validPrefix(%x) = false", s)
		}
	}
	for _, s := range []string{"\xc0", "\xe0\x80", "\xed\xa0", "\xf4\x90", "\xf5", "\x80", "a\xff"} {
		if validPrefix([]byte(s)) {
			t.Errorf("validPrefix(%x) = true", s)
		}
	}
}
