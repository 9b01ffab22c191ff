// Command nethttp mounts a hub in an ordinary net/http router, beside REST
// routes: the router stays the program's, and the hub's upgraded connections
// leave net/http for the event loop (conn.Server is an http.Handler that
// hijacks them), where they cost what connections accepted on the loop cost.
// Any router that takes an http.Handler works the same way (chi:
// r.Handle("/ws", srv)).
//
//	go run ./examples/nethttp -addr :8090
//	curl localhost:8090/api/time
//	# and a WebSocket client on ws://localhost:8090/ws
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/surge-ws/ws"
	"github.com/surge-ws/ws/conn"
)

func main() {
	addr := flag.String("addr", ":8090", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		log.Fatal(err)
	}
}

// run serves until ctx is done.
func run(ctx context.Context, addr string) error {
	h := ws.New("default", ws.Config{})
	h.On("echo", func(c *ws.Context) error { return c.Reply(c.Message().Data) })
	if err := h.Start(ctx); err != nil {
		return err
	}

	// The hub's upgrade hook on a conn.Server: Hub.Serve brings the hub's
	// limits along (conn.EndpointValue), so nothing else is needed.
	upgrades := &conn.Server{Upgrade: h.Serve}

	mux := http.NewServeMux()
	mux.Handle("GET /ws", upgrades)
	mux.HandleFunc("GET /api/time", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(time.Now().UTC().Format(time.RFC3339) + "\n"))
	})
	mux.HandleFunc("POST /api/broadcast", func(w http.ResponseWriter, r *http.Request) {
		if err := h.Broadcast("announce", r.URL.Query().Get("text")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})

	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := errors.Join(
		h.Stop(sctx),            // clients get 1001 "server shutdown"
		upgrades.Shutdown(sctx), // the loop's connections
		srv.Shutdown(sctx),      // net/http's
	)
	<-errc // http.ErrServerClosed
	return err
}
