package wsredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"

	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The tests need a Redis: WSREDIS_ADDR, default 127.0.0.1:6379 (.ci/run starts one). Without one they
// skip, except under CI, where they fail: a suite that skipped its Redis tests must not pass there.
func redisAddr() string {
	if a := os.Getenv("WSREDIS_ADDR"); a != "" {
		return a
	}
	return DefaultAddr
}

// testClient returns a client of the shared test Redis, closed at the end of the test.
func testClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: redisAddr()})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and Redis at %s does not answer: %v", redisAddr(), err)
		}
		t.Skipf("no Redis at %s (%v); set WSREDIS_ADDR or start redis-server", redisAddr(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testPrefix returns a key and channel prefix of this test alone; its keys are deleted at the end.
func testPrefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "wstest:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Unlink(ctx, iter.Val())
		}
	})
	return prefix
}

// redisServer is a redis-server of one test, on a free port, which the test may stop and start again.
type redisServer struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// startRedis starts a redis-server of the test's own (no persistence), stopped at the end. Without
// the program it skips, except under CI.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and redis-server is not installed")
		}
		t.Skip("redis-server not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &redisServer{t: t, port: ln.Addr().(*net.TCPAddr).Port, dir: t.TempDir()}
	ln.Close()
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server on %s did not answer within 5s:\n%s", s.addr(), log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop kills the server (its data is gone: there is no persistence) and waits for it to exit.
func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// within polls cond every 5 ms until it holds, or fails the test after d saying what it waited for.
func within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func quietLogger() *slog.Logger {
	if os.Getenv("WSREDIS_LOG") != "" {
		return slog.Default()
	}
	return slog.New(slog.DiscardHandler)
}

// TestMain quiets go-redis's own log (a dial error per attempt while a test has Redis stopped) unless
// WSREDIS_LOG is set.
func TestMain(m *testing.M) {
	if os.Getenv("WSREDIS_LOG") == "" {
		redis.SetLogger(discardRedisLog{})
	}
	os.Exit(m.Run())
}

type discardRedisLog struct{}

func (discardRedisLog) Printf(context.Context, string, ...any) {}
