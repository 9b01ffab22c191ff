package conn

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

// A Server mounted in a net/http router takes the upgraded connections onto
// its own loop.
func TestServeHTTPInARouter(t *testing.T) {
	rec := newRecorder(true)
	s := &Server{
		Handler: rec,
		Upgrade: func(r *Request) (any, *Reject) {
			if r.HTTPRequest().URL.Query().Get("token") != "ok" {
				return nil, &Reject{Status: http.StatusUnauthorized, Body: "token please"}
			}
			return r.RemoteAddr.String(), nil
		},
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", s)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("page")) })
	hs := httptest.NewServer(mux)
	defer hs.Close()
	addr := strings.TrimPrefix(hs.URL, "http://")

	// Rejections are answered by net/http.
	resp, err := http.Get(hs.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("plain GET /ws: %d", resp.StatusCode)
	}
	rc := dialRaw(t, addr)
	rc.write([]byte(upgradeRequest("/ws?token=no")))
	if resp := rc.readResponse(); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("hook rejection: %d", resp.StatusCode)
	}

	// The first frame travels with the request: net/http has read it already.
	rc = dialRaw(t, addr)
	req := append([]byte(upgradeRequest("/ws?token=ok")), rc.frameBytes(true, frame.OpText, []byte("early"))...)
	rc.write(req)
	if resp := rc.readResponse(); resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %d", resp.StatusCode)
	}
	if f := rc.mustNext(); string(f.Payload) != "early" {
		t.Fatalf("first echo %q", f.Payload)
	}
	rc.send(true, frame.OpBinary, []byte{1, 2, 3})
	if f := rc.mustNext(); f.Op != frame.OpBinary || len(f.Payload) != 3 {
		t.Fatalf("second echo %v %v", f.Op, f.Payload)
	}

	rc.nc.Close() // a raw client would not answer Shutdown's close frame
	eventually(t, "the raw connection gone", func() bool { return s.Len() == 0 })

	// A dialed client through the router, and Shutdown reaching it.
	crec := newRecorder(false)
	c, _, err := (&Dialer{Handler: crec}).Dial(context.Background(), "ws://"+addr+"/ws?token=ok")
	if err != nil {
		t.Fatal(err)
	}
	if c.RemoteAddr() == nil {
		t.Fatal("no remote address")
	}
	eventually(t, "the adopted connection", func() bool { return s.Len() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 3e9)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := crec.waitClosed(t); got != "1001 server shutdown" {
		t.Fatalf("client saw %q", got)
	}
}

// Behind TLS, and over HTTP/2, the upgrade cannot leave net/http: it is
// refused with a clear status before the Upgrade hook (Auth) runs.
func TestServeHTTPRefusesTLSAndHTTP2BeforeTheHook(t *testing.T) {
	var hooked atomic.Int32
	s := &Server{Upgrade: func(*Request) (any, *Reject) { hooked.Add(1); return nil, nil }}
	upgrade := func(req *http.Request) {
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Sec-WebSocket-Key", testKey)
		req.Header.Set("Sec-WebSocket-Version", "13")
	}

	// TLS, end to end (Go's client sends upgrades over HTTP/1.1 only).
	hs := httptest.NewTLSServer(s)
	defer hs.Close()
	req, _ := http.NewRequest(http.MethodGet, hs.URL+"/ws", nil)
	upgrade(req)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatalf("upgrade over TLS: %v (dropped without an answer?)", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(body), "TLS") {
		t.Errorf("over TLS: %d %q, want 501 saying TLS", resp.StatusCode, body)
	}

	// HTTP/2: what net/http hands a handler for a request over h2.
	req = httptest.NewRequest(http.MethodGet, "/ws", nil)
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
	upgrade(req)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusHTTPVersionNotSupported || !strings.Contains(rec.Body.String(), "HTTP/1.1") {
		t.Errorf("over HTTP/2: %d %q, want 505 saying HTTP/1.1", rec.Code, rec.Body.String())
	}
	if n := hooked.Load(); n != 0 {
		t.Fatalf("the Upgrade hook ran %d times for requests that cannot be served", n)
	}
}

// A client that hangs up right behind its upgrade request: netpoll sees the
// hangup while the hijacked connection has no input callback yet (here OnOpen
// holds adopt until it has), and ignores it. The connection must still go,
// with OnClose and its IPLimits place.
func TestServeHTTPPeerGoneBeforeAdoptionEnds(t *testing.T) {
	closed := make(chan frame.CloseCode, 1)
	var opened atomic.Int32
	s := &Server{
		IPLimits: IPLimits{MaxConns: 1},
		Handler: HandlerFuncs{
			Open: func(c *Conn) {
				if opened.Add(1) > 1 {
					return // the connection that checks the place came back
				}
				deadline := time.Now().Add(5 * time.Second)
				for c.np.IsActive() {
					if time.Now().After(deadline) {
						t.Error("netpoll never saw the client's hangup")
						return
					}
					time.Sleep(time.Millisecond)
				}
			},
			Close: func(_ *Conn, code frame.CloseCode, _ string) { closed <- code },
		},
	}
	hs := httptest.NewServer(s)
	defer hs.Close()
	addr := strings.TrimPrefix(hs.URL, "http://")
	rc := dialRaw(t, addr)
	rc.write([]byte(upgradeRequest("/")))
	rc.nc.Close()
	select {
	case code := <-closed:
		if code != frame.CloseAbnormal {
			t.Fatalf("OnClose code %d, want 1006", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for OnClose of the client that hung up")
	}
	eventually(t, "the connection to leave the count", func() bool { return s.Len() == 0 })
	if resp := dialRaw(t, addr).handshake(nil); resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("the address's place was not given back: %d", resp.StatusCode)
	}
}
