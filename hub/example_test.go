package hub_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/surge-ws/ws/hub"
)

func Example() {
	h := hub.New("default", hub.Config{Origin: []string{"http://localhost:3000"}})
	defer h.Stop(context.Background())

	// {"id":"2","event":"echo","data":{"text":"hello"}} is answered with
	// {"id":"2","event":"echo","ok":true,"data":{"data":{"text":"hello"}}}.
	h.On("echo", func(ctx *hub.Context) error {
		return ctx.Reply(map[string]any{"data": ctx.Message().Data})
	})
	// A chat message goes to everyone subscribed to "room" (on every node, through the Broker).
	h.On("chat.message", func(ctx *hub.Context) error {
		return ctx.Publish("room", "chat.message", ctx.Message().Data)
	})
	if err := h.Start(context.Background()); err != nil {
		panic(err)
	}

	// Server-side publishing: encoded once, whatever the number of subscribers.
	err := h.Publish("room", "chat.message", map[string]string{"text": "hello"})
	fmt.Println(err, h.Status(), h.Stats().Clients)
	// Output: <nil> running 0
}

func ExampleHub_Use() {
	h := hub.New("default", hub.Config{})
	defer h.Stop(context.Background())

	// The first Use is the outermost; middleware wraps the built-in events too.
	h.Use(func(next hub.Handler) hub.Handler {
		return func(ctx *hub.Context) error {
			err := next(ctx)
			if err != nil {
				slog.Warn("ws handler failed", "event", ctx.Message().Event, "client", ctx.Client().ID(), "err", err)
			}
			return err
		}
	})
	h.Use(func(next hub.Handler) hub.Handler {
		return func(ctx *hub.Context) error {
			if strings.HasPrefix(ctx.Message().Event, "admin.") && !ctx.Can("admin") {
				return hub.NewError(hub.CodeForbidden, "admin only")
			}
			return next(ctx)
		}
	})
}

func ExampleHub_OnSubscribe() {
	h := hub.New("default", hub.Config{
		// Runs before the upgrade; an error answers 401.
		Auth: func(r *http.Request) (hub.Identity, error) {
			token := r.URL.Query().Get("token")
			if token == "" {
				return hub.Identity{}, errors.New("token required")
			}
			return hub.Identity{ID: "user-" + token, Meta: map[string]any{"permissions": []string{"chat"}}}, nil
		},
	})
	defer h.Stop(context.Background())

	// Clients may subscribe to their own user channel only.
	h.OnSubscribe(func(ctx *hub.Context, channel string) error {
		if strings.HasPrefix(channel, "user:") && channel != "user:"+ctx.Identity().ID {
			return hub.NewError(hub.CodeForbidden, "not your channel")
		}
		return nil
	})
}

func ExampleNewMemoryBroker() {
	// Two hubs of one process joined as a cluster: a publish on one reaches the other's clients.
	broker := hub.NewMemoryBroker()
	a := hub.New("a", hub.Config{Broker: broker, Node: "node-a"})
	b := hub.New("b", hub.Config{Broker: broker, Node: "node-b"})
	_ = a.Start(context.Background())
	_ = b.Start(context.Background())
	fmt.Println(a.Publish("room", "hello", nil))
	_ = a.Stop(context.Background()) // closes the shared broker too
	_ = b.Stop(context.Background())
	// Output: <nil>
}
