// Command stub serves loadtest's stub hub (loadtest/internal/stub: the
// protocol subset on the library's conn/ package) at /ws, for trying the load
// generator before examples/chat exists:
//
//	go run ./loadtest/peers/stub -addr 127.0.0.1:8080
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/stub"
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	flag.Parse()
	s, err := stub.Start(*addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("stub hub: %s (pid %d)", s.URL(), os.Getpid())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.Close(ctx)
}
