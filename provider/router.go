package provider

import (
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/surge-ws/ws/conn"
)

// UpgradeHook is a WebSocket upgrade hook: hub.Hub.Serve, or any conn
// Upgrade function.
type UpgradeHook = func(r *conn.Request) (value any, reject *conn.Reject)

// Router registers the routes of an HTTP host: plain handlers, served by
// net/http (any http.Handler or handler function), and WebSocket endpoints
// (a hub, its Serve method, a conn.Endpoint or an UpgradeHook), served on the
// event loop. Groups share their parent's routes under a path prefix.
//
// Register routes before the host starts serving, from one goroutine;
// registering later is safe but racy for the requests already arriving.
type Router struct {
	prefix string
	t      *routeTable
}

type routeTable struct {
	mu        sync.RWMutex
	mux       *http.ServeMux
	endpoints map[string]*conn.Endpoint // exact path -> WebSocket endpoint
	routes    []*Route
}

// Route is one registered route.
type Route struct {
	Method  string // "" for WebSocket endpoints
	Path    string
	Upgrade bool // a WebSocket endpoint
	skipDoc bool
}

// SkipDoc leaves the route out of the route listing (runa's API
// documentation switch); it returns the route.
func (r *Route) SkipDoc() *Route { r.skipDoc = true; return r }

// Documented reports whether SkipDoc was not called.
func (r *Route) Documented() bool { return !r.skipDoc }

// NewRouter returns an empty Router.
func NewRouter() *Router {
	return &Router{t: &routeTable{mux: http.NewServeMux(), endpoints: map[string]*conn.Endpoint{}}}
}

// Group returns a Router whose routes are registered under prefix.
func (r *Router) Group(prefix string) *Router {
	return &Router{prefix: join(r.prefix, prefix), t: r.t}
}

// Prefix returns the group's path prefix ("" for the root).
func (r *Router) Prefix() string { return r.prefix }

// Get registers h for GET requests of path. h may be a WebSocket endpoint
// (hub.Serve, a hub, a conn.Endpoint, an UpgradeHook): path then serves
// upgrades, on the event loop.
func (r *Router) Get(p string, h any) *Route { return r.Handle(http.MethodGet, p, h) }

// Post registers h for POST requests of path.
func (r *Router) Post(p string, h any) *Route { return r.Handle(http.MethodPost, p, h) }

// Put registers h for PUT requests of path.
func (r *Router) Put(p string, h any) *Route { return r.Handle(http.MethodPut, p, h) }

// Patch registers h for PATCH requests of path.
func (r *Router) Patch(p string, h any) *Route { return r.Handle(http.MethodPatch, p, h) }

// Delete registers h for DELETE requests of path.
func (r *Router) Delete(p string, h any) *Route { return r.Handle(http.MethodDelete, p, h) }

// Handle registers h for method ("" for every method) and path, which may
// use net/http's patterns ("/files/{name}", a trailing "/" for a subtree).
// It panics on a handler of another type or a conflicting pattern, as
// http.ServeMux does.
func (r *Router) Handle(method, p string, h any) *Route {
	full := join(r.prefix, p)
	if ep := endpointOf(h); ep != nil {
		if method != "" && method != http.MethodGet {
			panic(fmt.Sprintf("provider: a WebSocket endpoint answers GET only, not %s %s", method, full))
		}
		route := &Route{Path: full, Upgrade: true}
		r.t.mu.Lock()
		r.t.endpoints[full] = ep
		r.t.routes = append(r.t.routes, route)
		r.t.mu.Unlock()
		return route
	}
	hh := handlerOf(h)
	if hh == nil {
		panic(fmt.Sprintf("provider: %T is neither an http.Handler nor a WebSocket endpoint (%s %s)", h, method, full))
	}
	pattern := full
	if method != "" {
		pattern = method + " " + full
	}
	route := &Route{Method: method, Path: full}
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	r.t.mux.Handle(pattern, hh)
	r.t.routes = append(r.t.routes, route)
	return route
}

// Routes lists the registered routes, sorted by path then method.
func (r *Router) Routes() []Route {
	r.t.mu.RLock()
	out := make([]Route, 0, len(r.t.routes))
	for _, rt := range r.t.routes {
		out = append(out, *rt)
	}
	r.t.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// ServeHTTP serves the plain routes (net/http's mux; 404 for the rest).
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.t.mu.RLock()
	mux := r.t.mux
	r.t.mu.RUnlock()
	mux.ServeHTTP(w, req)
}

// endpoint returns the WebSocket endpoint registered at the request's path.
func (r *Router) endpoint(req *conn.Request) *conn.Endpoint {
	r.t.mu.RLock()
	defer r.t.mu.RUnlock()
	return r.t.endpoints[req.Path]
}

// endpointer is what a hub is, seen from here.
type endpointer interface{ Endpoint() *conn.Endpoint }

func endpointOf(h any) *conn.Endpoint {
	switch v := h.(type) {
	case *conn.Endpoint:
		return v
	case endpointer:
		return v.Endpoint()
	case UpgradeHook:
		// The hook's value brings the real endpoint (hub.Client does: see
		// conn.EndpointValue); this one only runs the hook.
		return &conn.Endpoint{Upgrade: v}
	}
	return nil
}

func handlerOf(h any) http.Handler {
	switch v := h.(type) {
	case http.Handler:
		return v
	case func(http.ResponseWriter, *http.Request):
		return http.HandlerFunc(v)
	}
	return nil
}

// join puts a route path under a group prefix: join("/ws", "/") is "/ws",
// join("", "/") is "/", and a trailing slash of p (a subtree) is kept.
func join(prefix, p string) string {
	if p == "" || p == "/" {
		if prefix == "" {
			return "/"
		}
		return prefix
	}
	full := path.Join("/", prefix, p)
	if strings.HasSuffix(p, "/") {
		full += "/"
	}
	return full
}
