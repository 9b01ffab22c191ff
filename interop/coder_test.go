package interop

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// dialCoder dials srv with coder/websocket through a tap.
func dialCoder(t *testing.T, ctx context.Context, srv *echoServer, mode websocket.CompressionMode, pongs chan<- string) (*websocket.Conn, *tapConn, *http.Response) {
	t.Helper()
	var taps tapDialer
	opts := &websocket.DialOptions{
		HTTPClient:      &http.Client{Transport: &http.Transport{DialContext: taps.DialContext}},
		CompressionMode: mode,
		OnPongReceived:  func(_ context.Context, p []byte) { pongs <- string(p) },
	}
	c, resp, err := websocket.Dial(ctx, "ws://"+srv.addr+"/coder", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	c.SetReadLimit(1 << 20)
	return c, taps.last(t), resp
}

func coderRoundTrip(t *testing.T, ctx context.Context, c *websocket.Conn, typ websocket.MessageType, p []byte) {
	t.Helper()
	if err := c.Write(ctx, typ, p); err != nil {
		t.Fatal(err)
	}
	gt, gp, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if gt != typ || !bytes.Equal(gp, p) {
		t.Fatalf("echo: got %v %d bytes, want %v %d bytes", gt, len(gp), typ, len(p))
	}
}

func TestCoder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := startEcho(t, conn.Config{MaxMessageSize: 1 << 20}, false)
	pongs := make(chan string, 4)
	c, tap, _ := dialCoder(t, ctx, srv, websocket.CompressionDisabled, pongs)

	coderRoundTrip(t, ctx, c, websocket.MessageText, []byte("hello coder"))
	coderRoundTrip(t, ctx, c, websocket.MessageBinary, []byte{0, 1, 2, 0xfe, 0xff})
	coderRoundTrip(t, ctx, c, websocket.MessageBinary, bytes.Repeat([]byte{0xfe}, 70000))

	// Writer: each Write is a frame.
	before := len(dataFrames(tap.sent(t)))
	w, err := c.Writer(ctx, websocket.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	parts := []string{"frag-1|", "frag-2|", "frag-3"}
	for _, p := range parts {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	typ, got, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if typ != websocket.MessageText || string(got) != "frag-1|frag-2|frag-3" {
		t.Fatalf("fragmented message: echo %v %q", typ, got)
	}
	frags := dataFrames(tap.sent(t))[before:]
	if len(frags) < len(parts) {
		t.Fatalf("coder sent the message in %d frame(s), want %d", len(frags), len(parts))
	}
	t.Logf("coder sent the fragmented message as %d frames", len(frags))

	// Ping: coder's payload is a counter; the pong callback sees it. Ping
	// waits for the pong, which a concurrent Read delivers.
	pingErr := make(chan error, 1)
	go func() { pingErr <- c.Ping(ctx) }()
	time.Sleep(10 * time.Millisecond) // let the ping go out before the next message
	coderRoundTrip(t, ctx, c, websocket.MessageText, []byte("after the ping"))
	if err := <-pingErr; err != nil {
		t.Fatalf("ping: %v", err)
	}
	select {
	case p := <-pongs:
		if p != "1" {
			t.Fatalf("pong payload %q, want coder's first ping payload \"1\"", p)
		}
	default:
		t.Fatal("the pong callback did not run")
	}
	var pingPayload string
	for _, f := range tap.sent(t) {
		if f.op == frame.OpPing {
			pingPayload = string(f.payload)
		}
	}
	if pingPayload != "1" {
		t.Fatalf("ping payload on the wire %q", pingPayload)
	}

	// Close with 4000 "bye": coder's Close returns nil only when the peer's
	// close frame carries the same code.
	if err := c.Close(4000, "bye"); err != nil {
		t.Fatalf("close handshake: %v", err)
	}
	if ev := srv.waitClose(t); ev.code != 4000 || ev.reason != "bye" {
		t.Fatalf("server OnClose %v, want 4000 \"bye\"", ev)
	}
}

// TestCoderCompression checks permessage-deflate both ways: the client
// compresses what it sends and the server inflates it; the server (echoing
// through Write, or WritePrepared) compresses what it sends and the client
// inflates it.
func TestCoderCompression(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mode     websocket.CompressionMode
		prepared bool
	}{
		{"NoContextTakeover/Write", websocket.CompressionNoContextTakeover, false},
		{"NoContextTakeover/WritePrepared", websocket.CompressionNoContextTakeover, true},
		// The client offers context takeover; the server's answer
		// (client_no_context_takeover) makes it reset its window per message.
		{"ContextTakeover/Write", websocket.CompressionContextTakeover, false},
		{"ContextTakeover/WritePrepared", websocket.CompressionContextTakeover, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			srv := startEcho(t, conn.Config{Compression: true, MaxMessageSize: 1 << 20}, tc.prepared)
			pongs := make(chan string, 4)
			c, tap, resp := dialCoder(t, ctx, srv, tc.mode, pongs)
			t.Logf("server's answer: %s", resp.Header.Get("Sec-WebSocket-Extensions"))
			if got := srv.wasCompressed(); len(got) != 1 || !got[0] {
				t.Fatalf("server side Compressed() = %v", got)
			}

			msgs := [][]byte{
				compressible(4096),
				[]byte("short"), // under coder's threshold: sent plain
				compressible(100000),
				{},
				compressible(600),
			}
			for i, m := range msgs {
				coderRoundTrip(t, ctx, c, websocket.MessageText, m)
				coderRoundTrip(t, ctx, c, websocket.MessageBinary, append([]byte(fmt.Sprint(i)), m...))
			}
			sent, got := tap.sent(t), tap.got(t)
			var cz, sz int
			for _, f := range sent {
				if f.rsv1 {
					cz++
				}
			}
			for _, f := range got {
				if f.rsv1 {
					sz++
				}
			}
			if cz == 0 {
				t.Fatal("the client compressed no message: permessage-deflate client->server untested")
			}
			if sz == 0 {
				t.Fatal("the server compressed no message")
			}
			t.Logf("%d of the client's frames and %d of the server's were compressed", cz, sz)

			if err := c.Close(websocket.StatusNormalClosure, "done"); err != nil {
				t.Fatalf("close handshake: %v", err)
			}
			if ev := srv.waitClose(t); ev.code != 1000 || ev.reason != "done" {
				t.Fatalf("server OnClose %v", ev)
			}
		})
	}
}
