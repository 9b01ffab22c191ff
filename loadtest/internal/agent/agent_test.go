package agent

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-ws/ws/internal/leakcheck"
	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/loadtest/internal/stub"
)

// The test binary is its own worker: StartRemote re-executes it with -worker.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-worker" {
		if err := Serve(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	leakcheck.Main(m, 5*time.Second, leakcheck.Library...)
}

func cfgFor(s *stub.Server) client.Config {
	return client.Config{URL: s.URL(), Channel: "room", Event: "chat.message", EchoEvent: "echo", Timeout: 5 * time.Second}
}

// doneLog collects fan-out completions by agent.
type doneLog struct {
	mu   sync.Mutex
	seqs map[int][]int
}

func (d *doneLog) add(i int, e Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seqs == nil {
		d.seqs = map[int][]int{}
	}
	d.seqs[i] = append(d.seqs[i], e.Done...)
}

func (d *doneLog) count(i int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seqs[i])
}

// TestWorkersDoWhatLocalDoes runs the same fan-out through a local agent and
// two worker processes and checks that replies, events and reports cross the
// process boundary intact.
func TestWorkersDoWhatLocalDoes(t *testing.T) {
	s := stub.StartTest(t)
	ctx := context.Background()
	var log doneLog
	local := NewLocal(0, cfgFor(s), log.add)
	fleet := &Fleet{Agents: []Agent{local}}
	for i := 1; i <= 2; i++ {
		r, err := StartRemote(ctx, i, []string{os.Args[0], "-worker"}, cfgFor(s), log.add)
		if err != nil {
			t.Fatal(err)
		}
		fleet.Agents = append(fleet.Agents, r)
	}
	defer fleet.Close()

	reps := fleet.Each(ctx, func(i int) *Cmd {
		return &Cmd{Op: OpConnect, Connect: &client.ConnectSpec{First: i * 20, N: 20, Subscribe: true}}
	})
	for i, rep := range reps {
		if rep == nil || rep.Connect.Subscribed != 20 {
			t.Fatalf("agent %d connect: %+v (failures %v)", i, rep, fleet.Failures())
		}
		if rep.Proc.RSS == 0 {
			t.Errorf("agent %d sent no process reading", i)
		}
	}
	const msgs = 5
	for _, rep := range fleet.All(ctx, Cmd{Op: OpArm, Arm: &client.ArmSpec{Msgs: msgs}}) {
		if rep == nil || rep.Subscribers != 20 {
			t.Fatalf("arm: %+v", rep)
		}
	}
	pub, err := client.DialPublisher(ctx, cfgFor(s))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for seq := range msgs {
		if _, err := pub.Publish(int64(seq), 10); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for (log.count(0) < msgs || log.count(1) < msgs || log.count(2) < msgs) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for i := range 3 {
		if c := log.count(i); c != msgs {
			t.Errorf("agent %d reported %d completions, want %d", i, c, msgs)
		}
	}
	for i, rep := range fleet.All(ctx, Cmd{Op: OpCollect}) {
		if rep == nil || rep.Fanout == nil || rep.Fanout.Deliveries != 20*msgs {
			t.Fatalf("agent %d collect: %+v", i, rep)
		}
		for seq, c := range rep.Fanout.Counts {
			if c != 20 || rep.Fanout.Last[seq] == 0 {
				t.Errorf("agent %d message %d: count %d last %d", i, seq, c, rep.Fanout.Last[seq])
			}
		}
	}
	// Progress counters arrive from the workers without any step.
	time.Sleep(2 * progressEvery)
	if c := fleet.Counters(); c.Opened != 60 || c.Deliveries != 60*msgs {
		t.Errorf("counters %+v", c)
	}
	if f := fleet.Failures(); len(f) != 0 {
		t.Errorf("failures: %v", f)
	}
}

// TestDeadWorkerIsReported kills a real worker between steps and checks that
// the next step reports it, with its exit status, instead of hanging or
// returning an empty report.
func TestDeadWorkerIsReported(t *testing.T) {
	s := stub.StartTest(t)
	ctx := context.Background()
	r, err := StartRemote(ctx, 3, []string{os.Args[0], "-worker"}, cfgFor(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	fleet := &Fleet{Agents: []Agent{r}}
	defer fleet.Close()
	if reps := fleet.All(ctx, Cmd{Op: OpConnect, Connect: &client.ConnectSpec{N: 10}}); reps[0] == nil {
		t.Fatalf("connect failed: %v", fleet.Failures())
	}
	_ = r.cmd.Process.Kill()
	<-r.Dead()
	if fleet.Alive(0) {
		t.Fatal("a killed worker is alive")
	}
	reps := fleet.All(ctx, Cmd{Op: OpSample})
	if reps[0] != nil {
		t.Fatal("a dead worker returned a report")
	}
	f := fleet.Failures()
	if len(f) != 1 || !strings.Contains(f[0], "worker 3") || !strings.Contains(f[0], "killed") {
		t.Fatalf("failures = %q", f)
	}
}

// TestEarlyExitIsReported uses a worker that says hello, accepts its setup
// and then exits with status 3 at the first real step, complaining on
// stderr: the failure must name the worker, the status and the complaint.
func TestEarlyExitIsReported(t *testing.T) {
	script := `echo '{"hello":{"pid":1}}'; read setup; echo '{"reply":{"id":1,"report":{}}}'; read step; echo 'out of memory (pretend)' >&2; exit 3`
	r, err := StartRemote(context.Background(), 7, []string{"/bin/sh", "-c", script}, client.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fleet := &Fleet{Agents: []Agent{r}}
	defer fleet.Close()
	reps := fleet.All(context.Background(), Cmd{Op: OpConnect, Connect: &client.ConnectSpec{N: 10}})
	if reps[0] != nil {
		t.Fatal("got a report from a worker that exited")
	}
	f := fleet.Failures()
	if len(f) != 1 {
		t.Fatalf("failures = %q", f)
	}
	for _, s := range []string{"worker 7", "exit status 3", "out of memory (pretend)"} {
		if !strings.Contains(f[0], s) {
			t.Errorf("failure %q lacks %q", f[0], s)
		}
	}
	// Later steps skip it instead of waiting for it.
	if reps := fleet.All(context.Background(), Cmd{Op: OpSample}); reps[0] != nil || len(fleet.Failures()) != 1 {
		t.Error("a failed worker got another step")
	}
}

// TestWorkerThatNeverGreets fails fast instead of waiting forever.
func TestWorkerThatNeverGreets(t *testing.T) {
	_, err := StartRemote(context.Background(), 1, []string{"/bin/sh", "-c", "echo not json; exit 0"}, client.Config{}, nil)
	if err == nil || !strings.Contains(err.Error(), "worker 1") {
		t.Fatalf("err = %v", err)
	}
}
