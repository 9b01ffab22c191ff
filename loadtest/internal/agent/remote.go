package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/client"
)

// Remote is a worker process.
type Remote struct {
	idx     int
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	encMu   sync.Mutex
	enc     *json.Encoder
	onEvent EventFunc
	stderr  tail

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan reply

	counters atomic.Pointer[client.Counters]
	dead     chan struct{}
	deadErr  error // set before dead is closed
	exited   chan struct{}
}

// StartRemote starts a worker (argv[0] with argv[1:], e.g. this binary and
// "-worker"), waits for its hello and sends it the setup step.
func StartRemote(ctx context.Context, idx int, argv []string, cfg client.Config, onEvent EventFunc) (*Remote, error) {
	if len(argv) == 0 {
		return nil, errors.New("agent: no worker command")
	}
	r := &Remote{idx: idx, onEvent: onEvent, pending: map[int64]chan reply{},
		dead: make(chan struct{}), exited: make(chan struct{})}
	r.cmd = exec.Command(argv[0], argv[1:]...)
	r.cmd.Stderr = &r.stderr
	var err error
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("agent: starting worker %d: %w", idx, err)
	}
	r.name = fmt.Sprintf("worker %d (pid %d)", idx, r.cmd.Process.Pid)
	r.enc = json.NewEncoder(r.stdin)
	hello := make(chan Hello, 1)
	go r.read(stdout, hello)

	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-hello:
	case <-r.dead:
		return nil, r.deadErr
	case <-t.C:
		r.kill()
		return nil, fmt.Errorf("agent: %s sent no hello within 10s", r.name)
	case <-ctx.Done():
		r.kill()
		return nil, ctx.Err()
	}
	if _, err := r.Do(ctx, Cmd{Op: OpSetup, Setup: &cfg}); err != nil {
		r.kill()
		return nil, err
	}
	return r, nil
}

func (r *Remote) Name() string { return r.name }

func (r *Remote) Dead() <-chan struct{} { return r.dead }

// Pid is the worker's process id.
func (r *Remote) Pid() int { return r.cmd.Process.Pid }

func (r *Remote) Counters() client.Counters {
	if c := r.counters.Load(); c != nil {
		return *c
	}
	return client.Counters{}
}

// Do sends cmd and waits for the reply, the worker's death or ctx.
func (r *Remote) Do(ctx context.Context, cmd Cmd) (Report, error) {
	ch := make(chan reply, 1)
	r.mu.Lock()
	r.nextID++
	cmd.ID = r.nextID
	r.pending[cmd.ID] = ch
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.pending, cmd.ID)
		r.mu.Unlock()
	}()
	r.encMu.Lock()
	err := r.enc.Encode(cmd)
	r.encMu.Unlock()
	if err != nil {
		select {
		case <-r.dead:
			return Report{}, r.deadErr
		case <-time.After(2 * time.Second):
			return Report{}, fmt.Errorf("agent: %s: %w", r.name, err)
		}
	}
	select {
	case rp := <-ch:
		var rep Report
		if rp.Report != nil {
			rep = *rp.Report
			c := rep.Counters
			r.counters.Store(&c)
		}
		if rp.Err != "" {
			return rep, fmt.Errorf("%s: %s", r.name, rp.Err)
		}
		return rep, nil
	case <-r.dead:
		return Report{}, r.deadErr
	case <-ctx.Done():
		return Report{}, ctx.Err()
	}
}

// read dispatches the worker's lines until its stdout closes, then records
// how it died.
func (r *Remote) read(stdout io.Reader, hello chan<- Hello) {
	dec := json.NewDecoder(bufio.NewReaderSize(stdout, 64<<10))
	var why error
	for {
		var ln line
		if err := dec.Decode(&ln); err != nil {
			if !errors.Is(err, io.EOF) {
				why = fmt.Errorf("unreadable output: %w", err)
			}
			break
		}
		switch {
		case ln.Hello != nil:
			select {
			case hello <- *ln.Hello:
			default:
			}
		case ln.Reply != nil:
			r.mu.Lock()
			ch := r.pending[ln.Reply.ID]
			r.mu.Unlock()
			if ch != nil {
				ch <- *ln.Reply
			}
		case ln.Event != nil:
			if ln.Event.Counters != nil {
				r.counters.Store(ln.Event.Counters)
			}
			if r.onEvent != nil {
				r.onEvent(r.idx, *ln.Event)
			}
		}
	}
	// Drain so the worker never blocks writing to a full pipe while exiting.
	_, _ = io.Copy(io.Discard, stdout)
	werr := r.cmd.Wait()
	close(r.exited)
	status := "exited"
	if werr != nil {
		status = werr.Error()
	} else if why == nil {
		status = "exit status 0"
	}
	msg := fmt.Sprintf("%s died: %s", r.name, status)
	if why != nil {
		msg += " (" + why.Error() + ")"
	}
	if t := strings.TrimSpace(r.stderr.String()); t != "" {
		msg += "; stderr: " + t
	}
	r.deadErr = errors.New(msg)
	close(r.dead)
}

// Close asks the worker to finish (EOF on its stdin: it closes its
// connections and exits) and kills it if it has not exited in time.
func (r *Remote) Close() error {
	_ = r.stdin.Close()
	select {
	case <-r.exited:
	case <-time.After(15 * time.Second):
		r.kill()
		<-r.exited
	}
	return nil
}

func (r *Remote) kill() {
	if r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(os.Kill)
	}
}

// tail keeps the last bytes a worker wrote to stderr, for its obituary.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 2048

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
