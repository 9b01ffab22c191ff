package interop

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// closeEvent is what the server's OnClose saw.
type closeEvent struct {
	code   frame.CloseCode
	reason string
}

func (e closeEvent) String() string { return fmt.Sprintf("%d %q", e.code, e.reason) }

type received struct {
	op      frame.OpCode
	payload []byte
}

// echoServer is an in-process conn.Server that echoes every message and
// records what its handler saw.
type echoServer struct {
	addr string

	mu         sync.Mutex
	msgs       []received
	compressed []bool // Conn.Compressed() of each connection, at OnOpen
	closes     chan closeEvent
}

// startEcho starts an echo conn.Server on 127.0.0.1:0 and shuts it down at
// the end of the test. It echoes through Conn.Write, or with prepared through
// WritePrepared (the encode-once path of a publish); both compress when
// permessage-deflate was negotiated (Write from 64 bytes on).
func startEcho(t *testing.T, cfg conn.Config, prepared bool) *echoServer {
	t.Helper()
	e := &echoServer{closes: make(chan closeEvent, 16)}
	srv := &conn.Server{
		Handler: conn.HandlerFuncs{
			Open: func(c *conn.Conn) {
				e.mu.Lock()
				e.compressed = append(e.compressed, c.Compressed())
				e.mu.Unlock()
			},
			Message: func(c *conn.Conn, op frame.OpCode, p []byte) {
				e.mu.Lock()
				e.msgs = append(e.msgs, received{op, bytes.Clone(p)})
				e.mu.Unlock()
				var err error
				if prepared {
					err = c.WritePrepared(frame.NewPrepared(op, p))
				} else {
					err = c.Write(op, p)
				}
				if err != nil {
					t.Errorf("server echo: %v", err)
				}
			},
			Close: func(c *conn.Conn, code frame.CloseCode, reason string) {
				e.closes <- closeEvent{code, reason}
			},
		},
		Config: cfg,
	}
	ln, err := conn.Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Error("Serve did not return after Shutdown")
		}
	})
	return e
}

// waitClose returns the next OnClose event.
func (e *echoServer) waitClose(t *testing.T) closeEvent {
	t.Helper()
	select {
	case ev := <-e.closes:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("the server's OnClose did not run")
		return closeEvent{}
	}
}

func (e *echoServer) wasCompressed() []bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]bool(nil), e.compressed...)
}

// tapConn records the bytes a client writes and reads, so a test can see the
// frames on the wire: whether a client fragmented a message, whether either
// side compressed.
type tapConn struct {
	net.Conn
	mu      sync.Mutex
	out, in []byte
}

func (c *tapConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.out = append(c.out, b...)
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.in = append(c.in, b[:n]...)
	c.mu.Unlock()
	return n, err
}

// tapDialer dials TCP connections and keeps a tap on each.
type tapDialer struct {
	mu   sync.Mutex
	taps []*tapConn
}

func (d *tapDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := &tapConn{Conn: nc}
	d.mu.Lock()
	d.taps = append(d.taps, tc)
	d.mu.Unlock()
	return tc, nil
}

func (d *tapDialer) last(t *testing.T) *tapConn {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.taps) == 0 {
		t.Fatal("no connection was dialed")
	}
	return d.taps[len(d.taps)-1]
}

// wireFrame is a frame seen on the wire (payload as sent: masked or
// compressed bytes are not undone beyond unmasking).
type wireFrame struct {
	fin     bool
	rsv1    bool
	op      frame.OpCode
	payload []byte
}

// sent returns the frames the client wrote after its handshake request.
func (c *tapConn) sent(t *testing.T) []wireFrame {
	c.mu.Lock()
	b := bytes.Clone(c.out)
	c.mu.Unlock()
	return parseWire(t, b, false)
}

// got returns the frames the client read after the server's 101.
func (c *tapConn) got(t *testing.T) []wireFrame {
	c.mu.Lock()
	b := bytes.Clone(c.in)
	c.mu.Unlock()
	return parseWire(t, b, true)
}

func parseWire(t *testing.T, b []byte, fromServer bool) []wireFrame {
	t.Helper()
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatalf("no HTTP head on the wire: %q", b)
	}
	b = b[i+4:]
	dec := frame.Decoder{Client: fromServer, Deflate: true}
	var out []wireFrame
	for len(b) > 0 {
		f, n, err := dec.Next(b)
		if err != nil {
			t.Fatalf("frame %d on the wire (from server: %v): %v", len(out), fromServer, err)
		}
		if n == 0 {
			break // the rest is still in flight
		}
		out = append(out, wireFrame{f.Fin, f.Rsv&frame.RSV1 != 0, f.Op, bytes.Clone(f.Payload)})
		b = b[n:]
	}
	return out
}

// dataFrames keeps the text, binary and continuation frames.
func dataFrames(fs []wireFrame) []wireFrame {
	var out []wireFrame
	for _, f := range fs {
		if frame.IsData(f.op) {
			out = append(out, f)
		}
	}
	return out
}

// needBinary returns the path of a program the test needs. Without it the
// test is skipped on a developer's machine, and fails in CI (CI=... set),
// which installs it.
func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "" {
		t.Skipf("%s is not installed (CI installs it; here: skipped)", name)
	}
	t.Fatalf("%s is not installed, and CI is set: .ci/run must install it", name)
	return ""
}

// compressible is a text message that any deflate implementation compresses
// (each client has a size threshold below which it does not bother).
func compressible(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "message %d of a compressible stream; ", i%10)
	}
	return b.Bytes()[:n]
}

// echoReport is what a foreign client (node/client.js, the browser page)
// reports back: the extensions it negotiated, the echoes it got and its
// errors.
type echoReport struct {
	Extensions string `json:"extensions"`
	Messages   []struct {
		Binary bool   `json:"binary"`
		Text   string `json:"text"`
		Hex    string `json:"hex"`
	} `json:"messages"`
	Errors []string `json:"errors"`
}

// echoMsg is one expected echo: text, or binary as hex.
type echoMsg struct {
	Binary    bool
	Text, Hex string
}

// check fails t unless the client saw no error, negotiated permessage-deflate
// exactly when compress is set (and the server agrees), and got want.
func (r *echoReport) check(t *testing.T, srv *echoServer, compress bool, want []echoMsg) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("client errors: %v", r.Errors)
	}
	if got := strings.Contains(r.Extensions, "permessage-deflate"); got != compress {
		t.Fatalf("extensions %q, want permessage-deflate: %v", r.Extensions, compress)
	}
	if got := srv.wasCompressed(); len(got) != 1 || got[0] != compress {
		t.Fatalf("server side Compressed() = %v, want [%v]", got, compress)
	}
	var got []echoMsg
	for _, m := range r.Messages {
		got = append(got, echoMsg{m.Binary, m.Text, m.Hex})
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("echoes:\n got %+v\nwant %+v", got, want)
	}
}
