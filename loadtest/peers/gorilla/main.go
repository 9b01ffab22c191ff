// Command gorilla is the comparison peer built on gorilla/websocket the way
// its chat example teaches: per connection a read goroutine and a write
// goroutine fed by a buffered channel; a connection whose channel is full is
// dropped. It serves the protocol subset of loadtest/internal/wire at /ws.
//
//	go run ./loadtest/peers/gorilla -addr 127.0.0.1:8081
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
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	flag.Parse()
	h := newHub()
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", h.serveWS)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // hijacked connections are not tracked: the process exits
	}()
	log.Printf("gorilla hub: ws://%s/ws (pid %d)", *addr, os.Getpid())
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
