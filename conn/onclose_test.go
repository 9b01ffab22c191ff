package conn

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

// OnClose runs on a pooled goroutine, never on the timing wheel or inside a
// caller's Close: a slow OnClose must not stall every deadline of the
// process, nor the goroutine that closed the connection.
func TestSlowOnCloseStallsNothing(t *testing.T) {
	release := make(chan struct{})
	var closes atomic.Int32
	opened := make(chan *Conn, 4)
	s := &Server{
		Handler: HandlerFuncs{
			Open: func(c *Conn) { opened <- c },
			Close: func(*Conn, frame.CloseCode, string) {
				closes.Add(1)
				<-release
			},
		},
		Config: Config{ReadTimeout: 300 * time.Millisecond, PingInterval: 100 * time.Millisecond, CloseTimeout: 200 * time.Millisecond},
	}
	addr := startServer(t, s)
	defer close(release) // before startServer's Shutdown (cleanups run last)
	nextOpen := func() *Conn {
		select {
		case c := <-opened:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("OnOpen did not run within 5 s")
			return nil
		}
	}

	// A: silent, and never closes its socket: the read timeout sends a
	// close frame, and the wheel closes the socket when the lingering
	// close runs out — so OnClose would run on the wheel.
	a := dialRaw(t, addr)
	a.handshake(nil)
	nextOpen()
	// B: a well-behaved client that answers pings.
	b := dialRaw(t, addr)
	b.handshake(nil)
	nextOpen()
	// C: closed by the test goroutine.
	c := dialRaw(t, addr)
	c.handshake(nil)
	cc := nextOpen()

	eventually(t, "A's OnClose (read timeout, then the linger runs out)", func() bool {
		pingB(t, b)
		pingB(t, c)
		return closes.Load() >= 1
	})
	// A's OnClose is blocked now. The wheel must keep ticking: B keeps
	// getting pings (and is not timed out), for a second.
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		pingB(t, b)
		pingB(t, c)
	}

	// Close from this goroutine returns while C's OnClose will block.
	done := make(chan struct{})
	go func() {
		_ = cc.Close(frame.CloseNormal, "bye")
		c.expectClose(frame.CloseNormal, "bye")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close (and the close handshake) did not finish within 5 s while another OnClose blocked")
	}
	eventually(t, "C's OnClose", func() bool { return closes.Load() >= 2 })
	pingB(t, b)
}

// pingB reads a well-behaved client's next frame, which must be the server's ping, and answers it.
func pingB(t *testing.T, b *rawClient) {
	t.Helper()
	_ = b.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	f, err := b.next()
	if err != nil {
		t.Fatalf("B got no ping within 2 s (timing wheel stalled?): %v", err)
	}
	if f.Op != frame.OpPing {
		t.Fatalf("B got %v, want a ping", f.Op)
	}
	b.send(true, frame.OpPong, f.Payload)
}

// ReadTimeout closes a connection that sends nothing (not even a pong) with
// 1001 "read timeout"; one that keeps talking stays.
func TestReadTimeoutClosesSilentConnection(t *testing.T) {
	rec := newRecorder(true)
	s := &Server{Handler: rec, Config: Config{ReadTimeout: 300 * time.Millisecond, PingInterval: -1}}
	addr := startServer(t, s)
	talker := dialRaw(t, addr)
	talker.handshake(nil)
	silent := dialRaw(t, addr)
	silent.handshake(nil)
	done := make(chan struct{})
	go func() {
		silent.expectClose(frame.CloseGoingAway, "read timeout")
		close(done)
	}()
	deadline := time.After(5 * time.Second)
	for i := 0; ; i++ {
		select {
		case <-done:
			if got := rec.waitClosed(t); got != "1001 read timeout" {
				t.Fatalf("OnClose got %q, want 1001 read timeout", got)
			}
			talker.send(true, frame.OpText, []byte("alive"))
			if f := talker.mustNext(); string(f.Payload) != "alive" {
				t.Fatalf("the talking client: %q", f.Payload)
			}
			return
		case <-deadline:
			t.Fatal("the silent connection was not closed within 5 s of a 300 ms ReadTimeout")
		case <-time.After(100 * time.Millisecond):
			talker.send(true, frame.OpText, []byte("tick"))
			talker.mustNext()
		}
	}
}
