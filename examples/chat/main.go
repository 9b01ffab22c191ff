// Command chat is the seed's runa program on this library: a hub with an
// "echo" event and a "chat.message" event published to the channel "room",
// served at /ws, and a web page at / from which people chat between browser
// tabs. It is written as the seed writes it, on package provider:
//
//	runa                                                  here
//	hub := ws.New("default", ws.Config{})                 the same
//	app := runa.New()                                     app := provider.New()
//	app.Install(route.Provider(route.Addr(":8080")),      web := provider.HTTP(provider.Addr(":8080"))
//	            ws.Provider(hub))                         app.Install(web, ws.Provider(hub))
//	route.Default().Get("/ws", hub.Serve).SkipDoc()       web.Get("/ws", hub.Serve).SkipDoc()
//	app.Run(context.Background())                         app.Run(ctx)
//
//	go run ./examples/chat            # then open http://localhost:8080/ in two tabs
//	go run ./examples/chat ws:list    # in another terminal, while it runs
//	go run ./examples/chat -addr :9000 -stats-addr 127.0.0.1:9002
//
// With -redis it runs as one node of a cluster: every node started with the
// same Redis serves one hub, so a message written on a page served by one node
// reaches the pages of all of them (docs/scaling.md):
//
//	go run ./examples/chat -redis 127.0.0.1:6379 -node a -addr :8080 -stats-addr 127.0.0.1:9080
//	go run ./examples/chat -redis 127.0.0.1:6379 -node b -addr :8081 -stats-addr 127.0.0.1:9081
//
// config/ws.toml (in the working directory) and WS_ variables configure it
// too (docs/configuration.md); -addr, -node and -redis override them. The
// stats address also serves a small admin API over the whole cluster:
// GET /clients (every node's clients, as ws:list), GET /cluster (node, broker
// and presence counters) and POST /kick?id=ID&reason=TEXT (a connection or
// user id, on whichever node holds it).
//
// SIGINT or SIGTERM stops the hub (clients are closed with 1001 "server
// shutdown") and then the HTTP host, within shutdownTimeout.
package main

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"time"

	"github.com/surge-ws/ws"
	"github.com/surge-ws/ws/provider"
	wsredis "github.com/surge-ws/ws/redis"
)

//go:embed index.html
var page []byte

// shutdownTimeout bounds the stop of the hub and the server together, unless
// -shutdown-timeout says otherwise (a node of a million-connection machine
// needs longer: every client's close handshake shares two cores).
const shutdownTimeout = 10 * time.Second

