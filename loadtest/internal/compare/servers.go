package compare

import (
	"context"

	"github.com/surge-ws/ws/loadtest/internal/serverproc"
)

// Peer is a server to compare: a package to build and how to name it.
type Peer struct {
	Name string
	Pkg  string   // package path relative to the repository root
	Args []string // flags after -addr
	Note string
}

// KnownPeers are the servers compare can run, by name.
var KnownPeers = map[string]Peer{
	// Every server gets a 256-message send queue per connection, gorilla's.
	"surge":        {Name: "surge", Pkg: "./examples/chat", Args: []string{"-send-buffer", "256", "-message-rate", "-1"}, Note: "Surge hub (examples/chat), handlers on mailbox workers"},
	"surge-inline": {Name: "surge-inline", Pkg: "./examples/chat", Args: []string{"-send-buffer", "256", "-message-rate", "-1", "-inline-handlers"}, Note: "Surge hub, handlers on the input goroutine (Config.InlineHandlers)"},
	"gorilla":      {Name: "gorilla", Pkg: "./loadtest/peers/gorilla", Note: "gorilla/websocket, read + write goroutine per connection"},
	"nbio":         {Name: "nbio", Pkg: "./loadtest/peers/nbio", Note: "lesismal/nbio event loop"},
	"stub":         {Name: "stub", Pkg: "./loadtest/peers/stub", Note: "loadtest's own stub hub on conn/ (no hub/)"},
	"floor":        {Name: "floor", Pkg: "./loadtest/peers/floor", Note: "raw epoll loop, one goroutine, no library, no pings: the floor"},
}

// ErrNoPackage means a peer's package is not in the tree (yet).
var ErrNoPackage = serverproc.ErrNoPackage

// RepoRoot finds the repository root (see serverproc.RepoRoot).
func RepoRoot(dir string) (string, error) { return serverproc.RepoRoot(dir) }

// build compiles peer into dir and returns the binary's path.
func build(ctx context.Context, root, dir string, p Peer) (string, error) {
	return serverproc.Build(ctx, root, dir, p.Name, p.Pkg)
}

// start runs bin -addr 127.0.0.1:<free port>, its output going to logPath,
// and waits until it accepts.
func start(ctx context.Context, bin string, args []string, logPath string) (*serverproc.Process, error) {
	return serverproc.Start(ctx, serverproc.Spec{Bin: bin, Args: args, Log: logPath})
}
