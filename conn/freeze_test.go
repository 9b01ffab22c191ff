package conn

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

// The freeze of 2026-12-02: a client that sends its close frame and closes
// TCP at once (what many gorilla users do) made netpoll run the connection's
// close path on the poller goroutine that still held the connection's fd
// operator; netpoll's finalizer then spun forever waiting for that operator,
// so the poller — and every connection on it — stopped. The server runs in a
// child process so that a frozen poller fails this test instead of every
// later one.

const freezeServerEnv = "SURGE_CONN_FREEZE_SERVER"

// TestFreezeServer is the child: an echo server in NonBlocking mode (the
// hub's default) that prints its address and runs until killed.
func TestFreezeServer(t *testing.T) {
	if os.Getenv(freezeServerEnv) == "" {
		t.Skip("child process of TestCloseThenHangupDoesNotFreeze")
	}
	s := echoServer(Config{NonBlocking: true})
	s.Handler = HandlerFuncs{Message: func(c *Conn, op frame.OpCode, p []byte) {
		if string(p) == "where?" {
			// Answers whether this callback runs on netpoll's poller
			// goroutine: the freeze needs that, so the test asks.
			buf := make([]byte, 64<<10)
			p = []byte("pool")
			if strings.Contains(string(buf[:runtime.Stack(buf, false)]), "netpoll.(*defaultPoll).handler") {
				p = []byte("poller")
			}
		}
		_ = c.Write(op, p)
	}}
	ln, err := Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ADDR", ln.Addr())
	_ = s.Serve(ln)
}

func startFreezeServer(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFreezeServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), freezeServerEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				addr <- a
			}
		}
	}()
	select {
	case a := <-addr:
		return a
	case <-time.After(20 * time.Second):
		t.Fatal("child server did not print its address within 20 s")
		return ""
	}
}

// TestCloseThenHangupDoesNotFreeze fails on the old code: from the second
// such client on, no handshake was answered and the probe's echo stopped.
func TestCloseThenHangupDoesNotFreeze(t *testing.T) {
	addr := startFreezeServer(t)
	probe := dialRaw(t, addr)
	probe.handshake(nil)
	// Right after the handshake the pooled goroutine that ran it may still
	// hold the connection and take the next input too; later input is
	// handled on the poller.
	where := ""
	for range 50 {
		probe.send(true, frame.OpText, []byte("where?"))
		if where = string(probe.mustNext().Payload); where == "poller" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if where != "poller" {
		t.Fatalf("the server handles input on the %s, want the poller goroutine (NonBlocking): the test would prove nothing", where)
	}
	for _, rst := range []bool{false, true} {
		for i := range 20 {
			rc := dialRaw(t, addr)
			_ = rc.nc.SetDeadline(time.Now().Add(3 * time.Second))
			if resp := rc.handshake(nil); resp.StatusCode != 101 {
				t.Fatalf("client %d (rst=%v): status %d", i, rst, resp.StatusCode)
			}
			rc.send(true, frame.OpText, []byte(`{"event":"subscribe","channel":"room"}`))
			if f := rc.mustNext(); string(f.Payload) != `{"event":"subscribe","channel":"room"}` {
				t.Fatalf("client %d: echo %q", i, f.Payload)
			}
			rc.write(append(rc.frameBytes(true, frame.OpText, []byte("x")), rc.frameBytes(true, frame.OpClose, frame.AppendClose(nil, frame.CloseNormal, ""))...))
			if rst {
				_ = rc.nc.(*net.TCPConn).SetLinger(0) // RST instead of FIN
			}
			rc.nc.Close()

			// Everyone else must still be served.
			_ = probe.nc.SetDeadline(time.Now().Add(3 * time.Second))
			msg := fmt.Sprintf("probe %v %d", rst, i)
			probe.send(true, frame.OpText, []byte(msg))
			f, err := probe.next()
			if err != nil || string(f.Payload) != msg {
				t.Fatalf("after client %d (rst=%v) hung up: probe echo = %q, %v (server frozen?)", i, rst, f.Payload, err)
			}
		}
	}
}
