package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/hub"
)

// The hub tests serve a hub with the seed's handlers on the real transport
// (hub.NewMux, conn.Server on a loopback port) and drive it with clients
// nobody here wrote.

// seedHub returns a hub with the seed's handlers:
//
//	echo          replies {"data": <the message's data>}
//	chat.message  publishes the message's data to "room" as chat.message
//
// Its Authenticator takes the user's id from the "user" query parameter
// (Identity.ID), so a test can find a client with hub.ByID(user).
func seedHub(cfg hub.Config) *hub.Hub {
	cfg.Auth = func(r *http.Request) (hub.Identity, error) {
		u := r.URL.Query().Get("user")
		return hub.Identity{ID: u, Name: u}, nil
	}
	h := hub.New("default", cfg)
	h.On("echo", func(ctx *hub.Context) error {
		return ctx.Reply(map[string]any{"data": ctx.Message().Data})
	})
	h.On("chat.message", func(ctx *hub.Context) error {
		return ctx.Publish("room", "chat.message", ctx.Message().Data)
	})
	return h
}

// serveHub mounts h at /ws on a conn.Server on 127.0.0.1:0 and returns the
// address. Cleanup stops the hub, shuts the server down and waits for Serve.
// Endpoint settings hub.Config does not expose (Compression) must be set on
// h.Endpoint() before the call.
func serveHub(t *testing.T, h *hub.Hub) string {
	t.Helper()
	m := hub.NewMux()
	m.Mount("/ws", h)
	srv := m.Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "page")
	}))
	ln, err := conn.Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Stop(ctx); err != nil {
			t.Errorf("hub Stop: %v", err)
		}
		_ = srv.Shutdown(ctx)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Shutdown")
		}
	})
	return ln.Addr().String()
}

// hubURL is the URL of the hub served at addr for user.
func hubURL(addr, user string) string { return "ws://" + addr + "/ws?user=" + user }

// hubFrame is anything the hub sends: a Response (OK set) or a pushed packet
// (OK nil). Raw keeps the message as received.
type hubFrame struct {
	ID      string          `json:"id"`
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	OK      *bool           `json:"ok"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	Raw     []byte          `json:"-"`
}

func (f hubFrame) isResponse() bool { return f.OK != nil }
func (f hubFrame) ok() bool         { return f.OK != nil && *f.OK }

func parseHubFrame(t *testing.T, p []byte) hubFrame {
	t.Helper()
	var f hubFrame
	if err := json.Unmarshal(p, &f); err != nil {
		t.Fatalf("the hub sent bad JSON %q: %v", p, err)
	}
	f.Raw = bytes.Clone(p)
	return f
}

// keys returns the top-level keys of a JSON object.
func keys(t *testing.T, p []byte) map[string]bool {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(p, &m); err != nil {
		t.Fatalf("not a JSON object %q: %v", p, err)
	}
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("bad JSON %q: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("bad JSON %q: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

// checkResponse checks a response to the message with id.
func checkResponse(t *testing.T, f hubFrame, id, event string, ok bool) {
	t.Helper()
	if !f.isResponse() || f.ID != id || f.Event != event || f.ok() != ok {
		t.Fatalf("want a response id %q event %q ok %v, got %s", id, event, ok, f.Raw)
	}
}

// checkPush checks a pushed packet: no "id", no "ok" (that is how a client
// tells it from a response), and no "origin" (it travels between nodes only).
func checkPush(t *testing.T, f hubFrame, channel, event, data string) {
	t.Helper()
	if f.isResponse() || f.Channel != channel || f.Event != event || !sameJSON(t, f.Data, []byte(data)) {
		t.Fatalf("want a push channel %q event %q data %s, got %s", channel, event, data, f.Raw)
	}
	k := keys(t, f.Raw)
	for _, bad := range []string{"id", "ok", "origin"} {
		if k[bad] {
			t.Fatalf("push carries %q: %s", bad, f.Raw)
		}
	}
}

// splitAckAndPush sorts the two frames a publisher gets for a chat.message
// with an id (its ack and its own copy of the push, in either order).
func splitAckAndPush(t *testing.T, a, b hubFrame) (ack, push hubFrame) {
	t.Helper()
	switch {
	case a.isResponse() && !b.isResponse():
		return a, b
	case b.isResponse() && !a.isResponse():
		return b, a
	}
	t.Fatalf("want one response and one push, got %s and %s", a.Raw, b.Raw)
	return
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clientOf returns the connection id of user's only connection, as
// h.Clients(hub.ByID(user)) lists it.
func clientOf(t *testing.T, h *hub.Hub, user string) hub.ClientInfo {
	t.Helper()
	list := h.Clients(hub.ByID(user))
	if len(list) != 1 || list[0].UserID != user {
		t.Fatalf("Clients(ByID(%q)) = %+v, want one connection", user, list)
	}
	if list[0].ID == "" || list[0].ID == user {
		t.Fatalf("connection id %q: it must be the hub's own, not the user id", list[0].ID)
	}
	return list[0]
}
