package conn

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
