package ws_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/surge-ws/ws"
)

// The seed program's hub, ported by changing the import path.
func Example() {
	hub := ws.New("default", ws.Config{
		Origin: []string{"http://localhost:3000"},
	})
	defer hub.Stop(context.Background())

	hub.On("chat.message", func(ctx *ws.Context) error {
		return ctx.Publish("room", "chat.message", ctx.Message().Data)
	})
	hub.On("echo", func(ctx *ws.Context) error {
		return ctx.Reply(map[string]any{"data": ctx.Message().Data})
	})

	fmt.Println(hub.Name(), hub.Publish("room", "chat.message", map[string]string{"text": "hi"}))
	// Output: default <nil>
}

// The names a runa program uses compile against the facade.
func TestFacade(t *testing.T) {
	var (
		_ ws.Handler       = func(*ws.Context) error { return nil }
		_ ws.Middleware    = func(next ws.Handler) ws.Handler { return next }
		_ ws.SubscribeHook = func(*ws.Context, string) error { return nil }
		_ ws.PublishHook   = func(context.Context, string, string, any) error { return nil }
		_ ws.Authenticator = func(*http.Request) (ws.Identity, error) { return ws.Identity{}, nil }
		_ ws.Broker        = ws.NewMemoryBroker()
		_ ws.Presence      = ws.NewMemoryPresence()
		_ ws.Filter        = ws.ByID("a")
		_ ws.Filter        = ws.ByChannel("c")
		_ ws.CloseReason   = ws.ReasonKicked
		_ error            = ws.NewError(400, "x")
		_                  = ws.Message{ID: "1", Event: "e", Channel: "c"}
		_                  = ws.Response{OK: true}
		_                  = ws.Packet{Event: "e"}
		_                  = ws.ClientInfo{}
		_                  = ws.ChannelInfo{}
		_                  = ws.Stats{}
	)
	h := ws.New("", ws.Config{})
	if h.Name() != "default" {
		t.Fatal(h.Name())
	}
	h.Configure(ws.Config{SendBuffer: 64})
	var s ws.Stats = h.Stats()
	var list []ws.ClientInfo = h.Clients(ws.ByChannel("x"))
	var chans []ws.ChannelInfo = h.Channels()
	_, _, _ = s, list, chans
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.Status() != ws.StatusStopped {
		t.Fatal(h.Status())
	}
}
