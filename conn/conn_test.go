package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

func TestEchoTextAndBinary(t *testing.T) {
	addr := startServer(t, echoServer(Config{MaxMessageSize: 1 << 20}))
	rc := dialRaw(t, addr)
	resp := rc.handshake(nil)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("accept key %q", got)
	}
	for _, tc := range []struct {
		op      frame.OpCode
		payload []byte
	}{
		{frame.OpText, []byte("hello")},
		{frame.OpBinary, []byte{0, 1, 2, 255}},
		{frame.OpText, []byte{}},
		{frame.OpBinary, bytes.Repeat([]byte{7}, 70000)},
	} {
		rc.send(true, tc.op, tc.payload)
		f := rc.mustNext()
		if f.Op != tc.op || !bytes.Equal(f.Payload, tc.payload) {
			t.Fatalf("echo of %v/%d bytes: got %v/%d bytes", tc.op, len(tc.payload), f.Op, len(f.Payload))
		}
	}
}

func TestFirstFrameInHandshakePacket(t *testing.T) {
	addr := startServer(t, echoServer(Config{}))
	rc := dialRaw(t, addr)
	rc.handshake(rc.frameBytes(true, frame.OpText, []byte("early")))
	if f := rc.mustNext(); string(f.Payload) != "early" {
		t.Fatalf("got %q", f.Payload)
	}
}

func TestByteAtATime(t *testing.T) {
	addr := startServer(t, echoServer(Config{}))
	rc := dialRaw(t, addr)
	all := []byte(upgradeRequest("/"))
	all = append(all, rc.frameBytes(false, frame.OpText, []byte("frag"))...)
	all = append(all, rc.frameBytes(true, frame.OpPing, []byte("p"))...)
	all = append(all, rc.frameBytes(true, frame.OpContinuation, []byte("mented"))...)
	for i := range all {
		rc.write(all[i : i+1])
		if i%16 == 0 {
			time.Sleep(time.Millisecond) // let each piece arrive on its own
		}
	}
	if resp := rc.readResponse(); resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if f := rc.mustNext(); f.Op != frame.OpPong || string(f.Payload) != "p" {
		t.Fatalf("want pong p, got %v %q", f.Op, f.Payload)
	}
	if f := rc.mustNext(); f.Op != frame.OpText || string(f.Payload) != "fragmented" {
		t.Fatalf("got %v %q", f.Op, f.Payload)
	}
}

func TestProtocolViolations(t *testing.T) {
	cases := []struct {
		name string
		raw  func(rc *rawClient) []byte
		code frame.CloseCode
	}{
		{"unmasked", func(rc *rawClient) []byte { return frame.AppendFrame(nil, true, frame.OpText, 0, []byte("x"), nil) }, frame.CloseProtocolError},
		{"rsv bits", func(rc *rawClient) []byte {
			return frame.AppendFrame(nil, true, frame.OpText, 0x2, []byte("x"), &rc.mask)
		}, frame.CloseProtocolError},
		{"reserved opcode", func(rc *rawClient) []byte { return rc.frameBytes(true, 3, nil) }, frame.CloseProtocolError},
		{"continuation first", func(rc *rawClient) []byte { return rc.frameBytes(true, frame.OpContinuation, []byte("x")) }, frame.CloseProtocolError},
		{"fragmented ping", func(rc *rawClient) []byte { return rc.frameBytes(false, frame.OpPing, nil) }, frame.CloseProtocolError},
		{"bad utf8", func(rc *rawClient) []byte { return rc.frameBytes(true, frame.OpText, []byte{0xce, 0xba, 0xff}) }, frame.CloseInvalidPayload},
		{"close 1 byte", func(rc *rawClient) []byte { return rc.frameBytes(true, frame.OpClose, []byte{3}) }, frame.CloseProtocolError},
		{"too big", func(rc *rawClient) []byte { return rc.frameBytes(true, frame.OpBinary, make([]byte, 2000)) }, frame.CloseMessageTooBig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(true)
			addr := startServer(t, &Server{Handler: rec, Config: Config{MaxMessageSize: 1000}})
			rc := dialRaw(t, addr)
			rc.handshake(nil)
			rc.write(tc.raw(rc))
			rc.expectClose(tc.code, "")
			if got := rec.waitClosed(t); !strings.HasPrefix(got, strconv.Itoa(int(tc.code))) {
				t.Fatalf("OnClose got %q, want code %d", got, tc.code)
			}
		})
	}
}