func main() {
	addr := flag.String("addr", "", "address to listen on (page at /, WebSocket at /ws; default :8080, or the config file's [http] addr)")
	statsAddr := flag.String("stats-addr", "", "serve {conns, goroutines, heap_inuse, heap_alloc, sys} as JSON over HTTP on this address")
	reuse := flag.Bool("reuseport", false, "set SO_REUSEPORT so several processes share the port")
	sendBuffer := flag.Int("send-buffer", 0, "messages queued per connection before it is closed as a slow consumer (0: the hub's default, 32)")
	inline := flag.Bool("inline-handlers", false, "run handlers on the connection's input goroutine (they never block here)")
	rate := flag.Float64("message-rate", 0, "messages per second one connection may send (0: the hub's default, 100; negative: no limit, for load generators)")
	redisAddr := flag.String("redis", "", "join a cluster through the Redis at this address (default: in memory, this process alone)")
	node := flag.String("node", "", "this node's name in the cluster (default: <hostname>-<pid>-<random>)")
	nodeTTL := flag.Duration("node-ttl", 0, "with -redis: a node silent this long is dead to the others (default 5s; it beats and reaps every fifth of it)")
	stopWithin := flag.Duration("shutdown-timeout", shutdownTimeout, "on SIGINT/SIGTERM: how long the clients' close handshakes and the HTTP host's drain may take")
	flag.Parse()

	opt := options{StatsAddr: *statsAddr, ReusePort: *reuse, InlineHandlers: *inline, SendBuffer: *sendBuffer, MessageRate: *rate,
		Redis: *redisAddr, Node: *node, NodeTTL: *nodeTTL, ShutdownTimeout: *stopWithin, Args: flag.Args()}
	if err := run(context.Background(), *addr, opt); err != nil {
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
	// ShutdownTimeout bounds the stop (0: shutdownTimeout).
	ShutdownTimeout time.Duration
	// Args are the command-line arguments after the flags: a ws:* command,
	// or nothing to serve.
	Args []string
	// Ready, if set, is called once the listeners are open, with their
	// addresses (stats is nil without StatsAddr). Tests use it to learn the
	// port of "127.0.0.1:0".
	Ready func(addr, stats net.Addr)
}

// newHub is the seed program's hub.
func newHub(opt options) *ws.Hub {
	cfg := ws.Config{InlineHandlers: opt.InlineHandlers, SendBuffer: opt.SendBuffer, MessageRate: opt.MessageRate, Node: opt.Node}
	h := ws.New("default", cfg)
	h.On("echo", func(ctx *ws.Context) error {
		return ctx.Reply(map[string]any{"data": ctx.Message().Data})
	})
	h.On("chat.message", func(ctx *ws.Context) error {
		return ctx.Publish("room", "chat.message", ctx.Message().Data)
	})
	return h
}

// run is the seed's main: the hub on an App with an HTTP host, the page
// beside it. It serves until ctx is done or the process gets SIGINT or
// SIGTERM (or runs the ws:* command in opt.Args), and returns nil after a
// clean stop.
func run(ctx context.Context, addr string, opt options) error {
	hub := newHub(opt)
	app := provider.New(
		provider.Args(opt.Args...),
		provider.DrainTimeout(cmp.Or(opt.ShutdownTimeout, shutdownTimeout)),
		provider.Override(func(f *provider.File) { // the flags win over the file
			if addr != "" {
				f.HTTP.Addr = addr
			}
			if opt.Redis != "" {
				f.Redis.Addr = opt.Redis
			}
			if opt.Node != "" && f.Hubs["default"].Node != "" {
				t := f.Hubs["default"]
				t.Node = opt.Node
				f.Hubs["default"] = t
			}
		}),
	)
	hostOpts := []provider.HTTPOption{provider.Addr(":8080")}
	if opt.ReusePort {
		hostOpts = append(hostOpts, provider.ReusePort())
	}
	web := provider.HTTP(hostOpts...)
	stats := &statsServer{addr: opt.StatsAddr, web: web, hub: hub}
	app.Install(web, ws.Provider(hub), stats, &announce{web: web, hub: hub, stats: stats, ready: opt.Ready})
	if opt.Redis != "" {
		// runa's wsredis provider: the hub's Broker and Presence on this Redis
		// (presence keys under "runa:ws:default:").
		app.Install(provider.Redis(wsredis.Options{Addr: opt.Redis, NodeTTL: opt.NodeTTL}))
	}

	web.Get("/ws", hub.Serve).SkipDoc()
	web.Get("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	})
	web.Handle("", "/ws", func(w http.ResponseWriter, r *http.Request) { // /ws without an Upgrade header
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "/ws is a WebSocket endpoint; open / for the chat page", http.StatusUpgradeRequired)
	})
	return app.Run(ctx)
}

// announce is the last provider: it logs where the chat is and tells a test.
type announce struct {
	web   *provider.HTTPHost
	hub   *ws.Hub
	stats *statsServer
	ready func(addr, stats net.Addr)
}

func (a *announce) Name() string { return "announce" }

func (a *announce) Start(context.Context, *provider.App) error {
	host := hostPort(a.web.ListenAddr())
	log.Printf("chat: page on http://%s/, hub on ws://%s/ws (pid %d, node %s)", host, host, os.Getpid(), a.hub.Node())
	if a.ready != nil {
		a.ready(a.web.ListenAddr(), a.stats.listenAddr())
	}
	return nil
}

func (a *announce) Stop(context.Context) error { return nil }

// statsServer serves the vital signs and the cluster admin API on their own
// address (none without -stats-addr).
type statsServer struct {
	addr string
	web  *provider.HTTPHost
	hub  *ws.Hub
	srv  *http.Server
	ln   net.Listener
}

func (s *statsServer) Name() string { return "stats" }

func (s *statsServer) Start(context.Context, *provider.App) error {
	if s.addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: statsHandler(s.web, s.hub), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("chat: stats on http://%s/", ln.Addr())
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

func (s *statsServer) Stop(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

func (s *statsServer) listenAddr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
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
func statsHandler(web *provider.HTTPHost, h *ws.Hub) http.Handler {
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
	mux.Handle("/", vitals(web))
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func vitals(web *provider.HTTPHost) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"conns":      web.Conns(),
			"goroutines": runtime.NumGoroutine(),
			"heap_inuse": m.HeapInuse,
			"heap_alloc": m.HeapAlloc,
			"sys":        m.Sys,
		})
	})
}
