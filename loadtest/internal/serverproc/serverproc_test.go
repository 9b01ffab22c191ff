package serverproc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRepoRootAndFreeAddr(t *testing.T) {
	wd, _ := os.Getwd()
	root, err := RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "conn")); err != nil {
		t.Fatalf("root %s has no conn/", root)
	}
	a, err := FreeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	if ap, err := netip.ParseAddrPort(a); err != nil || !ap.Addr().IsLoopback() || ap.Port() == 0 {
		t.Fatalf("%q is not a loopback address with a port", a)
	}
}

func TestBuildMissingPackage(t *testing.T) {
	_, err := Build(context.Background(), t.TempDir(), t.TempDir(), "x", "./nosuch")
	if !errors.Is(err, ErrNoPackage) {
		t.Fatalf("err = %v", err)
	}
}

// A server started with a TimerSlack has it (Linux shows the first
// thread's, from which the Go runtime's threads, sysmon's among them, take
// theirs), and the load generator keeps its own.
func TestStartWithTimerSlack(t *testing.T) {
	wd, _ := os.Getwd()
	root, err := RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := Build(context.Background(), filepath.Join(root, "loadtest"), t.TempDir(), "floor", "./peers/floor")
	if err != nil {
		t.Fatal(err)
	}
	mine := timerSlack(t, os.Getpid())
	p, err := Start(context.Background(), Spec{Bin: bin, Log: filepath.Join(t.TempDir(), "floor.log"), TimerSlack: 3 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if got := timerSlack(t, p.Pid()); got != 3_000_000 {
		t.Fatalf("server's timer slack %d ns, want 3000000", got)
	}
	if got := timerSlack(t, os.Getpid()); got != mine {
		t.Fatalf("load generator's timer slack %d ns after the start, %d before", got, mine)
	}
	q, err := Start(context.Background(), Spec{Bin: bin, Log: filepath.Join(t.TempDir(), "floor2.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Stop()
	if got := timerSlack(t, q.Pid()); got != mine {
		t.Fatalf("server started without TimerSlack has %d ns, the load generator %d", got, mine)
	}
}

// The thread that forks a server gets its own timer slack back.
func TestStartWithTimerSlackRestoresTheThread(t *testing.T) {
	runtime.LockOSThread() // startWithTimerSlack runs on this thread too
	defer runtime.UnlockOSThread()
	before, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("true")
	if err := startWithTimerSlack(cmd, 2*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if after, _ := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0); after != before {
		t.Fatalf("forking thread's timer slack %d ns after, %d before", after, before)
	}
}

func timerSlack(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/timerslack_ns", pid))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}
