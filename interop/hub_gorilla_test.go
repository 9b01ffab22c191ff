package interop

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/surge-ws/ws/hub"
)

// gorillaHub is a gorilla/websocket client of a hub.
type gorillaHub struct {
	t *testing.T
	c *websocket.Conn
}

// dialGorillaHub connects user to the hub at addr. rcvbuf > 0 sets the
// socket's receive buffer (a small one makes a client that stops reading
// back up the server quickly).
func dialGorillaHub(t *testing.T, addr, user string, rcvbuf int) *gorillaHub {
	t.Helper()
	d := websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			var nd net.Dialer
			nc, err := nd.DialContext(ctx, network, a)
			if err == nil && rcvbuf > 0 {
				err = nc.(*net.TCPConn).SetReadBuffer(rcvbuf)
			}
			return nc, err
		},
	}
	c, resp, err := d.Dial(hubURL(addr, user), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", user, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &gorillaHub{t, c}
}

func (g *gorillaHub) send(s string) {
	g.t.Helper()
	if err := g.c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gorillaHub) next() hubFrame {
	g.t.Helper()
	_ = g.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, p, err := g.c.ReadMessage()
	if err != nil {
		g.t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		g.t.Fatalf("the hub sent message type %d, want text", typ)
	}
	return parseHubFrame(g.t, p)
}

// closed reads until the connection ends and returns the close frame.
func (g *gorillaHub) closed() *websocket.CloseError {
	g.t.Helper()
	ce := g.closedErr()
	if ce == nil {
		g.t.FailNow()
	}
	return ce
}

// closedErr is closed for any goroutine: it reports a failure with Errorf
// and returns nil.
func (g *gorillaHub) closedErr() *websocket.CloseError {
	_ = g.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, p, err := g.c.ReadMessage()
		if err == nil {
			g.t.Logf("message before the close: %.200s", p)
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			g.t.Errorf("want a close frame, got %v", err)
			return nil
		}
		// gorilla has answered the close; closing TCP now, as a client
		// should, saves the server its lingering wait for our FIN.
		_ = g.c.Close()
		return ce
	}
}

// TestHubGorilla runs the seed's flows with gorilla/websocket clients.
func TestHubGorilla(t *testing.T) {
	h := seedHub(hub.Config{})
	addr := serveHub(t, h)
	alice := dialGorillaHub(t, addr, "alice", 0)
	bob := dialGorillaHub(t, addr, "bob", 0)

	// subscribe: the reply is matched by id.
	for _, g := range []*gorillaHub{alice, bob} {
		g.send(`{"id":"s1","event":"subscribe","channel":"room"}`)
		checkResponse(t, g.next(), "s1", "subscribe", true)
	}
	if ci, ok := h.Channel("room"); !ok || ci.Clients != 2 {
		t.Fatalf("Channel(room) = %+v %v, want 2 subscribers", ci, ok)
	}
	if ch := clientOf(t, h, "bob").Channels; !slices.Equal(ch, []string{"room"}) {
		t.Fatalf("bob's channels %v", ch)
	}

	// publish: both subscribers get the push; the sender also gets its ack.
	alice.send(`{"id":"c1","event":"chat.message","data":{"text":"hi all"}}`)
	ack, push := splitAckAndPush(t, alice.next(), alice.next())
	checkResponse(t, ack, "c1", "chat.message", true)
	checkPush(t, push, "room", "chat.message", `{"text":"hi all"}`)
	checkPush(t, bob.next(), "room", "chat.message", `{"text":"hi all"}`)

	// reply: echo answers by id with {"data": data}.
	alice.send(`{"id":"e1","event":"echo","data":{"text":"hello","n":[1,2.5,null]}}`)
	r := alice.next()
	checkResponse(t, r, "e1", "echo", true)
	if !sameJSON(t, r.Data, []byte(`{"data":{"text":"hello","n":[1,2.5,null]}}`)) {
		t.Fatalf("echo reply data %s", r.Data)
	}

	// ping: the reply's data is {"event":"pong"}.
	bob.send(`{"id":"p1","event":"ping"}`)
	r = bob.next()
	checkResponse(t, r, "p1", "ping", true)
	if !sameJSON(t, r.Data, []byte(`{"event":"pong"}`)) {
		t.Fatalf("ping reply data %s", r.Data)
	}

	// unknown event: ok:false, 404, "handler nope is not registered".
	alice.send(`{"id":"u1","event":"nope"}`)
	r = alice.next()
	checkResponse(t, r, "u1", "nope", false)
	if r.Code != hub.CodeNotFound || !strings.Contains(r.Message, "not registered") {
		t.Fatalf("unknown event reply %s", r.Raw)
	}

	// malformed JSON: an error answer (an "error" push, having no readable
	// id), code 400; the connection stays usable.
	alice.send(`{not json`)
	r = alice.next()
	if r.isResponse() || r.Event != hub.EventError {
		t.Fatalf("malformed JSON answered %s, want an error push", r.Raw)
	}
	var ed struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(r.Data, &ed); err != nil || ed.Code != hub.CodeBadRequest || ed.Message == "" {
		t.Fatalf("error push data %s (%v)", r.Data, err)
	}
	if !strings.HasPrefix(ed.Message, "malformed message") {
		t.Fatalf("error push message %q", ed.Message)
	}
	// Malformed after a readable id: a response with that id (docs/protocol.md).
	alice.send(`{"id":"m1","event":"x",}`)
	r = alice.next()
	if !r.isResponse() || r.ID != "m1" || r.ok() || r.Code != hub.CodeBadRequest || !strings.HasPrefix(r.Message, "malformed message") {
		t.Fatalf("malformed JSON with an id answered %s", r.Raw)
	}
	alice.send(`{"id":"p2","event":"ping"}`)
	checkResponse(t, alice.next(), "p2", "ping", true)

	// kick bob by his connection id: close 4000 with the reason.
	bobID := clientOf(t, h, "bob").ID
	if err := h.Kick(bobID, "bye now"); err != nil {
		t.Fatal(err)
	}
	if ce := bob.closed(); ce.Code != int(hub.CloseKicked) || ce.Text != "bye now" {
		t.Fatalf("kicked client saw close %d %q, want 4000 \"bye now\"", ce.Code, ce.Text)
	}
	waitFor(t, "bob to leave the hub", func() bool { return len(h.Clients()) == 1 })
	if ci, _ := h.Channel("room"); ci.Clients != 1 {
		t.Fatalf("room has %d subscribers after the kick, want 1", ci.Clients)
	}
	// The channel still works for the one left.
	alice.send(`{"event":"chat.message","data":"still here"}`)
	checkPush(t, alice.next(), "room", "chat.message", `"still here"`)

	// Stop: alice gets 1001 "server shutdown".
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// alice keeps reading, as a live client does, so she answers the
	// close at once (Stop waits for that, up to the close timeout).
	aliceClose := make(chan *websocket.CloseError, 1)
	go func() { aliceClose <- alice.closedErr() }()
	if err := h.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if ce := <-aliceClose; ce == nil || ce.Code != websocket.CloseGoingAway || ce.Text != "server shutdown" {
		t.Fatalf("on Stop the client saw close %d %q, want 1001 \"server shutdown\"", ce.Code, ce.Text)
	}
	if s := h.Stats(); s.Clients != 0 || s.SlowClients != 0 {
		t.Fatalf("stats after Stop %+v", s)
	}
}