func TestPeerCloseIsEchoed(t *testing.T) {
	rec := newRecorder(false)
	addr := startServer(t, &Server{Handler: rec})
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	rc.send(true, frame.OpClose, frame.AppendClose(nil, 4001, "bye"))
	rc.expectClose(4001, "")
	if got := rec.waitClosed(t); got != "4001 bye" {
		t.Fatalf("OnClose %q", got)
	}
}

func TestServerCloseCarriesCodeAndReason(t *testing.T) {
	rec := newRecorder(false)
	s := &Server{Handler: HandlerFuncs{
		Message: func(c *Conn, op frame.OpCode, p []byte) { _ = c.Close(4002, "kicked: "+string(p)) },
		Close:   rec.OnClose,
	}}
	addr := startServer(t, s)
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	rc.send(true, frame.OpText, []byte("spam"))
	f := rc.mustNext()
	code, why, _ := frame.ParseClose(f.Payload)
	if f.Op != frame.OpClose || code != 4002 || why != "kicked: spam" {
		t.Fatalf("got %v %d %q", f.Op, code, why)
	}
	// Complete the handshake; the server then closes the socket.
	rc.send(true, frame.OpClose, f.Payload)
	rc.expectEOF()
	if got := rec.waitClosed(t); got != "4002 kicked: spam" {
		t.Fatalf("OnClose %q", got)
	}
}

func TestHandshakeRejections(t *testing.T) {
	s := &Server{
		Handler: HandlerFuncs{},
		Upgrade: func(r *Request) (any, *Reject) {
			if r.Path == "/private" {
				return nil, &Reject{Status: http.StatusUnauthorized, Body: "no token"}
			}
			return r.Path, nil
		},
	}
	addr := startServer(t, s)
	cases := []struct {
		name, req string
		status    int
	}{
		{"post", strings.Replace(upgradeRequest("/"), "GET", "POST", 1), http.StatusMethodNotAllowed},
		{"no upgrade", strings.Replace(upgradeRequest("/"), "Upgrade: websocket\r\n", "", 1), http.StatusUpgradeRequired},
		{"bad version", strings.Replace(upgradeRequest("/"), "Version: 13", "Version: 8", 1), http.StatusUpgradeRequired},
		{"bad key", strings.Replace(upgradeRequest("/"), testKey, "short", 1), http.StatusBadRequest},
		{"hook rejects", upgradeRequest("/private"), http.StatusUnauthorized},
		{"too large", upgradeRequest("/", "X-Big: "+strings.Repeat("a", 9000)), http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := dialRaw(t, addr)
			rc.write([]byte(tc.req))
			resp := rc.readResponse()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusUpgradeRequired && strings.Contains(tc.name, "version") && resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Fatal("426 without Sec-WebSocket-Version: 13")
			}
			rc.expectEOF()
		})
	}
}

