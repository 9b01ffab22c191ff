package scenario

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/report"
	"github.com/surge-ws/ws/loadtest/internal/serverproc"
)

// needClusterTools skips without redis-server (fails under CI, which
// installs it) and returns the repository root.
func needClusterTools(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and redis-server is not installed")
		}
		t.Skip("redis-server not installed")
	}
	wd, _ := os.Getwd()
	root, err := serverproc.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestClusterPhases runs the cluster scenario small, in this process (the
// race detector watches the coordinator and the client): three examples/chat
// nodes on a redis-server of the run's own, then three floor processes, and
// checks every count of every phase.
func TestClusterPhases(t *testing.T) {
	root := needClusterTools(t)
	const n = 600
	res, err := RunCluster(context.Background(), Options{
		N: n, Hold: time.Second, Timeout: 10 * time.Second, MaxTime: 3 * time.Minute,
		Sources: LoopbackSources(context.Background(), "ws://127.0.0.1/"),
		// A run this small takes seconds: sample often, so that the timeline
		// has points however fast the machine is (at the default 1 s a fast
		// run sampled twice).
		Cluster: ClusterOptions{Root: root, Servers: 3, Broadcasts: 2, StreamMsgs: 10, StreamRate: 50, ReconnectEvery: 10,
			Sample: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Cluster
	if c == nil || len(c.Targets) != 2 || c.Servers != 3 || c.PerServer != 200 {
		t.Fatalf("cluster: %+v", c)
	}
	for _, tg := range c.Targets {
		t.Run(tg.Name, func(t *testing.T) { checkTarget(t, tg, n) })
	}
}

func checkTarget(t *testing.T, tg *report.ClusterTarget, n int64) {
	if tg.Aborted != "" || len(tg.WorkerFailures) > 0 || len(tg.Errors) > 0 {
		t.Fatalf("aborted %q, workers %v, errors %v, notes %v", tg.Aborted, tg.WorkerFailures, tg.Errors, tg.Notes)
	}
	if r := tg.Ramp; r == nil || r.Subscribed != n || r.Failed != 0 || r.Rate == nil || r.HandshakeP99Ms == nil {
		t.Fatalf("ramp: %+v", r)
	}
	if m := tg.Memory; m == nil || m.Conns != n || m.ServerRSS <= 0 || m.ClientRSS <= 0 {
		t.Fatalf("memory: %+v", m)
	}
	for name, f := range map[string]*report.FanPhase{"broadcast": tg.Broadcast, "stream": tg.Stream} {
		if f == nil || f.Subscribers != n || f.Deliveries != f.Expected || f.Expected != n*int64(f.Messages) ||
			f.Incomplete != 0 || f.OutOfOrder != 0 || f.DeliveryP99Ms == nil || f.PerMessageMaxMs == nil {
			t.Errorf("%s: %+v", name, f)
		}
	}
	if len(tg.Series) < 3 || len(tg.Phases) < 4 {
		t.Errorf("timeline: %d points, phases %+v", len(tg.Series), tg.Phases)
	}
	if tg.Name == "floor" {
		if tg.Idle != nil || tg.Reconnect != nil || tg.Shutdown != nil || tg.Presence != nil {
			t.Errorf("floor ran a hub-only phase: %+v", tg)
		}
		return
	}
	if p := tg.Presence; p == nil || !p.Exact || p.Clients != n || p.Room != n || p.Nodes != 3 || p.LocalSum != n {
		t.Errorf("presence at full count: %+v", p)
	}
	if i := tg.Idle; i == nil || i.OpenAtEnd != n || i.Dropped != 0 || i.PingsPerS == nil {
		t.Errorf("idle: %+v", i)
	}
	if m := tg.Memory; m.Redis == nil || *m.Redis <= 0 {
		t.Errorf("redis memory: %+v", m.Redis)
	}
	r := tg.Reconnect
	if r == nil || r.Picked != n/10 || r.Subscribed != n/10 || r.Failed != 0 {
		t.Fatalf("reconnect: %+v", r)
	}
	// The publisher is the one client that is not in the room.
	if p := r.Presence; p == nil || !p.Exact || p.Clients != n+1 || p.Room != n || p.LocalSum != n+1 {
		t.Errorf("presence after the reconnect: %+v", p)
	}
	s := tg.Shutdown
	if s == nil || s.CleanExits != 3 || s.Killed != 0 || s.StillOpen != 0 || s.Closes["closed by the server or network: 1001 server shutdown"] != n {
		t.Errorf("shutdown: %+v", s)
	}
	if s != nil && (s.RedisKeysLeft == nil || *s.RedisKeysLeft != 0) {
		t.Errorf("redis keys left: %v", s.RedisKeysLeft)
	}
}

// The floor runs at Go's default collector pace: of -server-env it takes
// only GOMAXPROCS (a GOGC meant for the hub slowed it and flattered the
// connect-rate ratio of two million runs).
func TestFloorTakesOnlyGOMAXPROCS(t *testing.T) {
	co := ClusterOptions{ServerEnv: []string{"GOMAXPROCS=1", "GOGC=40", "GOMEMLIMIT=66MiB"}}
	if got := co.floorEnv(); len(got) != 1 || got[0] != "GOMAXPROCS=1" {
		t.Fatalf("floor environment %q, want [GOMAXPROCS=1]", got)
	}
	if got := co.hubEnv(); !slices.Contains(got, "GOGC=40") || !slices.Contains(got, "GOMEMLIMIT=66MiB") {
		t.Fatalf("hub environment %q lacks -server-env", got)
	}
}
