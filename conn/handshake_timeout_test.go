package conn

import (
	"io"
	"sync/atomic"
	"testing"
	"time"
)

// An Upgrade hook that outlasts HandshakeTimeout: the timing wheel closes the
// connection while the hook runs. The wheel must not read what the handshake
// goroutine changes meanwhile (the endpoint's engine: a data race under
// -race), and the handshake must not then open the closed connection.
func TestUpgradeHookOutlastsHandshakeTimeout(t *testing.T) {
	var opened, hooked atomic.Int32
	ep := &Endpoint{
		Handler: HandlerFuncs{Open: func(*Conn) { opened.Add(1) }},
		Config:  Config{HandshakeTimeout: 200 * time.Millisecond},
		Upgrade: func(*Request) (any, *Reject) {
			hooked.Add(1)
			time.Sleep(700 * time.Millisecond)
			return nil, nil
		},
	}
	s := &Server{
		Config: Config{HandshakeTimeout: 200 * time.Millisecond},
		Route:  func(*Request) *Endpoint { return ep },
	}
	addr := startServer(t, s)
	rc := dialRaw(t, addr)
	rc.write([]byte(upgradeRequest("/")))
	_ = rc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(rc.br)
	if err != nil {
		t.Fatalf("want the server to drop the connection at its handshake timeout, got %v", err)
	}
	if len(b) != 0 {
		t.Fatalf("got %q after the handshake timed out, want nothing", b)
	}
	eventually(t, "the hook to have run", func() bool { return hooked.Load() == 1 })
	time.Sleep(800 * time.Millisecond) // the hook returns; nothing may open the connection
	if n := opened.Load(); n != 0 {
		t.Fatalf("OnOpen ran %d times on a connection closed by its handshake timeout", n)
	}
	eventually(t, "the server to forget the connection", func() bool { return s.Len() == 0 })
}
