package conn

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

// startServer runs s on a loopback port and shuts it down at the test's end.
func startServer(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Error("Serve did not return after Shutdown")
		}
	})
	return ln.Addr().String()
}

func echoServer(cfg Config) *Server {
	return &Server{
		Handler: HandlerFuncs{Message: func(c *Conn, op frame.OpCode, p []byte) { _ = c.Write(op, p) }},
		Config:  cfg,
	}
}

// rawClient speaks WebSocket byte by byte so tests can send what no real
// client would.
type rawClient struct {
	t    testing.TB
	nc   net.Conn
	br   *bufio.Reader
	dec  frame.Decoder
	buf  []byte
	mask [4]byte
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	rc := &rawClient{t: t, nc: nc, br: bufio.NewReader(nc), mask: [4]byte{1, 2, 3, 4}}
	rc.dec.Client = true
	return rc
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

func upgradeRequest(path string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", path, testKey)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// handshake sends the upgrade request (plus any bytes appended to it in the
// same write) and reads the response.
func (rc *rawClient) handshake(extra []byte) *http.Response {
	rc.t.Helper()
	req := append([]byte(upgradeRequest("/")), extra...)
	if _, err := rc.nc.Write(req); err != nil {
		rc.t.Fatal(err)
	}
	return rc.readResponse()
}

func (rc *rawClient) readResponse() *http.Response {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.t.Fatal(err)
	}
	return resp
}

func (rc *rawClient) frameBytes(fin bool, op frame.OpCode, payload []byte) []byte {
	return frame.AppendFrame(nil, fin, op, 0, payload, &rc.mask)
}

func (rc *rawClient) send(fin bool, op frame.OpCode, payload []byte) {
	rc.t.Helper()
	rc.write(rc.frameBytes(fin, op, payload))
}

func (rc *rawClient) write(b []byte) {
	rc.t.Helper()
	if _, err := rc.nc.Write(b); err != nil {
		rc.t.Fatal(err)
	}
}

// next reads one frame from the server.
func (rc *rawClient) next() (frame.Frame, error) {
	for {
		if len(rc.buf) > 0 {
			f, n, err := rc.dec.Next(rc.buf)
			if err != nil {
				return f, err
			}
			if n > 0 {
				f.Payload = append([]byte(nil), f.Payload...)
				rc.buf = rc.buf[n:]
				return f, nil
			}
		}
		var tmp [4096]byte
		n, err := rc.br.Read(tmp[:])
		if n > 0 {
			rc.buf = append(rc.buf, tmp[:n]...)
			continue
		}
		if err != nil {
			return frame.Frame{}, err
		}
	}
}

func (rc *rawClient) mustNext() frame.Frame {
	rc.t.Helper()
	f, err := rc.next()
	if err != nil {
		rc.t.Fatalf("reading frame: %v", err)
	}
	return f
}

// expectClose reads until the server's close frame and checks its code, then
// that the server closes the TCP connection.
func (rc *rawClient) expectClose(code frame.CloseCode, reason string) {
	rc.t.Helper()
	for {
		f := rc.mustNext()
		if f.Op != frame.OpClose {
			continue
		}
		got, why, err := frame.ParseClose(f.Payload)
		if err != nil {
			rc.t.Fatalf("bad close payload: %v", err)
		}
		if got != code || (reason != "" && why != reason) {
			rc.t.Fatalf("close = %v %q, want %v %q", got, why, code, reason)
		}
		break
	}
	rc.expectEOF()
}

func (rc *rawClient) expectEOF() {
	rc.t.Helper()
	_ = rc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(rc.br)
	if err != nil {
		rc.t.Fatalf("want the server to close the connection, got %v after %d bytes", err, len(b))
	}
	rc.nc.Close() // as a real client does once the server has closed
}

// recorder is a Handler that records events.
type recorder struct {
	mu     sync.Mutex
	opened int
	msgs   [][]byte
	ops    []frame.OpCode
	closes []string
	closed chan struct{}
	once   sync.Once
	echo   bool
}

func newRecorder(echo bool) *recorder { return &recorder{closed: make(chan struct{}), echo: echo} }

func (r *recorder) OnOpen(c *Conn) {
	r.mu.Lock()
	r.opened++
	r.mu.Unlock()
}

func (r *recorder) OnMessage(c *Conn, op frame.OpCode, p []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, bytes.Clone(p))
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	if r.echo {
		_ = c.Write(op, p)
	}
}

func (r *recorder) OnClose(c *Conn, code frame.CloseCode, reason string) {
	r.mu.Lock()
	r.closes = append(r.closes, fmt.Sprintf("%d %s", code, reason))
	r.mu.Unlock()
	r.once.Do(func() { close(r.closed) })
}

func (r *recorder) waitClosed(t testing.TB) string {
	t.Helper()
	select {
	case <-r.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose did not run")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closes[0]
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
