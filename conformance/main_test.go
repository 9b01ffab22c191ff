package conformance

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// maxMessage is the -max-message of the echo servers: room for section 9's
// scaled sizes (1 MiB) and for the unscaled 4 MiB message of
// TestEchoMessageOverSendQueueBytes.
const maxMessage = 8 << 20

// echoProc is one running examples/echo process.
type echoProc struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	log  []string // its stderr, for failure messages
}

var (
	buildOnce sync.Once
	buildDir  string
	echoBin   string
	buildErr  error

	procMu sync.Mutex
	procs  = map[string]*echoProc{} // by flag set
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	procMu.Lock()
	for _, p := range procs {
		p.stop()
	}
	procMu.Unlock()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// goTool finds the go command that runs these tests.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go" // where .ci/run puts Go on PATH from
}

// buildEcho compiles ./examples/echo once per test process.
func buildEcho() (string, error) {
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "conformance-echo-")
		if buildErr != nil {
			return
		}
		echoBin = filepath.Join(buildDir, "echo")
		cmd := exec.Command(goTool(), "build", "-o", echoBin, "./examples/echo")
		cmd.Dir = ".." // the module root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./examples/echo: %v\n%s", err, out)
		}
	})
	return echoBin, buildErr
}

var listenLine = regexp.MustCompile(`listening on (\S+)`)

// echoServer returns the address of an examples/echo process started with
// -max-message maxMessage and the extra flags, starting it on first use.
func echoServer(t testing.TB, extra ...string) string {
	t.Helper()
	key := fmt.Sprint(extra)
	procMu.Lock()
	defer procMu.Unlock()
	if p := procs[key]; p != nil {
		select {
		case <-p.done:
			t.Fatalf("the echo server %v has exited:\n%s", extra, p.output())
		default:
		}
		return p.addr
	}
	bin, err := buildEcho()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-addr", "127.0.0.1:0", "-max-message", fmt.Sprint(maxMessage)}, extra...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphan if the test binary dies
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &echoProc{cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log = append(p.log, line)
			p.mu.Unlock()
			if m := listenLine.FindStringSubmatch(line); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.addr = <-addrc:
	case <-p.done:
		t.Fatalf("the echo server %v exited at start:\n%s", extra, p.output())
	case <-time.After(10 * time.Second):
		p.stop()
		t.Fatalf("the echo server %v did not report its address:\n%s", extra, p.output())
	}
	procs[key] = p
	return p.addr
}

func (p *echoProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := ""
	for _, l := range p.log {
		s += l + "\n"
	}
	return s
}

// stop kills the process (this test binary started it) and waits for it.
func (p *echoProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
