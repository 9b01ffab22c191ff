// Command chat is the seed's runa program on this library: a hub with an
// "echo" event and a "chat.message" event published to the channel "room",
// served at /ws, and a web page at / from which people chat between browser
// tabs.
//
//	go run ./examples/chat            # then open http://localhost:8080/ in two tabs
//	go run ./examples/chat -addr :9000 -stats-addr 127.0.0.1:9002
//
// With -redis it runs as one node of a cluster: every node started with the
// same Redis serves one hub, so a message written on a page served by one node
// reaches the pages of all of them (docs/scaling.md):
//
//	go run ./examples/chat -redis 127.0.0.1:6379 -node a -addr :8080 -stats-addr 127.0.0.1:9080
//	go run ./examples/chat -redis 127.0.0.1:6379 -node b -addr :8081 -stats-addr 127.0.0.1:9081
//
// The stats address also serves a small admin API over the whole cluster:
// GET /clients (every node's clients, as ws:list), GET /cluster (node, broker
// and presence counters) and POST /kick?id=ID&reason=TEXT (a connection or
// user id, on whichever node holds it).
//
// The page and the WebSocket endpoint share one port: the hub is mounted on a
// hub.Mux, and plain HTTP requests go to the Mux's fallback handler. SIGINT or
// SIGTERM stops the hub (clients are closed with 1001 "server shutdown") and
// then the server, within shutdownTimeout.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/surge-ws/ws"
	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/hub"
	wsredis "github.com/surge-ws/ws/redis"
)

//go:embed index.html
var page []byte

// shutdownTimeout bounds the stop of the hub and the server together.
const shutdownTimeout = 10 * time.Second

func main() {
	addr := flag.String("addr", ":8080", "address to listen on (page at /, WebSocket at /ws)")
	statsAddr := flag.String("stats-addr", "", "serve {conns, goroutines, heap_inuse, heap_alloc, sys} as JSON over HTTP on this address")
	reuse := flag.Bool("reuseport", false, "set SO_REUSEPORT so several processes share the port")
	sendBuffer := flag.Int("send-buffer", 0, "messages queued per connection before it is closed as a slow consumer (0: the hub's default, 32)")
	inline := flag.Bool("inline-handlers", false, "run handlers on the connection's input goroutine (they never block here)")
	rate := flag.Float64("message-rate", 0, "messages per second one connection may send (0: the hub's default, 100; negative: no limit, for load generators)")
	redisAddr := flag.String("redis", "", "join a cluster through the Redis at this address (default: in memory, this process alone)")
	node := flag.String("node", "", "this node's name in the cluster (default: <hostname>-<pid>-<random>)")
	nodeTTL := flag.Duration("node-ttl", 0, "with -redis: a node silent this long is dead to the others (default 5s)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, options{StatsAddr: *statsAddr, ReusePort: *reuse, InlineHandlers: *inline, SendBuffer: *sendBuffer, MessageRate: *rate,
		Redis: *redisAddr, Node: *node, NodeTTL: *nodeTTL}); err != nil {
		log.Fatal(err)
	}
}

// options are run's settings besides the address.
type options struct {
	StatsAddr string // "": no stats endpoint
	ReusePort bool
	// InlineHandlers runs the (non-blocking) handlers on the input goroutine.
	InlineHandlers bool
	// SendBuffer is the hub's SendBuffer (0: its default).
	SendBuffer int
	// Redis, if set, is the address of the Redis through which this process
	// joins the other nodes (Broker and Presence); Node names this node and
	// NodeTTL is the Presence's NodeTTL (0: its default).
	Redis   string
	Node    string
	NodeTTL time.Duration
	// MessageRate is the hub's MessageRate (0: its default; negative: off).
	MessageRate float64
	// Ready, if set, is called once the listeners are open, with their
	// addresses (stats is nil without StatsAddr). Tests use it to learn the
	// port of "127.0.0.1:0".
	Ready func(addr, stats net.Addr)
}

