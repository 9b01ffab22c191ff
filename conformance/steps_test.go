package conformance

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

// The catalogue's cases are written as lists of steps: what the client sends
// (in one write, frame by frame, or cut into chops) and what it must get back
// before the next step. The last step says how the case ends: a clean close
// started by the client, or the server failing the connection with a code.

// Autobahn waits a second where a case needs the peer to have processed what
// was sent (or to show it has not answered); pause is that wait here.
const pause = 100 * time.Millisecond

// syncPause separates the writes of a frame-wise ("sync") send so the frames
// reach the server in separate reads.
const syncPause = 2 * time.Millisecond

// failFast bounds how long a server may take to fail the connection after the
// bytes that make it fail (6.4.x): far below ioTimeout, so a server that waits
// for more input fails the case instead of hanging it.
const failFast = 2 * time.Second

type step func(c *client)

// fr is one frame a case sends; the mask is chosen when it is encoded.
type fr struct {
	fin     bool
	op      frame.OpCode
	rsv     byte
	payload []byte
}

func (f fr) encode() []byte { return clientFrame(f.fin, f.op, f.rsv, f.payload) }

func (f fr) withRsv(rsv byte) fr { f.rsv = rsv; return f }

func text(s string) fr               { return fr{fin: true, op: frame.OpText, payload: []byte(s)} }
func textB(b []byte) fr              { return fr{fin: true, op: frame.OpText, payload: b} }
func binary_(b []byte) fr            { return fr{fin: true, op: frame.OpBinary, payload: b} }
func ping(s string) fr               { return fr{fin: true, op: frame.OpPing, payload: []byte(s)} }
func pong(s string) fr               { return fr{fin: true, op: frame.OpPong, payload: []byte(s)} }
func op(o frame.OpCode, s string) fr { return fr{fin: true, op: o, payload: []byte(s)} }

// frag is one fragment: fin and opcode as given.
func frag(o frame.OpCode, fin bool, s string) fr { return fr{fin: fin, op: o, payload: []byte(s)} }

// closeFr is a close frame with code and reason written as given, even where
// frame.AppendClose would refuse them (invalid codes, long or bad reasons).
func closeFr(code uint16, reason string) fr {
	p := binary.BigEndian.AppendUint16(nil, code)
	return fr{fin: true, op: frame.OpClose, payload: append(p, reason...)}
}

// closeRaw is a close frame with payload p as is.
func closeRaw(p []byte) fr { return fr{fin: true, op: frame.OpClose, payload: p} }

func encodeAll(frs []fr) []byte {
	var b []byte
	for _, f := range frs {
		b = append(b, f.encode()...)
	}
	return b
}

// send writes the frames in one write (Autobahn's default: one chop).
func send(frs ...fr) step {
	return func(c *client) { c.write(encodeAll(frs)) }
}

// sendSync writes each frame on its own, a little apart (Autobahn's sync).
func sendSync(frs ...fr) step {
	return func(c *client) {
		for i, f := range frs {
			if i > 0 {
				time.Sleep(syncPause)
			}
			c.writeChops(f.encode(), 1<<30, 0, true)
		}
	}
}

// sendChops writes the frames' bytes in pieces of chop bytes, delay apart.
func sendChops(chop int, delay time.Duration, frs ...fr) step {
	return func(c *client) { c.writeChops(encodeAll(frs), chop, delay, true) }
}

func wait(d time.Duration) step { return func(c *client) { time.Sleep(d) } }

// quiet: the server answers nothing and keeps the connection for d.
func quiet(d time.Duration) step { return func(c *client) { c.quiet(d) } }

func expect(o frame.OpCode, p []byte) step {
	return func(c *client) { c.t.Helper(); c.expect(o, p) }
}
func expectText(s string) step  { return expect(frame.OpText, []byte(s)) }
func expectPong(s string) step  { return expect(frame.OpPong, []byte(s)) }
func expectBin(b []byte) step   { return expect(frame.OpBinary, b) }
func expectTextB(b []byte) step { return expect(frame.OpText, b) }

// cleanClose ends a case: the client closes with 1000, the server echoes 1000
// and closes the TCP connection.
func cleanClose() step { return func(c *client) { c.t.Helper(); c.closeNormally() } }

// failWith ends a case: the server's next frame is a close frame with code
// (it fails the connection without waiting for us), then it closes TCP.
func failWith(code frame.CloseCode) step {
	return func(c *client) { c.t.Helper(); c.expectClose(code) }
}

// closeEcho ends a case: the server's next frame is a close frame with code
// (0: empty payload) answering ours, then it closes TCP.
func closeEcho(code frame.CloseCode) step { return failWith(code) }

// failFastWith: like failWith, but the close frame must come within failFast
// while we send nothing more: the server may not wait for the rest of the
// message to fail it.
func failFastWith(code frame.CloseCode) step {
	return func(c *client) { c.t.Helper(); c.expectCloseIn(code, failFast) }
}

// acase is one case of the catalogue.
type acase struct {
	id    string
	desc  string
	steps []step
}

// runCases runs each case on its own connection to addr, in parallel.
func runCases(t *testing.T, addr string, cases []acase, extra ...string) {
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.id] {
			t.Fatalf("case %s listed twice", tc.id)
		}
		seen[tc.id] = true
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("case %s: %s", tc.id, tc.desc)
				}
			})
			c, _ := dial(t, addr, extra...)
			for _, s := range tc.steps {
				s(c)
			}
		})
	}
}

// repeat returns b repeated to n bytes.
func repeat(b string, n int) []byte { return bytes.Repeat([]byte(b), n/len(b)+1)[:n] }
