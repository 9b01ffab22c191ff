package interop

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/surge-ws/ws/hub"
)

// coderHub is a coder/websocket client of a hub, with a tap on its TCP
// connection to see which frames were compressed.
type coderHub struct {
	t    *testing.T
	ctx  context.Context
	c    *websocket.Conn
	tap  *tapConn
	resp *http.Response
}

func dialCoderHub(t *testing.T, ctx context.Context, addr, user string, mode websocket.CompressionMode) *coderHub {
	t.Helper()
	var taps tapDialer
	c, resp, err := websocket.Dial(ctx, hubURL(addr, user), &websocket.DialOptions{
		HTTPClient:      &http.Client{Transport: &http.Transport{DialContext: taps.DialContext}},
		CompressionMode: mode,
	})
	if err != nil {
		t.Fatalf("dial %s: %v", user, err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	c.SetReadLimit(1 << 20)
	return &coderHub{t, ctx, c, taps.last(t), resp}
}

func (k *coderHub) send(s string) {
	k.t.Helper()
	if err := k.c.Write(k.ctx, websocket.MessageText, []byte(s)); err != nil {
		k.t.Fatal(err)
	}
}

func (k *coderHub) next() hubFrame {
	k.t.Helper()
	typ, p, err := k.c.Read(k.ctx)
	if err != nil {
		k.t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		k.t.Fatalf("the hub sent %v, want text", typ)
	}
	return parseHubFrame(k.t, p)
}

// compressedFrames counts the data frames with RSV1 the client sent and got.
func (k *coderHub) compressedFrames() (sent, got int) {
	for _, f := range dataFrames(k.tap.sent(k.t)) {
		if f.rsv1 {
			sent++
		}
	}
	for _, f := range dataFrames(k.tap.got(k.t)) {
		if f.rsv1 {
			got++
		}
	}
	return sent, got
}

// TestHubCoder runs subscribe, publish, reply, ping and kick with
// coder/websocket clients: one negotiating permessage-deflate, one not, on
// the same channel, so the one encoded frame of a publish goes out both
// compressed and plain.
//
// hub.Config has no compression switch: compression is turned on through
// the conn.Endpoint the hub serves (h.Endpoint().Config.Compression), which
// must be set before the first connection.
func TestHubCoder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := seedHub(hub.Config{})
	h.Endpoint().Config.Compression = true
	addr := serveHub(t, h)

	zip := dialCoderHub(t, ctx, addr, "zip", websocket.CompressionNoContextTakeover)
	plain := dialCoderHub(t, ctx, addr, "plain", websocket.CompressionDisabled)
	if ext := zip.resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
		t.Fatalf("the hub did not accept permessage-deflate: %q", ext)
	}
	if ext := plain.resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("the hub answered extensions %q to a client that offered none", ext)
	}

	for _, k := range []*coderHub{zip, plain} {
		k.send(`{"id":"s1","event":"subscribe","channel":"room"}`)
		checkResponse(t, k.next(), "s1", "subscribe", true)
	}

	// A large compressible chat message from the compressing client: the hub
	// inflates it, and its push reaches both, deflated for one only.
	text := string(compressible(8000))
	msg := `{"text":"` + text + `"}`
	zip.send(`{"id":"c1","event":"chat.message","data":` + msg + `}`)
	ack, push := splitAckAndPush(t, zip.next(), zip.next())
	checkResponse(t, ack, "c1", "chat.message", true)
	checkPush(t, push, "room", "chat.message", msg)
	checkPush(t, plain.next(), "room", "chat.message", msg)

	// And from the plain one.
	plain.send(`{"event":"chat.message","data":{"from":"plain"}}`)
	for _, k := range []*coderHub{zip, plain} {
		checkPush(t, k.next(), "room", "chat.message", `{"from":"plain"}`)
	}

	// reply
	zip.send(`{"id":"e1","event":"echo","data":` + msg + `}`)
	r := zip.next()
	checkResponse(t, r, "e1", "echo", true)
	if !sameJSON(t, r.Data, []byte(`{"data":`+msg+`}`)) {
		t.Fatalf("echo reply data %.200s", r.Data)
	}

	// ping
	for _, k := range []*coderHub{zip, plain} {
		k.send(`{"id":"p1","event":"ping"}`)
		r := k.next()
		checkResponse(t, r, "p1", "ping", true)
		if !sameJSON(t, r.Data, []byte(`{"event":"pong"}`)) {
			t.Fatalf("ping reply data %s", r.Data)
		}
	}

	zs, zg := zip.compressedFrames()
	ps, pg := plain.compressedFrames()
	if zs == 0 || zg == 0 {
		t.Fatalf("compressing client: %d frames sent and %d received compressed; want some of each", zs, zg)
	}
	if ps != 0 || pg != 0 {
		t.Fatalf("plain client: %d frames sent and %d received compressed", ps, pg)
	}
	t.Logf("compressing client: %d frames sent and %d received compressed", zs, zg)

	// kick with a reason
	if err := h.Kick(clientOf(t, h, "zip").ID, "bye now"); err != nil {
		t.Fatal(err)
	}
	_, _, err := zip.c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusCode(hub.CloseKicked) || ce.Reason != "bye now" {
		t.Fatalf("kicked client: %v, want close 4000 \"bye now\"", err)
	}
	waitFor(t, "the kicked client to leave", func() bool { return len(h.Clients()) == 1 })
	plain.send(`{"id":"p2","event":"ping"}`)
	checkResponse(t, plain.next(), "p2", "ping", true)
}
