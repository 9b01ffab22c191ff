// Command echo is a WebSocket echo server on the raw conn API: every text or
// binary message comes back as it was sent. It is the server the conformance
// suite and the idle-connection measurement run against.
//
//	go run ./examples/echo -addr :9001
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

func main() {
	addr := flag.String("addr", ":9001", "address to listen on")
	maxMsg := flag.Int64("max-message", 16<<20, "largest message accepted, in bytes")
	compress := flag.Bool("compress", false, "negotiate permessage-deflate")
	reuse := flag.Bool("reuseport", false, "set SO_REUSEPORT so several processes share the port")
	stats := flag.Duration("stats", 0, "print connections, goroutines and heap at this interval (0: never)")
	statsAddr := flag.String("stats-addr", "", "serve {conns, goroutines, heap_inuse, ...} as JSON over HTTP on this address")
	flag.Parse()

	srv := &conn.Server{
		Handler: conn.HandlerFuncs{
			Message: func(c *conn.Conn, op frame.OpCode, p []byte) { _ = c.Write(op, p) },
		},
		Config: conn.Config{MaxMessageSize: *maxMsg, Compression: *compress},
	}
	ln, err := conn.Listen("tcp", *addr, *reuse)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("echo: listening on %s (pid %d)", ln.Addr(), os.Getpid())
	if *stats > 0 {
		go func() {
			for range time.Tick(*stats) {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				log.Printf("echo: conns=%d goroutines=%d heap_inuse=%d", srv.Len(), runtime.NumGoroutine(), m.HeapInuse)
			}
		}()
	}
	if *statsAddr != "" {
		go serveStats(*statsAddr, srv)
	}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); err != nil && err != conn.ErrServerClosed {
		log.Fatal(err)
	}
}

// serveStats answers every request with the server's vital signs. It runs a
// forced GC first so heap figures are live memory, not garbage.
func serveStats(addr string, srv *conn.Server) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"conns":      srv.Len(),
			"goroutines": runtime.NumGoroutine(),
			"heap_inuse": m.HeapInuse,
			"heap_alloc": m.HeapAlloc,
			"sys":        m.Sys,
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	log.Fatal(http.ListenAndServe(addr, mux))
}