func TestDialerEchoAndValue(t *testing.T) {
	var gotValue any
	s := &Server{
		Handler: HandlerFuncs{
			Open:    func(c *Conn) { gotValue = c.Value() },
			Message: func(c *Conn, op frame.OpCode, p []byte) { _ = c.Write(op, p) },
		},
		Upgrade: func(r *Request) (any, *Reject) { return r.URI, nil },
	}
	addr := startServer(t, s)
	rec := newRecorder(false)
	d := &Dialer{Handler: rec}
	c, resp, err := d.Dial(context.Background(), "ws://"+addr+"/chat?room=1")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 101 {
		t.Fatalf("status %d", resp.Status)
	}
	for i := range 100 {
		if err := c.Write(frame.OpText, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "100 echoes", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.msgs) == 100 })
	for i, m := range rec.msgs {
		if string(m) != strconv.Itoa(i) {
			t.Fatalf("message %d is %q: order lost", i, m)
		}
	}
	if gotValue != "/chat?room=1" {
		t.Fatalf("Upgrade value %v", gotValue)
	}
	if err := c.Close(frame.CloseNormal, "done"); err != nil {
		t.Fatal(err)
	}
	if got := rec.waitClosed(t); got != "1000 " && got != "1000 done" {
		t.Fatalf("client OnClose %q", got)
	}
	if !errors.Is(c.Write(frame.OpText, nil), ErrClosed) {
		t.Fatal("write after close must fail with ErrClosed")
	}
}

func TestShutdownClosesWith1001(t *testing.T) {
	s := echoServer(Config{})
	ln, err := Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	var recs []*recorder
	for range 5 {
		rec := newRecorder(false)
		d := &Dialer{Handler: rec}
		if _, _, err := d.Dial(context.Background(), "ws://"+ln.Addr().String()); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	eventually(t, "5 connections", func() bool { return s.Len() == 5 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if got := rec.waitClosed(t); got != "1001 server shutdown" {
			t.Fatalf("client saw %q", got)
		}
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
}

func TestPongTimeout(t *testing.T) {
	rec := newRecorder(false)
	addr := startServer(t, &Server{Handler: rec, Config: Config{PingInterval: 200 * time.Millisecond, PongTimeout: 300 * time.Millisecond}})
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	f := rc.mustNext()
	if f.Op != frame.OpPing {
		t.Fatalf("want a ping, got %v", f.Op)
	}
	// Do not answer: the server must give up with a close frame.
	rc.expectClose(frame.CloseGoingAway, "pong timeout")
	rec.waitClosed(t)
}

func TestPongKeepsConnection(t *testing.T) {
	rec := newRecorder(false)
	addr := startServer(t, &Server{Handler: rec, Config: Config{PingInterval: 200 * time.Millisecond, PongTimeout: 300 * time.Millisecond}})
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	for range 4 {
		f := rc.mustNext()
		if f.Op != frame.OpPing {
			t.Fatalf("want a ping, got %v", f.Op)
		}
		rc.send(true, frame.OpPong, f.Payload)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.closes) != 0 {
		t.Fatalf("closed despite pongs: %v", rec.closes)
	}
}

func TestSendQueueOverflowCloses1008(t *testing.T) {
	srvConn := make(chan *Conn, 1)
	s := &Server{
		Handler: HandlerFuncs{Open: func(c *Conn) { srvConn <- c }},
		Config:  Config{SendQueue: 8, SendQueueBytes: 1 << 20},
	}
	addr := startServer(t, s)
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	c := <-srvConn
	payload := bytes.Repeat([]byte("x"), 64<<10)
	var full error
	for range 10000 {
		if err := c.Write(frame.OpBinary, payload); err != nil {
			full = err
			break
		}
	}
	if !errors.Is(full, ErrQueueFull) {
		t.Fatalf("writes to a client that does not read never failed: %v", full)
	}
	// The client reads now: after the frames that were already on their way,
	// it must find the close frame.
	rc.expectClose(frame.ClosePolicyViolation, "send buffer full")
}

func TestOverflowDropKeepsConnection(t *testing.T) {
	srvConn := make(chan *Conn, 1)
	s := &Server{
		Handler: HandlerFuncs{Open: func(c *Conn) { srvConn <- c }},
		// A long WriteTimeout: this client never reads, and the test is about
		// the queue bound, not about dropping stalled peers (on a loaded
		// machine the writes below could outlast the 5 s default).
		Config: Config{SendQueue: 4, Overflow: OverflowDrop, WriteTimeout: time.Minute},
	}
	addr := startServer(t, s)
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	c := <-srvConn
	payload := bytes.Repeat([]byte("y"), 64<<10)
	dropped := 0
	for range 200 {
		if errors.Is(c.Write(frame.OpBinary, payload), ErrQueueFull) {
			dropped++
		}
	}
	if dropped == 0 {
		t.Fatal("nothing dropped")
	}
	if !c.Open() {
		t.Fatal("OverflowDrop closed the connection")
	}
}

func TestHandlerPanicCloses1011(t *testing.T) {
	addr := startServer(t, &Server{Handler: HandlerFuncs{Message: func(*Conn, frame.OpCode, []byte) { panic("boom") }}})
	other := dialRaw(t, addr)
	other.handshake(nil)
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	rc.send(true, frame.OpText, []byte("x"))
	rc.expectClose(frame.CloseInternalError, "")
	// Another connection is not disturbed.
	other.send(true, frame.OpPing, []byte("still"))
	if f := other.mustNext(); f.Op != frame.OpPong {
		t.Fatalf("other connection got %v", f.Op)
	}
}

func TestCompressionBothWays(t *testing.T) {
	addr := startServer(t, echoServer(Config{Compression: true}))
	rec := newRecorder(false)
	d := &Dialer{Handler: rec, Config: Config{Compression: true}}
	c, resp, err := d.Dial(context.Background(), "ws://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Deflate || !c.Compressed() {
		t.Fatal("permessage-deflate not negotiated")
	}
	long := bytes.Repeat([]byte("compress me "), 100)
	for _, m := range [][]byte{[]byte("short"), long} {
		if err := c.Write(frame.OpText, m); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "2 echoes", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.msgs) == 2 })
	if string(rec.msgs[0]) != "short" || !bytes.Equal(rec.msgs[1], long) {
		t.Fatalf("echoes differ: %q / %d bytes", rec.msgs[0], len(rec.msgs[1]))
	}
}

func TestFallbackServesPlainHTTP(t *testing.T) {
	s := echoServer(Config{})
	s.Fallback = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("page " + r.URL.Path + " " + r.URL.Query().Get("q")))
	})
	addr := startServer(t, s)
	resp, err := http.Get("http://" + addr + "/index.html?q=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "page /index.html 1" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	// WebSocket upgrades on the same port still work.
	rc := dialRaw(t, addr)
	if resp := rc.handshake(nil); resp.StatusCode != 101 {
		t.Fatalf("upgrade status %d", resp.StatusCode)
	}
}

