package scenario

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/stub"
)

func TestChurnScenario(t *testing.T) {
	s := stub.StartTest(t)
	res, err := Run(context.Background(), "churn", Options{URL: s.URL(), Rate: 100, Duration: 500 * time.Millisecond,
		Settle: 300 * time.Millisecond, ServerPID: os.Getpid(), Conc: 8, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Churn
	if c == nil || c.Cycles != 50 || c.Failed != 0 || c.FDsReturned == nil || !*c.FDsReturned {
		t.Fatalf("churn: %+v errors %v notes %v", c, res.Errors, res.Notes)
	}
	if c.GoroutinesBefore != nil || !strings.Contains(strings.Join(res.Notes, "\n"), "no -stats-url") {
		t.Error("goroutines should be reported as skipped without -stats-url")
	}
}

func TestSlowScenario(t *testing.T) {
	s := stub.StartTest(t)
	res, err := Run(context.Background(), "slow", Options{URL: s.URL(), N: 100, Msgs: 100, Size: 256, Share: 0.05,
		ServerPID: os.Getpid(), Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sl := res.Slow
	if sl == nil || sl.SlowConns != 5 || sl.BaselineP99Ms == nil || sl.WithSlowP99Ms == nil || sl.ServerRSSPeak == nil {
		t.Fatalf("slow: %+v", sl)
	}
	// The normal subscribers got everything in both phases.
	if res.Deliveries != 100*100 || res.DeliveriesExpected != 100*100 {
		t.Fatalf("deliveries %d of %d", res.Deliveries, res.DeliveriesExpected)
	}
}

func TestCheckTarget(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"ws://127.0.0.1:8080/ws", "ws://localhost:8080/ws", "ws://[::1]:80/", "ws://127.9.9.9/"} {
		if err := CheckTarget(ctx, u, false); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"ws://192.0.2.1/ws", "ws://10.0.0.1:8080/ws", "ws://[2001:db8::1]/"} {
		if err := CheckTarget(ctx, u, false); err == nil {
			t.Errorf("%s accepted", u)
		}
		if err := CheckTarget(ctx, u, true); err != nil {
			t.Errorf("%s with -allow-remote: %v", u, err)
		}
	}
	if src := LoopbackSources(ctx, "ws://127.0.0.1:1/"); len(src) != 253 || src[0].String() != "127.0.0.2" {
		t.Errorf("sources: %d %v", len(src), src[:1])
	}
	if src := LoopbackSources(ctx, "ws://[::1]:1/"); src != nil {
		t.Errorf("IPv6 target got IPv4 sources")
	}
}

func TestParseGoroutines(t *testing.T) {
	for in, want := range map[string]float64{
		`{"goroutines": 12}`:                    12,
		`{"runtime": {"goroutines": 7}}`:        7,
		"# HELP x\ngo_goroutines 42\nother 1\n": 42,
	} {
		if got, err := parseGoroutines([]byte(in)); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := parseGoroutines([]byte(`{"clients": 1}`)); err == nil {
		t.Error("accepted stats without goroutines")
	}
}

func TestTooManyConnectionsForTheProcesses(t *testing.T) {
	_, err := Run(context.Background(), "idle", Options{URL: "ws://127.0.0.1:1/ws", N: 1000, Procs: 1, FDLimit: 500})
	if err == nil || !strings.Contains(err.Error(), "-procs") {
		t.Fatalf("err = %v", err)
	}
}
