package provider

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/surge-ws/ws/hub"
)

// AdminOptions say where the admin endpoint of the ws:* commands listens.
// The commands run in a process of their own and talk to the running server
// through it; with a cluster-wide Broker and Presence (Redis) they see and
// act on the whole cluster.
type AdminOptions struct {
	// Socket is the unix socket path, created with mode 0600 (only the
	// server's user may connect). Default: DefaultAdminSocket(), a path
	// derived from the working directory, so `go run . ws:list` started where
	// the server was started finds it; when another server of the same
	// directory holds it (several nodes on one machine), this one goes
	// without, with a warning — the commands reach the other, which with a
	// cluster-wide Presence answers for all. A path set here must be free.
	// "-" turns the socket off.
	Socket string
	// TCP, if set, also listens on this loopback address; every request
	// must then carry "Authorization: Bearer <Token>". A non-loopback
	// address, or TCP without a Token, is refused at start.
	TCP   string
	Token string

	defaulted bool // Socket is the default path (merge)
}

func (o AdminOptions) merge(f *File) AdminOptions {
	o.defaulted = false
	if f != nil {
		if f.Admin.Socket != "" {
			o.Socket = f.Admin.Socket
		}
		if f.Admin.TCP != "" {
			o.TCP = f.Admin.TCP
		}
		if f.Admin.Token != "" {
			o.Token = f.Admin.Token
		}
	}
	if o.Socket == "" {
		o.Socket, o.defaulted = DefaultAdminSocket(), true
	}
	return o
}

// DefaultAdminSocket is the admin socket's default path: in the temporary
// directory, named after a hash of the working directory.
func DefaultAdminSocket() string {
	wd, _ := os.Getwd()
	sum := sha256.Sum256([]byte(wd))
	return filepath.Join(os.TempDir(), "surge-ws-"+hex.EncodeToString(sum[:6])+".sock")
}

// adminServer serves the admin API:
//
//	GET  /hubs                         names of the hubs
//	GET  /hubs/{hub}/clients           []hub.ClientInfo (the cluster's)
//	GET  /hubs/{hub}/channels          []hub.ChannelInfo
//	GET  /hubs/{hub}/stats             {"node": hub.Stats, "cluster": hub.ClusterStats}
//	POST /hubs/{hub}/kick?id=&reason=  204, or 404 when no such client
type adminServer struct {
	servers []*http.Server
	socket  string
}

func startAdmin(o AdminOptions, p *HubsProvider, log *slog.Logger) (*adminServer, error) {
	a := &adminServer{}
	mux := adminMux(p)
	if o.Socket != "-" {
		err := removeStaleSocket(o.Socket)
		if errors.Is(err, errSocketInUse) && o.defaulted {
			log.Warn("provider: admin socket held by another server of this directory; the ws:* commands reach that one", "socket", o.Socket)
			o.Socket = "-"
		} else if err != nil {
			return nil, err
		}
	}
	if o.Socket != "-" {
		old := umask(0o177)
		ln, err := net.Listen("unix", o.Socket)
		umask(old)
		if err != nil {
			return nil, fmt.Errorf("admin socket: %w", err)
		}
		_ = os.Chmod(o.Socket, 0o600)
		a.socket = o.Socket
		a.serve(ln, mux)
	}
	if o.TCP != "" {
		if o.Token == "" {
			_ = a.close(context.Background())
			return nil, errors.New("admin: a TCP address needs a token (AdminOptions.Token, [admin] token)")
		}
		if !loopback(o.TCP) {
			_ = a.close(context.Background())
			return nil, fmt.Errorf("admin: TCP address %s is not a loopback address", o.TCP)
		}
		ln, err := net.Listen("tcp", o.TCP)
		if err != nil {
			_ = a.close(context.Background())
			return nil, fmt.Errorf("admin tcp: %w", err)
		}
		a.serve(ln, requireToken(o.Token, mux))
	}
	return a, nil
}

func (a *adminServer) serve(ln net.Listener, h http.Handler) {
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	a.servers = append(a.servers, s)
	go func() { _ = s.Serve(ln) }()
}

func (a *adminServer) close(ctx context.Context) error {
	var errs []error
	for _, s := range a.servers {
		errs = append(errs, s.Shutdown(ctx))
	}
	if a.socket != "" {
		_ = os.Remove(a.socket)
	}
	return errors.Join(errs...)
}

var errSocketInUse = errors.New("another server is running there")

// removeStaleSocket removes a socket file nobody listens on (a server that
// died), and refuses to take over one that answers.
func removeStaleSocket(path string) error {
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("admin socket %s: %w", path, errSocketInUse)
	}
	return os.Remove(path)
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func requireToken(token string, h http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			http.Error(w, "admin: missing or wrong token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func adminMux(p *HubsProvider) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hubs", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, p.names()) })
	withHub := func(f func(w http.ResponseWriter, r *http.Request, h *hub.Hub)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			h, ok := p.Hub(r.PathValue("hub"))
			if !ok {
				http.Error(w, fmt.Sprintf("no hub %q (hubs: %v)", r.PathValue("hub"), p.names()), http.StatusNotFound)
				return
			}
			f(w, r, h)
		}
	}
	mux.HandleFunc("GET /hubs/{hub}/clients", withHub(func(w http.ResponseWriter, r *http.Request, h *hub.Hub) {
		writeJSON(w, h.Clients())
	}))
	mux.HandleFunc("GET /hubs/{hub}/channels", withHub(func(w http.ResponseWriter, r *http.Request, h *hub.Hub) {
		writeJSON(w, h.Channels())
	}))
	mux.HandleFunc("GET /hubs/{hub}/stats", withHub(func(w http.ResponseWriter, r *http.Request, h *hub.Hub) {
		writeJSON(w, adminStats{Hub: h.Name(), Node: h.Node(), Stats: h.Stats(), Cluster: h.ClusterStats()})
	}))
	mux.HandleFunc("POST /hubs/{hub}/kick", withHub(func(w http.ResponseWriter, r *http.Request, h *hub.Hub) {
		id := r.URL.Query().Get("id")
		reason := hub.CloseReason(r.URL.Query().Get("reason"))
		if reason == "" {
			reason = hub.ReasonKicked
		}
		switch err := h.Kick(id, reason); {
		case errors.Is(err, hub.ErrClientNotFound):
			http.Error(w, fmt.Sprintf("no client %q on hub %s", id, h.Name()), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	return mux
}

// adminStats is the answer of /hubs/{hub}/stats.
type adminStats struct {
	Hub     string           `json:"hub"`
	Node    string           `json:"node"`
	Stats   hub.Stats        `json:"stats"`
	Cluster hub.ClusterStats `json:"cluster"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
