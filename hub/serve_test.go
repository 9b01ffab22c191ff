package hub

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// These tests run the hub on the real transport: conn.Server on a loopback
// port, clients dialed with conn.Dialer.

type wireClient struct {
	t    *testing.T
	c    *conn.Conn
	in   chan string // the messages received, in order
	mu   sync.Mutex
	code frame.CloseCode
	why  string
	done chan struct{}
}

func serveHub(t *testing.T, h *Hub, path string) string {
	t.Helper()
	m := NewMux()
	m.Mount(path, h)
	return serveOn(t, h, m.Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "page") })))
}

// serveOn serves srv on a loopback port until the test ends, then stops h
// and srv; it returns the address.
func serveOn(t *testing.T, h *Hub, srv *conn.Server) string {
	t.Helper()
	ln, err := conn.Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = h.Stop(ctx)
		_ = srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func dialHub(t *testing.T, url string, header http.Header) (*wireClient, error) {
	t.Helper()
	w := &wireClient{t: t, in: make(chan string, 256), done: make(chan struct{})}
	d := &conn.Dialer{Header: header, Handler: conn.HandlerFuncs{
		Message: func(_ *conn.Conn, _ frame.OpCode, p []byte) {
			select {
			case w.in <- string(p):
			case <-time.After(waitFor):
				t.Errorf("client's inbox full for %v: the test does not read its messages (%.100s)", waitFor, p)
			}
		},
		Close: func(_ *conn.Conn, code frame.CloseCode, reason string) {
			w.mu.Lock()
			w.code, w.why = code, reason
			w.mu.Unlock()
			close(w.done)
		},
	}}
	c, _, err := d.Dial(context.Background(), url)
	if err != nil {
		return nil, err
	}
	w.c = c
	t.Cleanup(func() { _ = c.Close(frame.CloseNormal, "") })
	return w, nil
}

func (w *wireClient) send(s string) {
	w.t.Helper()
	if err := w.c.Write(frame.OpText, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

// next waits for the next message and decodes it as a JSON object.
func (w *wireClient) next() map[string]any {
	w.t.Helper()
	raw := w.nextRaw()
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		w.t.Fatalf("client got bad JSON %q: %v", raw, err)
	}
	return m
}

// nextRaw waits for the next message and returns it as it came.
func (w *wireClient) nextRaw() string {
	w.t.Helper()
	select {
	case m := <-w.in:
		return m
	case <-time.After(waitFor):
		w.t.Fatalf("no message within %v", waitFor)
		return ""
	}
}

func (w *wireClient) closed() (frame.CloseCode, string) {
	w.t.Helper()
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		w.t.Fatal("not closed within 5s")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.code, w.why
}

func TestServeSeedFlows(t *testing.T) {
	h := New("default", Config{})
	h.On("echo", func(ctx *Context) error {
		return ctx.Reply(map[string]any{"data": ctx.Message().Data})
	})
	h.On("chat.message", func(ctx *Context) error {
		return ctx.Publish("room", "chat.message", ctx.Message().Data)
	})
	addr := serveHub(t, h, "/ws")
	a, err := dialHub(t, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dialHub(t, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []*wireClient{a, b} {
		w.send(`{"id":"1","event":"subscribe","channel":"room"}`)
		if r := w.next(); r["id"] != "1" || r["ok"] != true {
			t.Fatalf("subscribe reply %v", r)
		}
	}
	a.send(`{"id":"2","event":"echo","data":{"text":"hello"}}`)
	if r := a.next(); r["id"] != "2" || r["ok"] != true || r["data"].(map[string]any)["data"].(map[string]any)["text"] != "hello" {
		t.Fatalf("echo reply %v", r)
	}
	a.send(`{"id":"3","event":"chat.message","data":{"text":"hi all"}}`)
	for _, w := range []*wireClient{a, b} {
		// a gets its ack and the push (in either order); b gets the push.
		n := 1
		if w == a {
			n = 2
		}
		push := false
		for range n {
			m := w.next()
			if m["event"] == "chat.message" && m["channel"] == "room" && m["data"].(map[string]any)["text"] == "hi all" {
				push = true
			}
		}
		if !push {
			t.Fatal("publish did not reach a subscriber")
		}
	}
	a.send(`{"id":"4","event":"ping"}`)
	if r := a.next(); r["id"] != "4" || r["data"].(map[string]any)["event"] != "pong" {
		t.Fatalf("ping reply %v", r)
	}
	a.send(`{"id":"5","event":"nope"}`)
	if r := a.next(); r["ok"] != false || !strings.Contains(r["message"].(string), "not registered") {
		t.Fatalf("unknown event reply %v", r)
	}
	a.send(`{not json`)
	if r := a.next(); r["ok"] == true {
		t.Fatalf("malformed JSON answered %v", r)
	}
	// Kick b with a reason it can read.
	var bID string
	for _, ci := range h.Clients() {
		bID = ci.ID // any; kick the other one below
	}
	if err := h.Kick(bID, "go away"); err != nil {
		t.Fatal(err)
	}
	var kicked *wireClient
	select {
	case <-a.done:
		kicked = a
	case <-b.done:
		kicked = b
	case <-time.After(5 * time.Second):
		t.Fatal("kick closed nobody")
	}
	code, why := kicked.closed()
	if code != CloseKicked || why != "go away" {
		t.Fatalf("kicked client saw %v %q", code, why)
	}
}

func TestServeHandshakeAnswers(t *testing.T) {
	h := New("default", Config{
		Origin: []string{"http://good.example"},
		Auth: func(r *http.Request) (Identity, error) {
			if r.URL.Query().Get("token") != "secret" {
				return Identity{}, errors.New("bad token")
			}
			return Identity{ID: "u1"}, nil
		},
	})
	addr := serveHub(t, h, "/ws")
	for _, tc := range []struct {
		name, path, origin string
		status             int
	}{
		{"no token", "/ws", "", 401},
		{"bad origin", "/ws?token=secret", "http://evil.example", 403},
		{"unknown path", "/other", "", 404},
		{"ok", "/ws?token=secret", "http://good.example", 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := http.Header{}
			if tc.origin != "" {
				hdr.Set("Origin", tc.origin)
			}
			_, err := dialHub(t, "ws://"+addr+tc.path, hdr)
			var he *frame.HandshakeError
			switch {
			case tc.status == 101 && err != nil:
				t.Fatal(err)
			case tc.status != 101 && (!errors.As(err, &he) || he.Status != tc.status):
				t.Fatalf("got %v, want status %d", err, tc.status)
			}
		})
	}
	// The same port serves plain HTTP through the fallback.
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "page" {
		t.Fatalf("fallback body %q", body)
	}
}

func TestServeOversizeCloses1009(t *testing.T) {
	h := New("default", Config{MaxMessageSize: 1024})
	addr := serveHub(t, h, "/")
	w, err := dialHub(t, "ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.send(`{"event":"x","data":"` + strings.Repeat("a", 2000) + `"}`)
	if code, _ := w.closed(); code != frame.CloseMessageTooBig {
		t.Fatalf("closed with %v, want 1009", code)
	}
}

func TestServeStopCloses1001(t *testing.T) {
	h := New("default", Config{})
	addr := serveHub(t, h, "/")
	w, err := dialHub(t, "ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.send(`{"id":"1","event":"ping"}`)
	w.next()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := h.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if code, why := w.closed(); code != frame.CloseGoingAway || why != "server shutdown" {
		t.Fatalf("closed with %v %q", code, why)
	}
}

// The hub inside any net/http router: the Mux's conn.Server is an
// http.Handler that takes upgraded connections onto the event loop.
func TestServeInNetHTTPRouter(t *testing.T) {
	h := New("default", Config{})
	m := NewMux()
	m.Mount("/ws", h)
	router := http.NewServeMux()
	srv := m.Server(nil)
	router.Handle("/ws", srv)
	hs := httptest.NewServer(router)
	defer hs.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = h.Stop(ctx)
		_ = srv.Shutdown(ctx)
	}()
	w, err := dialHub(t, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.send(`{"id":"1","event":"subscribe","channel":"room"}`)
	if r := w.next(); r["id"] != "1" || r["ok"] != true {
		t.Fatalf("subscribe reply %v", r)
	}
	if err := h.Publish("room", "news", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if m := w.next(); m["event"] != "news" || m["channel"] != "room" {
		t.Fatalf("push %v", m)
	}
}

// Hub.Serve as the Upgrade hook of a plain conn.Server (no Route, no Mux)
// brings the hub's limits and dispatch: the hub's MaxMessageSize applies.
func TestServeAsPlainUpgradeHook(t *testing.T) {
	h := New("plain", Config{MaxMessageSize: 64})
	h.On("echo", func(ctx *Context) error { return ctx.Reply(ctx.Message().Data) })
	addr := serveOn(t, h, &conn.Server{Upgrade: h.Serve})
	w, err := dialHub(t, "ws://"+addr+"/anything", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.send(`{"id":"1","event":"echo","data":"hi"}`)
	if got := w.nextRaw(); got != `{"id":"1","event":"echo","ok":true,"data":"hi"}` {
		t.Fatalf("reply %s", got)
	}
	w.send(`{"id":"2","event":"echo","data":"` + strings.Repeat("x", 100) + `"}`)
	if code, _ := w.closed(); code != frame.CloseMessageTooBig {
		t.Fatalf("close %d, want 1009: the hub's MaxMessageSize did not reach the transport", code)
	}
}

// Configure after the hub is served reaches the transport: connections that
// open afterwards get the new settings (the transport used to copy its
// settings once, at the first Endpoint call). PingInterval is the transport's
// alone (the hub checks MaxMessageSize itself as well).
func TestConfigureReachesServedTransport(t *testing.T) {
	h := New("reconf", Config{})
	addr := serveHub(t, h, "/ws")
	dialRaw(t, addr, "/ws") // the endpoint exists from here on
	h.Configure(Config{PingInterval: 200 * time.Millisecond})
	rc := dialRaw(t, addr, "/ws")
	if op, _ := rc.next(waitFor, "ping (PingInterval configured to 200ms after serving)"); op != frame.OpPing {
		t.Fatalf("first frame from the server: opcode %d, want a ping", op)
	}
}
