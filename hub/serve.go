package hub

import (
	"net/http"
	"sync"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// Serve is the hub's upgrade hook (runa's hub.Serve): it runs Origin and
// Auth on the upgrade request and either admits the connection, returning
// its *Client as the connection's value, or answers with 403/401/503. It runs
// on the connection's own input goroutine, so a slow Authenticator delays
// only that connection.
//
// Most programs do not call it: Endpoint wires it, with the hub's transport
// callbacks and limits, for a conn.Server.
func (h *Hub) Serve(r *conn.Request) (any, *conn.Reject) {
	c, status, msg := h.admitting(&admission{origin: r.Header.Get("Origin"), host: r.Host,
		ip: peerIP(r), userAgent: r.Header.Get("User-Agent"), conn: r})
	if status != 0 {
		return nil, &conn.Reject{Status: status, Body: msg}
	}
	return c, nil
}

// peerIP is the text of r's peer address without its port.
func peerIP(r *conn.Request) string {
	if ip := r.RemoteIP(); ip.IsValid() {
		return ip.String()
	}
	if r.RemoteAddr == nil {
		return ""
	}
	return remoteIP(r.RemoteAddr.String())
}

// ConnEndpoint is the client's hub's Endpoint: Serve returns the *Client as
// the connection's value, and conn.Server takes the hub's transport limits
// and callbacks from it (conn.EndpointValue). So Serve works as the Upgrade
// hook of any conn.Server, or registered by path in a router, without Route.
func (c *Client) ConnEndpoint() *conn.Endpoint { return c.hub.Endpoint() }

var _ conn.EndpointValue = (*Client)(nil)

// Endpoint returns the hub as a conn.Endpoint: Serve as the upgrade hook, the
// hub's message dispatch as the Handler, and the hub's MaxMessageSize,
// timeouts, ping interval and SendBuffer as the transport's limits.
// Configure hands changed limits to it for the connections that open
// afterwards.
//
//	srv := &conn.Server{Route: func(r *conn.Request) *conn.Endpoint {
//		if r.Path == "/ws" { return hub.Endpoint() }
//		return nil
//	}}
func (h *Hub) Endpoint() *conn.Endpoint {
	if ep := h.ep.Load(); ep != nil {
		return ep
	}
	h.epOnce.Do(func() {
		// Under cfgMu, so a concurrent Configure either comes first (and is
		// read here) or sees the endpoint (and reconfigures it).
		h.cfgMu.Lock()
		h.ep.Store(&conn.Endpoint{Handler: transport{}, Upgrade: h.Serve, Config: h.connConfig()})
		h.cfgMu.Unlock()
	})
	return h.ep.Load()
}

// connConfig is the transport's share of the hub's Config.
func (h *Hub) connConfig() conn.Config {
	t := h.TransportConfig()
	cfg := h.config()
	return conn.Config{
		MaxMessageSize: t.MaxMessageSize,
		ReadTimeout:    t.ReadTimeout,
		WriteTimeout:   t.WriteTimeout,
		PingInterval:   t.PingInterval,
		PongTimeout:    t.PongTimeout,
		SendQueue:      t.SendBuffer,
		Compression:    cfg.Compression,
		// Handlers run on mailbox workers unless InlineHandlers: then the
		// transport callbacks never block.
		NonBlocking: !cfg.InlineHandlers,
		Logger:      cfg.Logger,
	}
}

// transport adapts conn's callbacks to the hub's entry points; the hub is
// found through the connection's value, so one adapter serves every hub.
type transport struct{}

func (transport) OnOpen(c *conn.Conn) {
	cl := c.Value().(*Client)
	cl.hub.open(cl, c)
}

func (transport) OnMessage(c *conn.Conn, op frame.OpCode, p []byte) {
	cl := c.Value().(*Client)
	cl.hub.message(cl, op, p)
}

func (transport) OnClose(c *conn.Conn, code frame.CloseCode, reason string) {
	cl := c.Value().(*Client)
	cl.hub.closed(cl, code, reason)
}

// Mux serves several hubs on one port by path: each mounted hub at its own
// path, with its own limits; other upgrade paths get 404. Its methods are safe
// for concurrent use.
type Mux struct {
	mu   sync.RWMutex
	hubs map[string]*Hub
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{hubs: map[string]*Hub{}} }

// Mount serves h at path ("/" if empty). A later Mount at the same path
// replaces the earlier one.
func (m *Mux) Mount(path string, h *Hub) {
	if path == "" {
		path = "/"
	}
	m.mu.Lock()
	m.hubs[path] = h
	m.mu.Unlock()
}

// Hub returns the hub mounted at path.
func (m *Mux) Hub(path string) (*Hub, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	h, ok := m.hubs[path]
	return h, ok
}

// Route is a conn.Server's Route.
func (m *Mux) Route(r *conn.Request) *conn.Endpoint {
	if h, ok := m.Hub(r.Path); ok {
		return h.Endpoint()
	}
	return nil
}

// Upgrade is a conn.Server's Upgrade hook for the paths no hub is mounted at.
func (m *Mux) Upgrade(r *conn.Request) (any, *conn.Reject) {
	return nil, &conn.Reject{Status: http.StatusNotFound, Body: "no hub at " + r.Path}
}

// Server returns a conn.Server that serves the mounted hubs and hands plain
// HTTP requests to fallback (nil: every non-upgrade request gets 426).
func (m *Mux) Server(fallback http.Handler) *conn.Server {
	return &conn.Server{Route: m.Route, Upgrade: m.Upgrade, Handler: transport{}, Fallback: fallback}
}