// newHub is the seed program's hub.
func newHub(opt options) *ws.Hub {
	cfg := ws.Config{InlineHandlers: opt.InlineHandlers, SendBuffer: opt.SendBuffer, MessageRate: opt.MessageRate, Node: opt.Node}
	if opt.Redis != "" {
		cfg.Broker = wsredis.NewBroker(wsredis.Options{Addr: opt.Redis})
		cfg.Presence = wsredis.NewPresence(wsredis.Options{Addr: opt.Redis, PresencePrefix: "runa:ws:default:",
			NodeTTL: opt.NodeTTL})
	}
	h := ws.New("default", cfg)
	h.On("echo", func(ctx *ws.Context) error {
		return ctx.Reply(map[string]any{"data": ctx.Message().Data})
	})
	h.On("chat.message", func(ctx *ws.Context) error {
		return ctx.Publish("room", "chat.message", ctx.Message().Data)
	})
	return h
}

// pageHandler answers the plain HTTP requests: GET / with the chat page, /ws
// (without an Upgrade header) with 426, everything else with 404.
func pageHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "/ws is a WebSocket endpoint; open / for the chat page", http.StatusUpgradeRequired)
	})
	return mux
}

// run serves the chat on addr until ctx is done, then stops the hub and the
// server. It returns nil after a clean stop.
func run(ctx context.Context, addr string, opt options) error {
	h := newHub(opt)
	if err := h.Start(ctx); err != nil {
		return err
	}
	m := hub.NewMux()
	m.Mount("/ws", h)
	srv := m.Server(pageHandler())

	ln, err := conn.Listen("tcp", addr, opt.ReusePort)
	if err != nil {
		_ = h.Stop(context.Background())
		return err
	}
	var stats *http.Server
	var statsAddr net.Addr
	if opt.StatsAddr != "" {
		sln, err := net.Listen("tcp", opt.StatsAddr)
		if err != nil {
			ln.Close()
			_ = h.Stop(context.Background())
			return err
		}
		stats = &http.Server{Handler: statsHandler(srv, h), ReadHeaderTimeout: 5 * time.Second}
		statsAddr = sln.Addr()
		log.Printf("chat: stats on http://%s/", statsAddr)
		go func() { _ = stats.Serve(sln) }()
	}
	host := hostPort(ln.Addr())
	log.Printf("chat: page on http://%s/, hub on ws://%s/ws (pid %d, node %s)", host, host, os.Getpid(), h.Node())
	if opt.Ready != nil {
		opt.Ready(ln.Addr(), statsAddr)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}

	// Stop the hub first, so clients get its 1001 "server shutdown" (and new
	// upgrades a 503) while the page is still served, then the transport.
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	errs := []error{serveErr}
	if err := h.Stop(sctx); err != nil {
		errs = append(errs, err)
	}
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, err)
	}
	if stats != nil {
		if err := stats.Shutdown(sctx); err != nil {
			errs = append(errs, err)
		}
	}
	if serveErr == nil {
		if err := <-served; !errors.Is(err, conn.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	_ = ln.Close() // Serve does not close it if Shutdown came first
	return errors.Join(errs...)
}

// hostPort is addr as a browser would reach it: a wildcard address
// (":8080") is shown as localhost.
func hostPort(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// statsHandler serves the vital signs at every path but /debug/pprof/, where
// the runtime's profiles are (heap profiles show what a connection costs), and
// the cluster admin API: /clients, /cluster, /kick.
func statsHandler(srv *conn.Server, h *ws.Hub) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /clients", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, h.Clients())
	})
	mux.HandleFunc("GET /cluster", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]any{"node": h.Node(), "stats": h.Stats(), "cluster": h.ClusterStats(), "channels": h.Channels()}
		if b, ok := h.Broker().(*wsredis.RedisBroker); ok {
			out["broker"] = b.Stats()
		}
		if p, ok := h.Presence().(*wsredis.RedisPresence); ok {
			out["presence"] = p.Stats()
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("POST /kick", func(w http.ResponseWriter, r *http.Request) {
		reason := r.URL.Query().Get("reason")
		if reason == "" {
			reason = string(ws.ReasonKicked)
		}
		if err := h.Kick(r.URL.Query().Get("id"), ws.CloseReason(reason)); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("/", vitals(srv))
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func vitals(srv *conn.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
}
