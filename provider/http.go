package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/surge-ws/ws/conn"
)

// HTTPHost is the provider of the HTTP port (runa's route.Provider): one
// listener on the event loop that serves the Router's WebSocket endpoints
// and hands every other request to the Router's net/http routes, the health
// endpoints and /metrics. It embeds its Router: host.Get("/ws", hub.Serve).
type HTTPHost struct {
	*Router

	addr      string
	reusePort bool
	limits    conn.IPLimits

	mu     sync.Mutex
	srv    *conn.Server
	ln     net.Listener
	failed chan error
	extra  map[string]http.Handler // the App's health and metrics endpoints
}

// HTTPOption configures an HTTPHost.
type HTTPOption func(*HTTPHost)

// Addr sets the listening address. Default ":8080".
func Addr(addr string) HTTPOption { return func(h *HTTPHost) { h.addr = addr } }

// ReusePort sets SO_REUSEPORT, so several processes can share the port.
func ReusePort() HTTPOption { return func(h *HTTPHost) { h.reusePort = true } }

// Limits bounds connections and handshakes per client address (see
// conn.IPLimits). Default: none.
func Limits(l conn.IPLimits) HTTPOption { return func(h *HTTPHost) { h.limits = l } }

// HTTP returns an HTTP host with its own Router.
func HTTP(opts ...HTTPOption) *HTTPHost {
	h := &HTTPHost{Router: NewRouter(), addr: ":8080", failed: make(chan error, 1), extra: map[string]http.Handler{}}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Name implements Provider.
func (h *HTTPHost) Name() string { return "http" }

// handle adds an endpoint of the App's own (health, metrics) in front of the
// Router's routes.
func (h *HTTPHost) handle(path string, handler http.Handler) {
	h.mu.Lock()
	h.extra[path] = handler
	h.mu.Unlock()
}

// Configure implements Configurable: the file's [http] addr overrides the
// code's.
func (h *HTTPHost) Configure(app *App) error {
	if f := app.Config(); f.HTTP.Addr != "" {
		h.addr = f.HTTP.Addr
	}
	return nil
}

// Start listens and serves in the background; a failure of the listener
// later is reported through Failed.
func (h *HTTPHost) Start(ctx context.Context, _ *App) error {
	ln, err := conn.Listen("tcp", h.addr, h.reusePort)
	if err != nil {
		return fmt.Errorf("provider: http listen %s: %w", h.addr, err)
	}
	srv := &conn.Server{
		Route:    h.endpoint,
		Upgrade:  notFound,
		Fallback: http.HandlerFunc(h.serveHTTP),
		IPLimits: h.limits,
	}
	h.mu.Lock()
	h.srv, h.ln = srv, ln
	h.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, conn.ErrServerClosed) {
			h.failed <- fmt.Errorf("provider: http serve: %w", err)
		}
	}()
	return nil
}

// Stop stops accepting, lets in-flight HTTP requests finish and closes the
// connections still open (WebSocket clients get 1001), within ctx.
func (h *HTTPHost) Stop(ctx context.Context) error {
	h.mu.Lock()
	srv := h.srv
	h.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// Conns returns the number of connections the host holds: WebSocket,
// handshaking and plain HTTP (0 before Start).
func (h *HTTPHost) Conns() int {
	h.mu.Lock()
	srv := h.srv
	h.mu.Unlock()
	if srv == nil {
		return 0
	}
	return srv.Len()
}

// Failed reports a listener that stopped serving on its own.
func (h *HTTPHost) Failed() <-chan error { return h.failed }

// ListenAddr returns the address the host listens on (nil before Start).
func (h *HTTPHost) ListenAddr() net.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ln == nil {
		return nil
	}
	return h.ln.Addr()
}

func (h *HTTPHost) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	extra := h.extra[r.URL.Path]
	h.mu.Unlock()
	if extra != nil {
		extra.ServeHTTP(w, r)
		return
	}
	h.Router.ServeHTTP(w, r)
}

func notFound(r *conn.Request) (any, *conn.Reject) {
	return nil, &conn.Reject{Status: http.StatusNotFound, Body: "no WebSocket endpoint at " + r.Path}
}
