package interop

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

func TestGorilla(t *testing.T) {
	srv := startEcho(t, conn.Config{}, false)
	var taps tapDialer
	d := websocket.Dialer{
		NetDialContext:   taps.DialContext,
		HandshakeTimeout: 5 * time.Second,
		WriteBufferSize:  512, // NextWriter flushes a frame whenever this fills
	}
	c, resp, err := d.Dial("ws://"+srv.addr+"/gorilla", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	tap := taps.last(t)

	roundTrip := func(typ int, p []byte) {
		t.Helper()
		if err := c.WriteMessage(typ, p); err != nil {
			t.Fatal(err)
		}
		gt, gp, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if gt != typ || !bytes.Equal(gp, p) {
			t.Fatalf("echo: got type %d %q, want type %d %q", gt, gp, typ, p)
		}
	}
	roundTrip(websocket.TextMessage, []byte("hello gorilla"))
	roundTrip(websocket.BinaryMessage, []byte{0, 1, 2, 0xfe, 0xff})
	roundTrip(websocket.TextMessage, []byte{})

	// A fragmented message: several Writes on one NextWriter, larger than
	// the write buffer, so gorilla sends several frames.
	before := len(dataFrames(tap.sent(t)))
	w, err := c.NextWriter(websocket.TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	var whole []byte
	for i := range 5 {
		part := bytes.Repeat([]byte{'a' + byte(i)}, 300)
		whole = append(whole, part...)
		if _, err := w.Write(part); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	typ, got, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if typ != websocket.TextMessage || !bytes.Equal(got, whole) {
		t.Fatalf("fragmented message: echo is type %d, %d bytes; want text, %d bytes", typ, len(got), len(whole))
	}
	frags := dataFrames(tap.sent(t))[before:]
	if len(frags) < 2 {
		t.Fatalf("gorilla sent the message in %d frame(s): the test did not fragment it", len(frags))
	}
	for i, f := range frags {
		wantOp := frame.OpContinuation
		if i == 0 {
			wantOp = frame.OpText
		}
		if f.op != wantOp || f.fin != (i == len(frags)-1) {
			t.Fatalf("fragment %d: op %v fin %v", i, f.op, f.fin)
		}
	}
	t.Logf("gorilla fragmented the %d-byte message into %d frames", len(whole), len(frags))

	// Ping with a payload: the pong handler sees it (during the next read).
	pongs := make(chan string, 1)
	c.SetPongHandler(func(p string) error { pongs <- p; return nil })
	if err := c.WriteControl(websocket.PingMessage, []byte("gorilla-ping"), time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	roundTrip(websocket.TextMessage, []byte("after the ping"))
	select {
	case p := <-pongs:
		if p != "gorilla-ping" {
			t.Fatalf("pong payload %q", p)
		}
	default:
		t.Fatal("no pong before the echo that followed the ping")
	}

	// Close with 4000 "bye": the server's OnClose sees it, and its echo
	// (4000) reaches the client.
	if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "bye")); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 {
		t.Fatalf("after our close: read returned %v, want the server's close 4000", err)
	}
	// And the server ends the TCP connection: its FIN reaches the raw socket.
	_ = tap.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := tap.Conn.Read(make([]byte, 64)); n != 0 || err != io.EOF {
		t.Fatalf("after the close handshake: read %d bytes, %v; want EOF from the server", n, err)
	}
	_ = c.Close() // our side of TCP: the server stops lingering and runs OnClose
	if ev := srv.waitClose(t); ev.code != 4000 || ev.reason != "bye" {
		t.Fatalf("server OnClose %v, want 4000 \"bye\"", ev)
	}
}
