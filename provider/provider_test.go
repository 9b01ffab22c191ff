package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/hub"
)

const waitFor = 5 * time.Second

// running is an App serving in the background.
type running struct {
	app  *App
	web  *HTTPHost
	stop context.CancelFunc
	done chan error
}

// startApp runs app (with web among its providers) until the test ends and
// waits until it is ready.
func startApp(t *testing.T, app *App, web *HTTPHost) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{app: app, web: web, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- app.Run(ctx) }()
	deadline := time.Now().Add(waitFor)
	for app.Ready(context.Background()) != nil {
		select {
		case err := <-r.done:
			t.Fatalf("the app stopped while starting: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app was not ready within %v: %v", waitFor, app.Ready(context.Background()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { r.shutdown(t) })
	return r
}

// shutdown cancels Run and waits for it; it returns Run's result.
func (r *running) shutdown(t *testing.T) error {
	t.Helper()
	r.stop()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return within 15 s of its context ending")
		return nil
	}
}

func (r *running) url(scheme, path string) string {
	return scheme + "://" + r.web.ListenAddr().String() + path
}

// testApp is the seed program on the provider: a hub with echo and
// chat.message, mounted at /ws through a group, and a plain route.
func testApp(t *testing.T, extra ...Option) (*App, *HTTPHost, *hub.Hub) {
	t.Helper()
	h := hub.New("default", hub.Config{})
	h.On("echo", func(ctx *hub.Context) error { return ctx.Reply(ctx.Message().Data) })
	h.On("chat.message", func(ctx *hub.Context) error {
		return ctx.Publish("room", "chat.message", ctx.Message().Data)
	})
	opts := append([]Option{
		Args(), ConfigFile(writeFile(t, "ws.toml", "")), DrainTimeout(5 * time.Second),
		Admin(AdminOptions{Socket: filepath.Join(t.TempDir(), "admin.sock")}),
	}, extra...)
	app := New(opts...)
	web := HTTP(Addr("127.0.0.1:0"))
	app.Install(web, Hubs(h))
	Mount(web.Group("/ws"), h)
	web.Get("/api/hello", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello") }).SkipDoc()
	web.Post("/api/echo", func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(w, r.Body) })
	return app, web, h
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wsClient is a test WebSocket client that records what it receives.
type wsClient struct {
	t    *testing.T
	c    *conn.Conn
	in   chan string
	done chan struct{}
	mu   sync.Mutex
	code frame.CloseCode
	why  string
}

func dial(t *testing.T, url string) *wsClient {
	t.Helper()
	w := &wsClient{t: t, in: make(chan string, 1024), done: make(chan struct{})}
	d := &conn.Dialer{Handler: conn.HandlerFuncs{
		Message: func(_ *conn.Conn, _ frame.OpCode, p []byte) { w.in <- string(p) },
		Close: func(_ *conn.Conn, code frame.CloseCode, reason string) {
			w.mu.Lock()
			w.code, w.why = code, reason
			w.mu.Unlock()
			close(w.done)
		},
	}}
	c, _, err := d.Dial(context.Background(), url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	w.c = c
	t.Cleanup(func() { _ = c.Close(frame.CloseNormal, "") })
	return w
}

func (w *wsClient) send(s string) {
	w.t.Helper()
	if err := w.c.Write(frame.OpText, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) next(what string) string {
	w.t.Helper()
	select {
	case m := <-w.in:
		return m
	case <-time.After(waitFor):
		w.t.Fatalf("no %s within %v", what, waitFor)
		return ""
	}
}

func (w *wsClient) closed() (frame.CloseCode, string) {
	w.t.Helper()
	select {
	case <-w.done:
	case <-time.After(waitFor):
		w.t.Fatalf("not closed within %v", waitFor)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.code, w.why
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The hub mounted through a group at /ws and the user's plain routes share
// one port; health endpoints answer there too.
func TestHostServesHubAndRoutesOnOnePort(t *testing.T) {
	app, web, _ := testApp(t)
	r := startApp(t, app, web)
	c := dial(t, r.url("ws", "/ws"))
	c.send(`{"id":"1","event":"echo","data":"hi"}`)
	if got := c.next("echo reply"); got != `{"id":"1","event":"echo","ok":true,"data":"hi"}` {
		t.Fatalf("echo: %s", got)
	}
	if code, body := get(t, r.url("http", "/api/hello")); code != 200 || body != "hello" {
		t.Fatalf("GET /api/hello: %d %q", code, body)
	}
	resp, err := http.Post(r.url("http", "/api/echo"), "text/plain", strings.NewReader("posted"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "posted" {
		t.Fatalf("POST /api/echo: %q", b)
	}
	if code, _ := get(t, r.url("http", "/nope")); code != 404 {
		t.Fatalf("GET /nope: %d, want 404", code)
	}
	if code, body := get(t, r.url("http", "/livez")); code != 200 {
		t.Fatalf("/livez: %d %q", code, body)
	}
	if code, body := get(t, r.url("http", "/readyz")); code != 200 {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	// An upgrade at a path with no endpoint: 404.
	_, _, err = (&conn.Dialer{}).Dial(context.Background(), r.url("ws", "/elsewhere"))
	if he, ok := err.(*frame.HandshakeError); !ok || he.Status != 404 {
		t.Fatalf("upgrade at /elsewhere: %v, want 404", err)
	}
}

// Stop order and drain: a client gets every message queued for it, then
// 1001; the host then refuses new connections; Run returns nil.
func TestStopDrainsClientsThen1001(t *testing.T) {
	app, web, h := testApp(t)
	r := startApp(t, app, web)
	c := dial(t, r.url("ws", "/ws"))
	c.send(`{"id":"1","event":"subscribe","channel":"room"}`)
	c.next("subscribe reply")
	for i := range 20 { // under the hub's SendBuffer (32): none is dropped as a slow consumer
		if err := h.Publish("room", "n", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.shutdown(t); err != nil {
		t.Fatalf("Run after a clean stop: %v", err)
	}
	for i := range 20 {
		if got, want := c.next(fmt.Sprintf("message %d of 20 queued before the stop", i)), fmt.Sprintf(`{"channel":"room","event":"n","data":%d}`, i); got != want {
			t.Fatalf("message %d: %s, want %s", i, got, want)
		}
	}
	if code, why := c.closed(); code != frame.CloseGoingAway || why != "server shutdown" {
		t.Fatalf("close %d %q, want 1001 server shutdown", code, why)
	}
	if _, err := http.Get(r.url("http", "/api/hello")); err == nil {
		t.Fatal("the host still answers after Run returned")
	}
}

// readyz is 503 while draining.
func TestReadyzWhileDraining(t *testing.T) {
	app, web, _ := testApp(t)
	startApp(t, app, web)
	app.draining.Store(true)
	rec := &httpRecorder{}
	readyz(app).ServeHTTP(rec, httpReq(t))
	if rec.status != http.StatusServiceUnavailable || !strings.Contains(rec.body.String(), "draining") {
		t.Fatalf("readyz while draining: %d %q", rec.status, rec.body.String())
	}
}

type httpRecorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *httpRecorder) Header() http.Header {
	if r.h == nil {
		r.h = http.Header{}
	}
	return r.h
}
func (r *httpRecorder) WriteHeader(s int) { r.status = s }
func (r *httpRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}

func httpReq(t *testing.T) *http.Request {
	req, err := http.NewRequest(http.MethodGet, "/readyz", nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// The commands talk to the running server: ws:list, ws:channels, ws:stats
// (tables and --json), ws:kick closes the client with its reason.
func TestCommandsAgainstRunningServer(t *testing.T) {
	app, web, _ := testApp(t)
	r := startApp(t, app, web)
	c := dial(t, r.url("ws", "/ws"))
	c.send(`{"id":"1","event":"subscribe","channel":"room"}`)
	c.next("subscribe reply")

	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		cmdApp := New(Args(args...), Output(&out), ConfigFile(app.configPath), Admin(app.admin))
		cmdApp.Install(Hubs(hub.New("default", hub.Config{})))
		err := cmdApp.Run(context.Background())
		return out.String(), err
	}
	out, err := run("ws:list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var list []hub.ClientInfo
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0].Channels[0] != "room" {
		t.Fatalf("ws:list --json: %q (%v)", out, err)
	}
	id := list[0].ID
	if out, err = run("ws:list", "default"); err != nil || !strings.HasPrefix(out, "ID") || !strings.Contains(out, id) {
		t.Fatalf("ws:list default: %q %v", out, err)
	}
	if out, err = run("ws:channels"); err != nil || !strings.Contains(out, "room") {
		t.Fatalf("ws:channels: %q %v", out, err)
	}
	if out, err = run("ws:stats", "--json"); err != nil || !strings.Contains(out, `"clients":1`) {
		t.Fatalf("ws:stats --json: %q %v", out, err)
	}
	if out, err = run("ws:kick", "default", id, "go", "home"); err != nil {
		t.Fatalf("ws:kick: %q %v", out, err)
	}
	if code, why := c.closed(); code != hub.CloseKicked || why != "go home" {
		t.Fatalf("kicked client closed with %d %q, want %d \"go home\"", code, why, hub.CloseKicked)
	}
	if _, err = run("ws:nope"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("unknown command: %v", err)
	}
}

// With no server running, a command says so.
func TestCommandWithoutServer(t *testing.T) {
	var out bytes.Buffer
	app := New(Args("ws:list"), Output(&out), ConfigFile(writeFile(t, "ws.toml", "")),
		Admin(AdminOptions{Socket: filepath.Join(t.TempDir(), "none.sock")}))
	app.Install(Hubs(hub.New("default", hub.Config{})))
	err := app.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no running server") {
		t.Fatalf("ws:list without a server: %v", err)
	}
}

// The admin socket is created 0600; the TCP admin address needs the token.
func TestAdminSocketModeAndTCPToken(t *testing.T) {
	app, web, _ := testApp(t, Admin(AdminOptions{TCP: "127.0.0.1:0", Token: "s3cret"}))
	// 127.0.0.1:0 cannot be dialed back; use a fixed free port instead.
	port := freePort(t)
	app.admin.TCP = port
	app.admin.Socket = filepath.Join(t.TempDir(), "admin.sock")
	startApp(t, app, web)
	fi, err := os.Stat(app.admin.Socket)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("admin socket mode %o, want 600", perm)
	}
	resp, err := http.Get("http://" + port + "/hubs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("admin over TCP without a token: %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+port+"/hubs", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "default") {
		t.Fatalf("admin over TCP with the token: %d %q", resp.StatusCode, b)
	}
}

// A TCP admin address must be loopback and carry a token.
func TestAdminTCPRefusals(t *testing.T) {
	for _, o := range []AdminOptions{{Socket: "-", TCP: "127.0.0.1:0"}, {Socket: "-", TCP: "0.0.0.0:0", Token: "x"}} {
		if _, err := startAdmin(o, Hubs(), slog.Default()); err == nil {
			t.Fatalf("startAdmin(%+v) succeeded", o)
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Several servers started in one directory (nodes of a cluster on one
// machine): the first holds the default admin socket, the others start
// without it; a socket named explicitly must be free.
func TestAdminDefaultSocketShared(t *testing.T) {
	first, err := startAdmin(AdminOptions{}.merge(nil), Hubs(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer first.close(context.Background())
	second, err := startAdmin(AdminOptions{}.merge(nil), Hubs(), slog.Default())
	if err != nil {
		t.Fatalf("a second server in the same directory: %v", err)
	}
	defer second.close(context.Background())
	if second.socket != "" {
		t.Fatalf("the second server took the socket %s", second.socket)
	}
	if _, err := startAdmin(AdminOptions{Socket: first.socket}.merge(nil), Hubs(), slog.Default()); err == nil {
		t.Fatal("an explicitly named socket in use was taken over")
	}
}