// After a violation the client keeps sending; the close frame must still
// reach it (a close() with unread input would send RST and destroy it).
func TestCloseFrameSurvivesTrailingInput(t *testing.T) {
	addr := startServer(t, echoServer(Config{}))
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	bad := frame.AppendFrame(nil, true, frame.OpText, 0, []byte("unmasked"), nil)
	rc.write(append(bad, bytes.Repeat(rc.frameBytes(true, frame.OpBinary, make([]byte, 1000)), 200)...))
	rc.expectClose(frame.CloseProtocolError, "")
}

// A peer that stops reading is dropped WriteTimeout after the kernel stopped
// taking bytes, even while the send queue is within its bounds.
func TestWriteTimeoutDropsStalledPeer(t *testing.T) {
	srvConn := make(chan *Conn, 1)
	rec := newRecorder(false)
	s := &Server{
		Handler: HandlerFuncs{Open: func(c *Conn) { srvConn <- c }, Close: rec.OnClose},
		Config:  Config{WriteTimeout: 300 * time.Millisecond, MaxMessageSize: 1 << 20, SendQueue: 1000, SendQueueBytes: 1 << 30},
	}
	addr := startServer(t, s)
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	c := <-srvConn
	payload := make([]byte, 1<<20)
	for range 64 { // far more than loopback's socket buffers hold
		if err := c.Write(frame.OpBinary, payload); err != nil {
			break
		}
	}
	// waitClosed allows 5 s; the default WriteTimeout alone would be 5 s.
	if got := rec.waitClosed(t); !strings.HasPrefix(got, "1006") {
		t.Fatalf("OnClose %q, want 1006 (dropped)", got)
	}
}

