// Command nbio is the comparison peer built on lesismal/nbio: its event-loop
// HTTP engine and websocket upgrader, callbacks instead of goroutines per
// connection. It serves the protocol subset of loadtest/internal/wire at /ws.
//
//	go run ./loadtest/peers/nbio -addr 127.0.0.1:8082
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"

	"github.com/surge-ws/ws/loadtest/internal/wire"
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	flag.Parse()
	engine, err := serve(*addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("nbio hub: ws://%s/ws (pid %d)", *addr, os.Getpid())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = engine.Shutdown(ctx)
}

// serve starts the hub on addr.
func serve(addr string) (*nbhttp.Engine, error) {
	h := &wire.Hub[*websocket.Conn]{
		Reply: func(c *websocket.Conn, msg []byte) { _ = c.WriteMessage(websocket.TextMessage, msg) },
		Prepare: func(pkt []byte) func(*websocket.Conn) {
			return func(c *websocket.Conn) { _ = c.WriteMessage(websocket.TextMessage, pkt) }
		},
	}
	up := websocket.NewUpgrader()
	up.CheckOrigin = func(*http.Request) bool { return true }
	up.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, data []byte) {
		if mt == websocket.TextMessage {
			h.Handle(c, data)
		}
	})
	up.OnClose(func(c *websocket.Conn, _ error) { h.Gone(c) })

	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		// On success nbio owns the connection; on failure it has answered.
		_, _ = up.Upgrade(w, r, nil)
	})
	engine := nbhttp.NewEngine(nbhttp.Config{Network: "tcp", Addrs: []string{addr}, Handler: mux})
	if err := engine.Start(); err != nil {
		return nil, err
	}
	return engine, nil
}
