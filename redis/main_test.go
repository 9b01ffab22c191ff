package wsredis

import (
	"context"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/surge-ws/ws/internal/redistest"
)

// The tests need a Redis (internal/redistest): the shared one, WSREDIS_ADDR, default 127.0.0.1:6379
// (.ci/run starts one), or a redis-server of a test's own. Without one they skip, except under CI.
func redisAddr() string { return redistest.Addr() }

// testClient returns a client of the shared test Redis, closed at the end of the test.
func testClient(t testing.TB) *redis.Client { return redistest.Client(t) }

// testPrefix returns a key and channel prefix of this test alone; its keys are deleted at the end.
func testPrefix(t testing.TB, c *redis.Client) string { return redistest.Prefix(t, c) }

// redisServer is a redis-server of one test, which the test may stop and start again.
type redisServer struct{ *redistest.Server }

func startRedis(t testing.TB) *redisServer { return &redisServer{redistest.StartServer(t)} }
func (s *redisServer) addr() string        { return s.Addr() }
func (s *redisServer) start()              { s.Start() }
func (s *redisServer) stop()               { s.Stop() }
func (s *redisServer) portString() string  { _, p, _ := net.SplitHostPort(s.Addr()); return p }

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