// With NonBlocking, an open connection's input is handled on netpoll's
// poller goroutine itself; the handshake (Upgrade hook) still is not.
func TestNonBlockingRunsOnThePoller(t *testing.T) {
	onPoller := func() bool {
		buf := make([]byte, 64<<10)
		return strings.Contains(string(buf[:runtime.Stack(buf, false)]), "netpoll.(*defaultPoll).Wait")
	}
	var hookOnPoller, msgOnPoller atomic.Bool
	msgs := make(chan struct{}, 1)
	s := &Server{
		Config:  Config{NonBlocking: true},
		Upgrade: func(*Request) (any, *Reject) { hookOnPoller.Store(onPoller()); return nil, nil },
		Handler: HandlerFuncs{Message: func(c *Conn, op frame.OpCode, p []byte) {
			msgOnPoller.Store(onPoller())
			_ = c.Write(op, p)
			msgs <- struct{}{}
		}},
	}
	addr := startServer(t, s)
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	time.Sleep(10 * time.Millisecond) // the 101's batch ends before the next input
	rc.send(true, frame.OpText, []byte("hi"))
	<-msgs
	if f := rc.mustNext(); string(f.Payload) != "hi" {
		t.Fatalf("echo %q", f.Payload)
	}
	if hookOnPoller.Load() {
		t.Fatal("the Upgrade hook ran on the poller goroutine")
	}
	if !msgOnPoller.Load() {
		t.Fatal("OnMessage of a NonBlocking server did not run on the poller goroutine")
	}
}

// TestWriteAllocs: writing a small message on an idle connection, as a reply
// is written, allocates nothing once framePool is warm: the frame is built
// in a pooled buffer that goes back when the kernel has it.
func TestWriteAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are exact only without -race (make test runs it so)")
	}
	opened := make(chan *Conn, 1)
	addr := startServer(t, &Server{Handler: HandlerFuncs{Open: func(c *Conn) { opened <- c }}})
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	c := <-opened
	go func() { // the client reads everything, so the socket never fills
		for {
			if _, err := rc.next(); err != nil {
				return
			}
		}
	}()
	msg := []byte(`{"id":"1","event":"echo","ok":true,"data":{"text":"hello"}}`)
	allocs := testing.AllocsPerRun(1000, func() {
		if err := c.Write(frame.OpText, msg); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Write of a %d-byte message: %.2f allocations, want 0", len(msg), allocs)
	}
}

// A user's close or continuation frame would not mark the close as sent, so
// data could follow it: Write and its prepared variants refuse them.
func TestWriteRefusesCloseAndContinuation(t *testing.T) {
	opened := make(chan *Conn, 1)
	s := &Server{Handler: HandlerFuncs{Open: func(c *Conn) { opened <- c }}}
	addr := startServer(t, s)
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	var c *Conn
	select {
	case c = <-opened:
	case <-time.After(5 * time.Second):
		t.Fatal("OnOpen did not run within 5 s")
	}
	for _, tc := range []struct {
		op   frame.OpCode
		n    int
		want error
	}{
		{frame.OpClose, 2, ErrOpCode},
		{frame.OpContinuation, 1, ErrOpCode},
		{frame.OpCode(3), 1, ErrOpCode},
		{frame.OpPing, 126, ErrControlTooLong},
	} {
		p := make([]byte, tc.n)
		if err := c.Write(tc.op, p); !errors.Is(err, tc.want) {
			t.Errorf("Write(%v, %d bytes) = %v, want %v", tc.op, tc.n, err, tc.want)
		}
		if tc.n <= 125 {
			pp := frame.NewPrepared(tc.op, p)
			if err := c.WritePrepared(pp); !errors.Is(err, tc.want) {
				t.Errorf("WritePrepared(%v) = %v, want %v", tc.op, err, tc.want)
			}
			if err := c.Enqueue(pp); !errors.Is(err, tc.want) {
				t.Errorf("Enqueue(%v) = %v, want %v", tc.op, err, tc.want)
			}
		}
	}
	// The connection is untouched: a text message still goes through.
	if err := c.Write(frame.OpText, []byte("still open")); err != nil {
		t.Fatal(err)
	}
	if f := rc.mustNext(); f.Op != frame.OpText || string(f.Payload) != "still open" {
		t.Fatalf("got %v %q, want the text message", f.Op, f.Payload)
	}
}

