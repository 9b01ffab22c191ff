package client

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/internal/leakcheck"
	"github.com/surge-ws/ws/loadtest/internal/stub"
)

// TestMain lets the test binary run a stub hub in a process of its own, for
// measurements that must not count the server's memory as the client's.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-stub-server" {
		s, err := stub.Start("127.0.0.1:0")
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(s.URL())
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the test closes stdin
		os.Exit(0)
	}
	leakcheck.Main(m, 5*time.Second, leakcheck.Library...)
}

// startStubProcess runs the stub hub in a child process and returns its URL.
func startStubProcess(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-stub-server")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ws://") {
		t.Fatalf("stub process: %q %v", line, err)
	}
	return strings.TrimSpace(line)
}

func testConfig(url string) Config {
	return Config{URL: url, Channel: "room", Event: "chat.message", EchoEvent: "echo", Timeout: 5 * time.Second}
}

func TestEchoCountsEveryRoundTrip(t *testing.T) {
	s := stub.StartTest(t)
	cl := New(testConfig(s.URL()))
	ctx := context.Background()
	if rep, err := cl.Connect(ctx, ConnectSpec{N: 50}); err != nil || rep.Opened != 50 {
		t.Fatalf("connect: %+v %v", rep, err)
	}
	rep, err := cl.Echo(ctx, EchoSpec{PerConn: 10, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RoundTrips != 500 || rep.Sent != 500 || rep.Errors != 0 || rep.Mismatched != 0 || rep.Unfinished != 0 {
		t.Fatalf("echo: %+v", rep)
	}
	// A server that refuses the event: every reply is an error, counted.
	cl.cfg.EchoEvent = "nope"
	rep, _ = cl.Echo(ctx, EchoSpec{PerConn: 2})
	if rep.Errors != 100 || cl.Errors()["echo refused: not_found: handler nope is not registered"] != 100 {
		t.Fatalf("refused echo: %+v %v", rep, cl.Errors())
	}
	if c := cl.CloseAll(ctx); c.Remaining != 0 {
		t.Fatalf("close: %+v", c)
	}
}

func TestChurnReturnsEverything(t *testing.T) {
	s := stub.StartTest(t)
	cl := New(testConfig(s.URL()))
	rep, err := cl.Churn(context.Background(), ChurnSpec{Rate: 100, Duration: 500 * time.Millisecond, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cycles != 50 || rep.Failed != 0 {
		t.Fatalf("churn: %+v errors %v", rep, cl.Errors())
	}
	deadline := time.Now().Add(3 * time.Second)
	for s.Conns() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Conns() != 0 || s.Subscribers("room") != 0 || cl.Open() != 0 {
		t.Fatalf("left: server conns %d subscribers %d client open %d", s.Conns(), s.Subscribers("room"), cl.Open())
	}
}

func TestSlowSubscribersAreSubscribedAndProbed(t *testing.T) {
	s := stub.StartTest(t)
	cl := New(testConfig(s.URL()))
	rep, err := cl.ConnectSlow(context.Background(), SlowSpec{N: 5, RcvBuf: 4096})
	if err != nil || rep.Opened != 5 {
		t.Fatalf("slow: %+v %v %v", rep, err, cl.Errors())
	}
	if n := s.Subscribers("room"); n != 5 {
		t.Fatalf("%d subscribed", n)
	}
	// The server closing them is what the probe must see. They never read
	// its close frame, so shutdown drops them after its grace period.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_ = s.Close(ctx)
	if p := cl.ProbeSlow(2 * time.Second); p.Conns != 5 || p.ClosedByServer != 5 {
		t.Fatalf("probe: %+v", p)
	}
}

func TestDialFailuresAreCounted(t *testing.T) {
	cl := New(Config{URL: "ws://127.0.0.1:1/ws", Timeout: time.Second})
	rep, _ := cl.Connect(context.Background(), ConnectSpec{N: 3})
	if rep.Opened != 0 || rep.Failed != 3 || len(cl.Errors()) != 1 {
		t.Fatalf("%+v %v", rep, cl.Errors())
	}
}

// TestReconnectComesBackOnTheSameServer spreads connections over two stub
// hubs, makes one in four of each hub's leave and come back, and checks
// that every one is back, subscribed, on the hub it left, with nothing
// counted as dropped.
func TestReconnectComesBackOnTheSameServer(t *testing.T) {
	a, b := stub.StartTest(t), stub.StartTest(t)
	cfg := testConfig(a.URL())
	cfg.URLs = []string{a.URL(), b.URL()}
	cl := New(cfg)
	ctx := context.Background()
	defer cl.CloseAll(ctx)
	if rep, err := cl.Connect(ctx, ConnectSpec{N: 40, Subscribe: true}); err != nil || rep.Subscribed != 40 {
		t.Fatalf("connect: %+v %v", rep, err)
	}
	if a.Subscribers("room") != 20 || b.Subscribers("room") != 20 {
		t.Fatalf("subscribers %d + %d, want 20 each", a.Subscribers("room"), b.Subscribers("room"))
	}
	rep, err := cl.Reconnect(ctx, ReconnectSpec{Every: 4, Group: 2, Subscribe: true})
	if err != nil {
		t.Fatal(err)
	}
	// Of each hub's 20 (indexes i with i%2 == hub), i/2 = 0, 4, 8, 12, 16.
	if rep.Picked != 10 || rep.Closed != 10 || rep.Reopened != 10 || rep.Subscribed != 10 || rep.Failed != 0 {
		t.Fatalf("reconnect: %+v %v", rep, cl.Errors())
	}
	c := cl.Counters()
	if c.Open != 40 || c.Opened != 50 || c.Subscribed != 50 || c.Dropped != 0 {
		t.Fatalf("counters %+v %v", c, cl.Errors())
	}
	deadline := time.Now().Add(5 * time.Second)
	for (a.Subscribers("room") != 20 || b.Subscribers("room") != 20 || a.Conns() != 20 || b.Conns() != 20) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if a.Subscribers("room") != 20 || b.Subscribers("room") != 20 || a.Conns() != 20 || b.Conns() != 20 {
		t.Fatalf("hubs: %d/%d subscribers, %d/%d connections", a.Subscribers("room"), b.Subscribers("room"), a.Conns(), b.Conns())
	}
	// A fan-out afterwards reaches every subscriber once, in order.
	if subs := cl.Arm(ArmSpec{Msgs: 3}, nil); subs != 40 {
		t.Fatalf("%d subscribers armed", subs)
	}
}
