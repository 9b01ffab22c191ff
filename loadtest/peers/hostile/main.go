// Command hostile is the target of loadtest's abuse scenario for the cases
// examples/chat cannot serve: the seed's hub (an "echo" event and
// "chat.message" published to "room", at /ws) plus two handlers a careless
// application might have:
//
//   - "panic" panics;
//   - "block" never returns (until the server stops): the worker running the
//     client's mailbox is stuck, and the client's later messages wait.
//
// It also serves the hub's Stats beside the goroutine count on -stats-addr,
// so that channels left behind by a subscribe storm show, and sets the
// transport's per-address limits (conn.Server.IPLimits, off by default and
// in examples/chat) from its -ip-* flags.
//
//	go run ./loadtest/peers/hostile -addr 127.0.0.1:8080 -stats-addr 127.0.0.1:9002 -ip-max-conns 64
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/hub"
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on (hub at /ws)")
	statsAddr := flag.String("stats-addr", "", "serve {conns, goroutines, clients, channels, ...} as JSON on this address")
	var ipl conn.IPLimits
	flag.IntVar(&ipl.MaxConns, "ip-max-conns", 0, "connections (in handshake or open) per client address (0: no limit)")
	flag.Float64Var(&ipl.HandshakeRate, "ip-handshake-rate", 0, "new connections per second per client address (0: no limit)")
	flag.IntVar(&ipl.HandshakeBurst, "ip-handshake-burst", 0, "burst of -ip-handshake-rate (0: the rate)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *statsAddr, ipl); err != nil {
		log.Fatal(err)
	}
}

// newHub is examples/chat's hub with the panic and block handlers. A block
// handler returns when release is closed.
func newHub(release <-chan struct{}) *hub.Hub {
	h := hub.New("default", hub.Config{})
	h.On("echo", func(ctx *hub.Context) error {
		return ctx.Reply(map[string]any{"data": ctx.Message().Data})
	})
	h.On("chat.message", func(ctx *hub.Context) error {
		return ctx.Publish("room", "chat.message", ctx.Message().Data)
	})
	h.On("panic", func(ctx *hub.Context) error {
		panic("hostile: the panic handler panics")
	})
	h.On("block", func(ctx *hub.Context) error {
		<-release // not ctx.Context(): this handler ignores its client leaving
		return nil
	})
	return h
}

func run(ctx context.Context, addr, statsAddr string, ipl conn.IPLimits) error {
	release := make(chan struct{})
	h := newHub(release)
	if err := h.Start(ctx); err != nil {
		return err
	}
	m := hub.NewMux()
	m.Mount("/ws", h)
	srv := m.Server(nil)
	srv.IPLimits = ipl
	ln, err := conn.Listen("tcp", addr, false)
	if err != nil {
		return err
	}
	var stats *http.Server
	if statsAddr != "" {
		sln, err := net.Listen("tcp", statsAddr)
		if err != nil {
			ln.Close()
			return err
		}
		stats = &http.Server{Handler: vitals(srv, h), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = stats.Serve(sln) }()
	}
	log.Printf("hostile: hub on ws://%s/ws (pid %d)", ln.Addr(), os.Getpid())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	close(release)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := []error{serveErr, h.Stop(sctx), srv.Shutdown(sctx)}
	if stats != nil {
		errs = append(errs, stats.Shutdown(sctx))
	}
	if serveErr == nil {
		if err := <-served; !errors.Is(err, conn.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	_ = ln.Close()
	return errors.Join(errs...)
}

// vitals answers every request with the transport's connections, the
// goroutines and the hub's Stats, after a forced GC.
func vitals(srv *conn.Server, h *hub.Hub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"conns":      srv.Len(),
			"goroutines": runtime.NumGoroutine(),
			"heap_inuse": m.HeapInuse,
			"hub":        h.Stats(),
		})
	})
}
