package hub

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/internal/leakcheck"
)

// TestMain fails the run if a goroutine outlives the tests (the transport's
// process-lifetime goroutines aside): a mailbox worker, reaper or presence
// writer still running after its hub stopped is a leak. Idle workers go home
// after workerIdle, hence the wait.
func TestMain(m *testing.M) {
	leakcheck.Main(m, 5*time.Second, leakcheck.Library...)
}

// fakePeer is a transport connection in memory: it records the frames it is given and its close, and
// like the real transport reports the close to the hub (synchronously, the harshest case for the hub).
type fakePeer struct {
	h     *Hub
	c     *Client
	limit int // send queue bound; 0 is unbounded

	mu       sync.Mutex
	cond     *sync.Cond
	frames   []*frame.Prepared
	read     int // frames consumed by next
	closed   bool
	code     frame.CloseCode
	reason   string
	closeCnt int
}

var errPeerClosed = errors.New("fake: closed")
var errPeerFull = errors.New("fake: send buffer full")

func newFakePeer(h *Hub, c *Client) *fakePeer {
	p := &fakePeer{h: h, c: c}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *fakePeer) WritePrepared(f *frame.Prepared) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errPeerClosed
	}
	if p.limit > 0 && len(p.frames)-p.read >= p.limit {
		p.mu.Unlock()
		_ = p.Close(frame.ClosePolicyViolation, string(ReasonSendBufferFull))
		return errPeerFull
	}
	p.frames = append(p.frames, f)
	p.cond.Broadcast()
	p.mu.Unlock()
	return nil
}

// Write records the message as a frame like those WritePrepared gets.
func (p *fakePeer) Write(op frame.OpCode, payload []byte) error {
	return p.WritePrepared(frame.NewPrepared(op, payload))
}

func (p *fakePeer) Close(code frame.CloseCode, reason string) error {
	p.mu.Lock()
	p.closeCnt++
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed, p.code, p.reason = true, code, reason
	p.cond.Broadcast()
	p.mu.Unlock()
	p.h.closed(p.c, code, reason)
	return nil
}

func (p *fakePeer) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234} }

// payloadOf decodes a frame's wire bytes and returns its payload.
func payloadOf(t testing.TB, f *frame.Prepared) []byte {
	t.Helper()
	b := f.Bytes(false)
	h, n, err := frame.ParseHeader(b)
	if err != nil || n == 0 || !h.Fin || h.Op != frame.OpText || h.Masked || int64(len(b)-n) != h.Length {
		t.Fatalf("bad frame %q: %+v %v", b, h, err)
	}
	return b[n:]
}

const waitFor = 5 * time.Second

// waitRelease blocks a handler until the test closes release, or for 2×waitFor at most: a test that
// fails before it releases its handlers must not leave them, and the hub's Stop, hanging.
func waitRelease(release <-chan struct{}) {
	select {
	case <-release:
	case <-time.After(2 * waitFor):
	}
}

// await receives from ch, or fails the test after waitFor saying what it waited for.
func await[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitFor):
		t.Fatalf("no %s within %v", what, waitFor)
		panic("unreachable")
	}
}

// next waits for the next frame and decodes it as a JSON object.
func (p *fakePeer) next(t testing.TB) map[string]any {
	t.Helper()
	f := p.nextFrame(t)
	var m map[string]any
	if err := json.Unmarshal(payloadOf(t, f), &m); err != nil {
		t.Fatalf("frame is not JSON: %v: %s", err, payloadOf(t, f))
	}
	return m
}

// nextRaw waits for the next frame and returns its payload as a string.
func (p *fakePeer) nextRaw(t testing.TB) string {
	t.Helper()
	return string(payloadOf(t, p.nextFrame(t)))
}

func (p *fakePeer) nextFrame(t testing.TB) *frame.Prepared {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	deadline := time.Now().Add(waitFor)
	for p.read >= len(p.frames) {
		if time.Now().After(deadline) {
			t.Fatalf("no frame within %v (closed=%v code=%d)", waitFor, p.closed, p.code)
		}
		p.waitLocked(deadline)
	}
	f := p.frames[p.read]
	p.read++
	return f
}

// waitLocked waits on the cond at most until deadline.
func (p *fakePeer) waitLocked(deadline time.Time) {
	t := time.AfterFunc(time.Until(deadline), func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	p.cond.Wait()
	t.Stop()
}

// waitClosed waits for Close and returns its code and reason.
func (p *fakePeer) waitClosed(t testing.TB) (frame.CloseCode, string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	deadline := time.Now().Add(waitFor)
	for !p.closed {
		if time.Now().After(deadline) {
			t.Fatalf("not closed within %v", waitFor)
		}
		p.waitLocked(deadline)
	}
	return p.code, p.reason
}

func (p *fakePeer) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// pending returns the number of frames not yet consumed.
func (p *fakePeer) pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.frames) - p.read
}

// idle waits until c's worker has nothing left to do.
func idle(t testing.TB, c *Client) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		c.box.mu.Lock()
		busy := c.box.running
		c.box.mu.Unlock()
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("client worker still busy")
		}
		time.Sleep(time.Millisecond)
	}
}

func upgradeRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://example.com/ws", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("User-Agent", "test-agent")
	return r
}

// connect admits and opens a client on a fake peer.
func connect(t testing.TB, h *Hub) (*Client, *fakePeer) {
	t.Helper()
	return connectReq(t, h, upgradeRequest())
}

func connectReq(t testing.TB, h *Hub, r *http.Request) (*Client, *fakePeer) {
	t.Helper()
	c, status, msg := h.admit(r)
	if c == nil {
		t.Fatalf("admit: %d %s", status, msg)
	}
	p := newFakePeer(h, c)
	h.open(c, p)
	idle(t, c)
	return c, p
}

// send delivers one text message from the client, as the transport's read path does.
func send(h *Hub, c *Client, msg string) { h.message(c, frame.OpText, []byte(msg)) }

// newHub makes a hub that is stopped at the end of the test.
func newHub(t testing.TB, cfg Config) *Hub {
	t.Helper()
	h := New("test", cfg)
	t.Cleanup(func() {
		if err := stopHub(h); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return h
}

// stopHub stops h, giving up after waitFor.
func stopHub(h *Hub) error {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	return h.Stop(ctx)
}

func mustJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func itoa(i int) string { return strconv.Itoa(i) }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
