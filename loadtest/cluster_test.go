package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/surge-ws/ws/loadtest/internal/report"
)

// clusterN is the size of the cluster run in the test suite: more than one
// client process can hold (so worker processes carry it), small enough for
// CI. docs/scaling.md has the full-size run.
const clusterN = 30000

// TestClusterScenario runs `loadtest cluster` as a user would, at the size
// above: three examples/chat nodes on a redis-server of the run's own, then
// three floor processes, with the connections in worker processes (this
// package built without the race detector, so the clients' speed is not the
// detector's), and checks the counts of every phase, not the speed.
func TestClusterScenario(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and redis-server is not installed")
		}
		t.Skip("redis-server not installed")
	}
	bin := filepath.Join(t.TempDir(), "loadtest")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	args := []string{"cluster", "-n", strconv.Itoa(clusterN), "-servers", "3", "-hold", "2s", "-broadcasts", "2",
		"-stream-msgs", "5", "-stream-rate", "10", "-server-timer-slack", "1ms", "-json", "-quiet", "-max-time", "3m"}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, []string{bin, workerFlag})
	var res report.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("exit %d, %v\nstderr: %s\nstdout: %.2000s", code, err, stderr.String(), stdout.String())
	}
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, stderr.String())
	}
	c := res.Cluster
	if c == nil || len(c.Targets) != 2 || res.Procs < 2 {
		t.Fatalf("procs %d, cluster %+v", res.Procs, c)
	}
	const n = clusterN
	for _, tg := range c.Targets {
		if tg.Aborted != "" || len(tg.WorkerFailures) > 0 || len(tg.Errors) > 0 {
			t.Fatalf("%s: aborted %q, workers %v, errors %v", tg.Name, tg.Aborted, tg.WorkerFailures, tg.Errors)
		}
		if tg.ServerTimerSlackNs != 1_000_000 { // both targets: it is a setting of the deployment
			t.Errorf("%s: servers started with a timer slack of %d ns, want 1000000", tg.Name, tg.ServerTimerSlackNs)
		}
		if r := tg.Ramp; r == nil || r.Subscribed != n || r.Failed != 0 {
			t.Errorf("%s ramp: %+v", tg.Name, r)
		}
		for _, f := range []*report.FanPhase{tg.Broadcast, tg.Stream} {
			if f == nil || f.Subscribers != n || f.Deliveries != f.Expected || f.Expected != n*int64(f.Messages) {
				t.Errorf("%s fan-out: %+v", tg.Name, f)
			}
		}
		if tg.Name != "surge" {
			continue
		}
		if p := tg.Presence; p == nil || !p.Exact || p.Clients != n || p.LocalSum != n {
			t.Errorf("presence at full count: %+v", p)
		}
		if i := tg.Idle; i == nil || i.OpenAtEnd != n || i.Dropped != 0 {
			t.Errorf("idle: %+v", i)
		}
		if r := tg.Reconnect; r == nil || r.Subscribed != n/100 || r.Failed != 0 || r.Presence == nil || !r.Presence.Exact {
			t.Errorf("reconnect: %+v (presence %+v)", r, r.Presence)
		}
		if s := tg.Shutdown; s == nil || s.CleanExits != 3 || s.StillOpen != 0 || s.RedisKeysLeft == nil || *s.RedisKeysLeft != 0 {
			t.Errorf("shutdown: %+v", s)
		}
	}
}