type endpointValue struct{ ep *Endpoint }

func (v endpointValue) ConnEndpoint() *Endpoint { return v.ep }

// An Upgrade hook's value that names an Endpoint brings that endpoint's
// Handler and Config to the connection, though no Route picked it.
func TestUpgradeValueNamesEndpoint(t *testing.T) {
	rec := newRecorder(true)
	ep := &Endpoint{Handler: rec, Config: Config{MaxMessageSize: 10}}
	s := &Server{Upgrade: func(*Request) (any, *Reject) { return endpointValue{ep}, nil }}
	addr := startServer(t, s)
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	rc.send(true, frame.OpText, []byte("short"))
	if f := rc.mustNext(); string(f.Payload) != "short" {
		t.Fatalf("echo %q: the endpoint's Handler did not get the message", f.Payload)
	}
	rc.send(true, frame.OpText, []byte("longer than ten"))
	rc.expectClose(frame.CloseMessageTooBig, "")
}

// A client that pings without reading gets at most maxQueuedPongs pongs
// waiting for it (the last carrying the latest ping's payload), not one per
// ping: the queue stays bounded (the abuse scenario's ping-flood-noread grew the server by
// ~370 bytes per ping before).
func TestPingFloodWithoutReadingBoundsPongs(t *testing.T) {
	opened := make(chan *Conn, 1)
	done := make(chan struct{})
	s := &Server{Handler: HandlerFuncs{
		Open:    func(c *Conn) { opened <- c },
		Message: func(*Conn, frame.OpCode, []byte) { close(done) }, // "done", after every ping
	}}
	addr := startServer(t, s)
	rc := dialRaw(t, addr)
	rc.handshake(nil)
	c := <-opened
	// 100,000 pongs of 120 bytes: more than loopback's socket buffers hold.
	var burst []byte
	pad := strings.Repeat(".", 114)
	for i := range 100_000 {
		burst = append(burst, rc.frameBytes(true, frame.OpPing, fmt.Appendf(nil, "%06d%s", i, pad))...)
	}
	burst = append(burst, rc.frameBytes(true, frame.OpText, []byte("done"))...)
	go func() { _, _ = rc.nc.Write(burst) }()
	pongs := func() (n, frames int) {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, f := range c.q {
			if f.pong {
				n++
			}
		}
		return n, len(c.q)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not get through the 100,000 pings within 10 s")
	}
	if n, frames := pongs(); n > maxQueuedPongs || frames > maxQueuedPongs {
		t.Fatalf("%d pongs (%d frames) waiting after 100,000 unread pings, want at most %d", n, frames, maxQueuedPongs)
	}
	// Reading now, the client gets a few pongs, the last for the last ping.
	last := ""
	for !strings.HasPrefix(last, "099999") {
		f := rc.mustNext()
		if f.Op != frame.OpPong {
			t.Fatalf("got %v, want pongs only", f.Op)
		}
		last = string(f.Payload)
	}
}
