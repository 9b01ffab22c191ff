package scenario

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/serverproc"
)

// redisServer is a redis-server of the run's own: a fresh one shows the
// cluster's Redis memory exactly and shares nothing with other users of the
// machine's Redis.
type redisServer struct {
	cmd  *exec.Cmd
	addr string
	nice int // its scheduling priority
	done chan struct{}
}

// ErrNoRedisServer means redis-server is not installed.
var ErrNoRedisServer = errors.New("redis-server is not installed (pass -redis ADDR to use a running Redis)")

// startRedis starts redis-server on a free loopback port, its files in dir,
// no persistence, and waits until it answers PING.
func startRedis(ctx context.Context, dir string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNoRedisServer
	}
	addr, err := serverproc.FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	s := &redisServer{addr: addr, done: make(chan struct{})}
	// maxclients: every node holds a pool and two subscriptions.
	s.cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"), "--maxclients", "20000")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	// Redis stands for a server of its own: on one machine with a hundred
	// busy processes it would otherwise wait its turn for seconds, and the
	// nodes' heartbeats with it (their NodeTTL is 5 s). It uses little CPU;
	// priority only makes it prompt. Without the privilege it stays at 0.
	s.nice = -10
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, s.cmd.Process.Pid, s.nice); err != nil {
		s.nice = 0
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v, err := redisDo(addr, "PING"); err == nil && v == "PONG" {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("redis-server exited at start (log: %s)", filepath.Join(dir, "redis.log"))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("redis-server did not answer within 10s")
		}
	}
}

func (s *redisServer) pid() int { return s.cmd.Process.Pid }

// stop ends the server (SIGTERM, SIGKILL after 5 s).
func (s *redisServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// redisDo sends one command on a connection of its own and returns the
// reply: a string, an int64, a []any, nil, or an error for "-ERR ...".
func redisDo(addr string, args ...string) (any, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	return readRESP(bufio.NewReader(c))
}

func readRESP(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, errors.New("redis: empty reply line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, errors.New("redis: " + line[1:])
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readRESP(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("redis: unexpected reply %q", line)
}

// redisInfo reads one INFO section as key -> value.
func redisInfo(addr, section string) (map[string]string, error) {
	v, err := redisDo(addr, "INFO", section)
	if err != nil {
		return nil, err
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("redis: INFO answered %T", v)
	}
	out := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, val, ok := strings.Cut(strings.TrimSpace(l), ":"); ok {
			out[k] = val
		}
	}
	return out, nil
}

// redisUsedMemory is INFO memory's used_memory, in bytes.
func redisUsedMemory(addr string) (int64, error) {
	m, err := redisInfo(addr, "memory")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(m["used_memory"], 10, 64)
}

// redisCPU is the server's CPU time so far (INFO cpu: used_cpu_sys +
// used_cpu_user), for a Redis that is not a child of ours.
func redisCPU(addr string) (time.Duration, error) {
	m, err := redisInfo(addr, "cpu")
	if err != nil {
		return 0, err
	}
	sys, err1 := strconv.ParseFloat(m["used_cpu_sys"], 64)
	user, err2 := strconv.ParseFloat(m["used_cpu_user"], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("redis: INFO cpu without used_cpu_sys/user")
	}
	return time.Duration((sys + user) * float64(time.Second)), nil
}

// redisCountKeys counts the keys matching pattern (SCAN, so a Redis shared
// with others is not blocked).
func redisCountKeys(addr, pattern string) (int64, error) {
	var n int64
	cursor := "0"
	for range 100000 {
		v, err := redisDo(addr, "SCAN", cursor, "MATCH", pattern, "COUNT", "1000")
		if err != nil {
			return n, err
		}
		arr, ok := v.([]any)
		if !ok || len(arr) != 2 {
			return n, fmt.Errorf("redis: SCAN answered %v", v)
		}
		keys, _ := arr[1].([]any)
		n += int64(len(keys))
		if cursor, _ = arr[0].(string); cursor == "0" {
			return n, nil
		}
	}
	return n, errors.New("redis: SCAN did not finish")
}
