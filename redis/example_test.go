package wsredis_test

import (
	"context"
	"log"

	"github.com/redis/go-redis/v9"

	"github.com/surge-ws/ws/hub"
	wsredis "github.com/surge-ws/ws/redis"
)

// A hub that is one node of a cluster: start the same program on several machines with the same
// Redis, and a message published on one reaches the subscribers of all of them; Clients, Channels,
// Send and Kick see the whole cluster.
func Example() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()

	h := hub.New("default", hub.Config{
		Broker:   wsredis.Broker(client, "ws"),
		Presence: wsredis.Presence(client, "runa:ws:default:"),
	})
	h.On("chat.message", func(ctx *hub.Context) error {
		return ctx.Publish("room", "chat.message", ctx.Message().Data)
	})
	if err := h.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer h.Stop(context.Background())
	// Serve it: hub.NewMux().Mount("/ws", h) (see docs/start.md).
}

// Options are runa's provider options plus the tuning; without Client the Broker and the Presence
// make (and close) clients of their own.
func ExampleNewBroker() {
	o := wsredis.Options{
		Addr:           "127.0.0.1:6379",
		Channel:        "ws",
		PresencePrefix: "runa:ws:chat:",
		Layout:         wsredis.LayoutChannel,
	}
	h := hub.New("chat", hub.Config{Broker: wsredis.NewBroker(o), Presence: wsredis.NewPresence(o)})
	_ = h
}

// Stats tell what did not cross between nodes.
func ExampleRedisBroker_Stats() {
	b := wsredis.NewBroker(wsredis.Options{})
	defer b.Close(context.Background())
	st := b.Stats()
	log.Printf("published %d, lost on sending %d, missed on receiving %d", st.Published, st.PublishErrors, st.Gaps)
}
