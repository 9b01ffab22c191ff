package conformance

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

// client is a raw WebSocket client: it writes whatever bytes a case asks for
// and decodes what the server sends with a client-side frame.Decoder, which
// also checks that the server's frames are well formed (unmasked, no reserved
// bits, valid UTF-8 in text and close reasons, control frames <= 125 bytes).
type client struct {
	t       testing.TB
	nc      net.Conn
	buf     []byte // received, not yet decoded
	dec     frame.Decoder
	deflate bool // permessage-deflate was negotiated

	msg   []byte // fragments of a server message being reassembled
	msgOp frame.OpCode
	zip   bool
}

// ioTimeout bounds every read of the suite: long enough for a 1 MiB echo on a
// loaded 2-core machine under -race, short enough that a hung case fails fast.
const ioTimeout = 10 * time.Second

const handshakeKey = "dGhlIHNhbXBsZSBub25jZQ=="

// dial connects to addr and completes the opening handshake; extra are more
// request header lines ("Name: value").
func dial(t testing.TB, addr string, extra ...string) (*client, *http.Response) {
	t.Helper()
	return dialEarly(t, addr, nil, extra...)
}

// dialEarly is dial with early appended to the upgrade request, in the same
// write: bytes a client sends before it has seen the 101.
func dialEarly(t testing.TB, addr string, early []byte, extra ...string) (*client, *http.Response) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &client{t: t, nc: nc}
	c.dec.Client = true
	var req strings.Builder
	fmt.Fprintf(&req, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", addr, handshakeKey)
	for _, h := range extra {
		req.WriteString(h + "\r\n")
	}
	req.WriteString("\r\n")
	c.write(append([]byte(req.String()), early...))
	_ = nc.SetReadDeadline(time.Now().Add(ioTimeout))
	var head []byte
	for {
		if i := bytes.Index(c.buf, []byte("\r\n\r\n")); i >= 0 {
			head, c.buf = c.buf[:i+4], c.buf[i+4:]
			break
		}
		if err := c.fill(); err != nil {
			t.Fatalf("reading the handshake response: %v", err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), nil)
	if err != nil {
		t.Fatalf("parsing the handshake response: %v\n%s", err, head)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d, want 101", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), frame.AcceptKey(handshakeKey); got != want {
		t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		if !strings.Contains(ext, "permessage-deflate") {
			t.Fatalf("unexpected extension %q", ext)
		}
		c.deflate = true
		c.dec.Deflate = true
	}
	return c, resp
}

// fill reads more bytes from the socket into buf.
func (c *client) fill() error {
	var tmp [64 << 10]byte
	n, err := c.nc.Read(tmp[:])
	c.buf = append(c.buf, tmp[:n]...)
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// write sends b in one write.
func (c *client) write(b []byte) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// writeChops sends b in pieces of chop bytes with delay between them. A
// write error ends it quietly when tolerate is set: a case that has just
// failed the connection sends the rest of its bytes into a closed socket, and
// the expectations that follow say whether that was right.
func (c *client) writeChops(b []byte, chop int, delay time.Duration, tolerate bool) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
	for len(b) > 0 {
		n := min(chop, len(b))
		if _, err := c.nc.Write(b[:n]); err != nil {
			if tolerate {
				return
			}
			c.t.Fatalf("write: %v", err)
		}
		b = b[n:]
		if delay > 0 && len(b) > 0 {
			time.Sleep(delay)
		}
	}
}

// errQuiet is next's error when nothing arrived within its wait.
var errQuiet = errors.New("no frame within the wait")

// next returns the next frame from the server, waiting at most wait.
func (c *client) next(wait time.Duration) (frame.Frame, error) {
	deadline := time.Now().Add(wait)
	for {
		if len(c.buf) > 0 {
			f, n, err := c.dec.Next(c.buf)
			if err != nil {
				return f, fmt.Errorf("the server sent a malformed frame: %w", err)
			}
			if n > 0 {
				f.Payload = bytes.Clone(f.Payload)
				c.buf = c.buf[n:]
				return f, nil
			}
		}
		_ = c.nc.SetReadDeadline(deadline)
		if err := c.fill(); err != nil {
			if isTimeout(err) {
				return frame.Frame{}, errQuiet
			}
			return frame.Frame{}, err
		}
	}
}

// arrived reports whether the server has sent anything that is not yet
// read, waiting at most wait for it.
func (c *client) arrived(wait time.Duration) bool {
	if len(c.buf) > 0 {
		return true
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(wait))
	err := c.fill()
	return len(c.buf) > 0 || (err != nil && !isTimeout(err))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// message is one thing the server sent: a whole data message (fragments
// reassembled, decompressed) or a control frame.
type message struct {
	op      frame.OpCode
	payload []byte
}

func (m message) String() string {
	p := m.payload
	if len(p) > 40 {
		return fmt.Sprintf("%v(%d bytes %q...)", opName(m.op), len(p), p[:40])
	}
	return fmt.Sprintf("%v(%q)", opName(m.op), p)
}

func opName(op frame.OpCode) string {
	switch op {
	case frame.OpText:
		return "text"
	case frame.OpBinary:
		return "binary"
	case frame.OpPing:
		return "ping"
	case frame.OpPong:
		return "pong"
	case frame.OpClose:
		return "close"
	case frame.OpContinuation:
		return "continuation"
	}
	return fmt.Sprintf("op%d", op)
}

// recv returns the next message or control frame, waiting at most wait for
// each frame.
func (c *client) recv(wait time.Duration) (message, error) {
	for {
		f, err := c.next(wait)
		if err != nil {
			return message{}, err
		}
		if frame.IsControl(f.Op) {
			return message{f.Op, f.Payload}, nil
		}
		if f.Op != frame.OpContinuation {
			c.msgOp, c.zip, c.msg = f.Op, f.Compressed, nil
		}
		c.msg = append(c.msg, f.Payload...)
		if !f.Fin {
			continue
		}
		p := c.msg
		c.msg = nil
		if p == nil {
			p = []byte{}
		}
		if c.zip {
			out, err := frame.Decompress(nil, p, 0)
			if err != nil {
				return message{}, fmt.Errorf("the server sent a bad compressed message: %w", err)
			}
			p = out
		}
		return message{c.msgOp, p}, nil
	}
}

// expect reads the next message and checks it is exactly op and payload.
func (c *client) expect(op frame.OpCode, payload []byte) {
	c.t.Helper()
	m, err := c.recv(ioTimeout)
	if err != nil {
		c.t.Fatalf("want %v, got error: %v", message{op, payload}, err)
	}
	if m.op != op || !bytes.Equal(m.payload, payload) {
		c.t.Fatalf("want %v, got %v", message{op, payload}, m)
	}
}

// quiet checks that the server sends nothing (and keeps the connection open)
// for d.
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	m, err := c.recv(d)
	if errors.Is(err, errQuiet) {
		return
	}
	if err != nil {
		c.t.Fatalf("want silence for %v, got error: %v", d, err)
	}
	c.t.Fatalf("want silence for %v, got %v", d, m)
}

// expectClose reads the server's next frame, which must be a close frame
// with code (0: an empty payload), and then checks that the server closes the
// TCP connection by itself, without sending anything more.
func (c *client) expectClose(code frame.CloseCode) {
	c.t.Helper()
	c.expectCloseIn(code, ioTimeout)
}

// expectCloseIn is expectClose with the close frame due within wait.
func (c *client) expectCloseIn(code frame.CloseCode, wait time.Duration) {
	c.t.Helper()
	m, err := c.recv(wait)
	if errors.Is(err, errQuiet) {
		c.t.Fatalf("want a close frame with %d within %v, got nothing", code, wait)
	}
	if err != nil {
		c.t.Fatalf("want a close frame with %d, got error: %v", code, err)
	}
	if m.op != frame.OpClose {
		c.t.Fatalf("want a close frame with %d, got %v", code, m)
	}
	if code == 0 {
		if len(m.payload) != 0 {
			c.t.Fatalf("want a close frame with an empty payload, got code %d reason %q", binary.BigEndian.Uint16(m.payload), m.payload[2:])
		}
	} else {
		got, reason, err := frame.ParseClose(m.payload)
		if err != nil {
			c.t.Fatalf("close payload %q: %v", m.payload, err)
		}
		if got != code {
			c.t.Fatalf("close code %d (%q), want %d", got, reason, code)
		}
	}
	c.expectServerHangup()
}

// expectServerHangup checks that the server closes the TCP connection (we
// read EOF, or a reset when bytes we sent after its close frame were still
// unread) within ioTimeout, and sends nothing before doing so.
func (c *client) expectServerHangup() {
	c.t.Helper()
	if len(c.buf) > 0 {
		c.t.Fatalf("the server sent %d more bytes after its close frame: %q", len(c.buf), c.buf)
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	var tmp [4096]byte
	n, err := c.nc.Read(tmp[:])
	switch {
	case n > 0:
		c.t.Fatalf("the server sent %d more bytes after its close frame: %q", n, tmp[:n])
	case err == io.EOF, errors.Is(err, syscall.ECONNRESET):
		// The server closed the TCP connection.
	default:
		if isTimeout(err) {
			c.t.Fatalf("the server did not close the TCP connection within %v after its close frame", ioTimeout)
		}
		c.t.Fatalf("waiting for the server to close the TCP connection: %v", err)
	}
}

// closeNormally runs a clean client-initiated close: our close frame with
// 1000, the server's echo with 1000, then the server closes TCP.
func (c *client) closeNormally() {
	c.t.Helper()
	c.write(clientFrame(true, frame.OpClose, 0, frame.AppendClose(nil, frame.CloseNormal, "")))
	c.expectClose(frame.CloseNormal)
}

// clientFrame encodes one masked frame with a fresh masking key.
func clientFrame(fin bool, op frame.OpCode, rsv byte, payload []byte) []byte {
	m := frame.NewMask()
	return frame.AppendFrame(nil, fin, op, rsv, payload, &m)
}
