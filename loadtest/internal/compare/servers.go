package compare

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
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
	"surge":        {Name: "surge", Pkg: "./examples/chat", Args: []string{"-send-buffer", "256"}, Note: "Surge hub (examples/chat), handlers on mailbox workers"},
	"surge-inline": {Name: "surge-inline", Pkg: "./examples/chat", Args: []string{"-send-buffer", "256", "-inline-handlers"}, Note: "Surge hub, handlers on the input goroutine (Config.InlineHandlers)"},
	"gorilla":      {Name: "gorilla", Pkg: "./loadtest/peers/gorilla", Note: "gorilla/websocket, read + write goroutine per connection"},
	"nbio":         {Name: "nbio", Pkg: "./loadtest/peers/nbio", Note: "lesismal/nbio event loop"},
	"stub":         {Name: "stub", Pkg: "./loadtest/peers/stub", Note: "loadtest's own stub hub on conn/ (no hub/)"},
	"floor":        {Name: "floor", Pkg: "./loadtest/peers/floor", Note: "raw epoll echo, one goroutine, no library: the floor (echo scenario only)"},
}

// ErrNoPackage means a peer's package is not in the tree (yet).
var ErrNoPackage = errors.New("package does not exist")

// build compiles peer into dir and returns the binary's path.
func build(ctx context.Context, root, dir string, p Peer) (string, error) {
	if _, err := os.Stat(filepath.Join(root, p.Pkg)); err != nil {
		return "", fmt.Errorf("%s: %s %w", p.Name, p.Pkg, ErrNoPackage)
	}
	out := filepath.Join(dir, p.Name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, p.Pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", p.Name, err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// server is one running server process.
type server struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

// start runs bin -addr 127.0.0.1:<free port>, its output going to logPath,
// and waits until it accepts.
func start(ctx context.Context, bin string, args []string, logPath string) (*server, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, addr: addr, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("%s exited before accepting: %v (log: %s)", bin, err, logPath)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s did not accept on %s within 15s", bin, addr)
		}
	}
}

// stop sends SIGTERM, then SIGKILL after 5 s.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// RepoRoot finds the repository root: the nearest directory upwards from dir
// whose go.mod declares module github.com/surge-ws/ws.
func RepoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			if strings.Contains(string(b), "module github.com/surge-ws/ws\n") {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", errors.New("not inside the surge-ws/ws repository: pass -repo")
		}
	}
}
