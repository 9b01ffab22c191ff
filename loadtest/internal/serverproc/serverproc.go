// Package serverproc builds a server program of the repository and runs it
// as a child process on a free loopback port: how compare and abuse get a
// freshly started server for every run, whose /proc figures are its own.
package serverproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNoPackage means a server's package is not in the tree (yet).
var ErrNoPackage = errors.New("package does not exist")

// Build compiles pkg (a path relative to the repository root, such as
// "./examples/chat") into dir/name and returns the binary's path.
func Build(ctx context.Context, root, dir, name, pkg string) (string, error) {
	if _, err := os.Stat(filepath.Join(root, pkg)); err != nil {
		return "", fmt.Errorf("%s: %s %w", name, pkg, ErrNoPackage)
	}
	out := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", name, err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// Spec says how to start a server.
type Spec struct {
	Bin  string
	Args []string // after -addr (and -stats-addr)
	// Log receives the server's stdout and stderr.
	Log string
	// Stats gives the server -stats-addr on a second free loopback port
	// (examples/chat and loadtest/peers/hostile serve their goroutine count
	// there).
	Stats bool
	// Env is added to this process's environment (e.g. "GOGC=50").
	Env []string
	// TimerSlack, when positive, is the timer slack the server starts with
	// (prctl PR_SET_TIMERSLACK; 0 keeps the load generator's, 50 µs by
	// default). It is set on the thread that forks the server, and Linux
	// passes it through fork and exec to the server's first thread and from
	// there to every thread the Go runtime makes, the runtime's sysmon
	// included: no setting inside the server could reach sysmon, whose thread
	// exists before any code of the program runs (docs/scaling.md, "Process
	// settings").
	TimerSlack time.Duration
}

// Process is one running server.
type Process struct {
	Cmd       *exec.Cmd
	Addr      string // host:port of -addr
	StatsAddr string // host:port of -stats-addr, "" without Spec.Stats
	Log       string
	done      chan struct{}
	err       error // set before done is closed
}

// Start runs spec.Bin -addr 127.0.0.1:<free port> [-stats-addr ...] args...
// and waits (up to 15 s) until it accepts on both ports.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	addr, err := FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"-addr", addr}
	var stats string
	if spec.Stats {
		if stats, err = FreeLoopbackAddr(); err != nil {
			return nil, err
		}
		args = append(args, "-stats-addr", stats)
	}
	logf, err := os.Create(spec.Log)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(spec.Bin, append(args, spec.Args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if len(spec.Env) > 0 {
		cmd.Env = append(os.Environ(), spec.Env...)
	}
	// A process group of its own (a terminal's ^C reaches the load
	// generator, which stops its servers in order), and SIGKILL should the
	// load generator die without stopping it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startWithTimerSlack(cmd, spec.TimerSlack); err != nil {
		return nil, err
	}
	p := &Process{Cmd: cmd, Addr: addr, StatsAddr: stats, Log: spec.Log, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(15 * time.Second)
	for _, a := range []string{addr, stats} {
		for a != "" {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-p.done:
				return nil, fmt.Errorf("%s exited before accepting on %s: %v (log: %s)", spec.Bin, a, p.err, spec.Log)
			case <-ctx.Done():
				p.Stop()
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				p.Stop()
				return nil, fmt.Errorf("%s did not accept on %s within 15s (log: %s)", spec.Bin, a, spec.Log)
			}
		}
	}
	return p, nil
}

// Pid is the server's process id.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Exited reports whether the server has exited, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM and waits up to 5 s for the exit, then sends SIGKILL.
// It reports whether the server stopped by itself (a server whose event
// loop froze may not).
func (p *Process) Stop() (clean bool) { return p.StopWithin(5 * time.Second) }

// StopWithin is Stop with another bound on the wait before SIGKILL.
func (p *Process) StopWithin(d time.Duration) (clean bool) {
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		p.Signal(syscall.SIGKILL)
		<-p.done
		return false
	}
}

// Signal sends sig to the server's process group (the server and anything
// it started).
func (p *Process) Signal(sig syscall.Signal) {
	if err := syscall.Kill(-p.Cmd.Process.Pid, sig); err != nil {
		_ = p.Cmd.Process.Signal(sig)
	}
}

// Done is closed when the server has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// FreeLoopbackAddr returns a 127.0.0.1 address whose port was free a moment ago.
func FreeLoopbackAddr() (string, error) {
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

// startWithTimerSlack starts cmd from a thread whose timer slack is slack
// (when positive), then gives the thread its own back: the child inherits
// the slack of the thread that forks it.
func startWithTimerSlack(cmd *exec.Cmd, slack time.Duration) error {
	if slack <= 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err == nil {
		err = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack.Nanoseconds()), 0, 0, 0)
	}
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setting a timer slack of %v: %w", slack, err)
	}
	err = cmd.Start()
	if unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0) == nil {
		runtime.UnlockOSThread()
	} // else the thread stays locked to this goroutine and ends with it
	return err
}
