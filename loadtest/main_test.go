package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/internal/leakcheck"
	"github.com/surge-ws/ws/loadtest/internal/agent"
	"github.com/surge-ws/ws/loadtest/internal/stub"
)

// TestMain lets the test binary serve as the worker processes of the runs
// below, as the real binary does: a run with -procs 2 re-executes it.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == workerFlag {
		if err := agent.Serve(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	leakcheck.Main(m, 5*time.Second, leakcheck.Library...)
}

// TestEndToEnd runs short idle, fanout (one at a time, in this process, and
// at a fixed rate over two worker processes) and echo runs against the stub
// hub, and checks that every message was delivered and counted and that the
// JSON carries every documented field.
func TestEndToEnd(t *testing.T) {
	srv := stub.StartTest(t)
	const n = 300
	pid := strconv.Itoa(os.Getpid()) // the stub runs in this process
	common := []string{"-url", srv.URL(), "-n", strconv.Itoa(n), "-server-pid", pid, "-json", "-timeout", "5s", "-max-time", "30s"}
	worker := []string{os.Args[0], workerFlag}

	runs := []struct {
		name  string
		args  []string
		check func(t *testing.T, r map[string]any)
	}{
		{"idle", []string{"idle", "-hold", "200ms"}, func(t *testing.T, r map[string]any) {
			want(t, r, "subscribed", n)
			present(t, r, "server_rss_per_conn", "client_rss_per_conn", "mem_per_conn_total", "server_cpu_s")
		}},
		{"fanout one at a time", []string{"fanout", "-msgs", "30"}, func(t *testing.T, r map[string]any) {
			want(t, r, "deliveries", n*30)
			want(t, r, "deliveries_expected", n*30)
			present(t, r, "server_cpu_per_delivery_us", "server_user_cpu_per_delivery_us", "client_cpu_per_delivery_us", "delivery_p99_ms")
		}},
		{"fanout at a rate over two workers", []string{"fanout", "-msgs", "40", "-rate", "400", "-procs", "2"}, func(t *testing.T, r map[string]any) {
			want(t, r, "procs", 2)
			want(t, r, "deliveries", n*40)
			want(t, r, "deliveries_expected", n*40)
		}},
		{"echo", []string{"echo", "-msgs", "20"}, func(t *testing.T, r map[string]any) {
			want(t, r, "round_trips", n*20)
			want(t, r, "deliveries", n*20)
			present(t, r, "server_cpu_per_round_trip_us", "round_trips_per_s")
		}},
	}
	for _, tc := range runs {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append(append([]string{}, tc.args...), common...)
			if code := run(context.Background(), args, &stdout, &stderr, worker); code != 0 {
				t.Fatalf("exit %d\nstderr: %s\nstdout: %s", code, stderr.String(), stdout.String())
			}
			var r map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
				t.Fatalf("%v\n%s", err, stdout.String())
			}
			want(t, r, "connected", n)
			want(t, r, "failed", 0)
			want(t, r, "dropped", 0)
			want(t, r, "out_of_order", 0)
			want(t, r, "unexpected", 0)
			present(t, r, "p50_ms", "p99_ms", "handshake_p99_ms")
			for _, k := range []string{"connected", "failed", "deliveries", "deliveries_expected", "server_rss_per_conn",
				"client_rss_per_conn", "server_cpu_per_delivery_us", "server_user_cpu_per_delivery_us", "p50_ms", "p99_ms"} {
				if _, ok := r[k]; !ok {
					t.Errorf("JSON lacks %q", k)
				}
			}
			if e, ok := r["errors"]; ok {
				t.Errorf("errors: %v", e)
			}
			if f, ok := r["worker_failures"]; ok {
				t.Errorf("worker failures: %v", f)
			}
			tc.check(t, r)
		})
	}
	// Every connection was closed again.
	deadline := time.Now().Add(5 * time.Second)
	for srv.Conns() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if c := srv.Conns(); c != 0 {
		t.Errorf("%d connections left open on the server", c)
	}
}

// TestRefusesRemoteTargets checks that no load goes off this machine without
// -allow-remote: the run stops before dialing.
func TestRefusesRemoteTargets(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"idle", "-url", "ws://192.0.2.1:8080/ws", "-n", "1"}, &stdout, &stderr, nil)
	if code == 0 || !strings.Contains(stderr.String(), "loopback") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &stdout, &stderr, nil); code != 0 {
		t.Fatalf("-h exit %d", code)
	}
	for _, s := range []string{"idle", "fanout", "echo", "churn", "slow", "compare", "-server-pid", "-procs", "-channel", "-event"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("help lacks %q", s)
		}
	}
	if code := run(context.Background(), []string{"nosuch"}, &stdout, &stderr, nil); code != 2 {
		t.Errorf("unknown scenario: exit %d", code)
	}
}

func want(t *testing.T, r map[string]any, key string, v float64) {
	t.Helper()
	got, ok := r[key].(float64)
	if !ok || got != v {
		t.Errorf("%s = %v, want %v", key, r[key], v)
	}
}

func present(t *testing.T, r map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if v, ok := r[k]; !ok || v == nil {
			t.Errorf("%s not measured (%v)", k, v)
		}
	}
}
