package provider

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
)

const signalChildEnv = "SURGE_PROVIDER_SIGNAL_CHILD"

// TestSignalChild is the child of TestSIGTERMDrainsAndExits: the seed
// program on the provider, serving until a signal.
func TestSignalChild(t *testing.T) {
	if os.Getenv(signalChildEnv) == "" {
		t.Skip("child process of TestSIGTERMDrainsAndExits")
	}
	app, web, _ := testApp(t)
	go func() {
		for web.ListenAddr() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Println("ADDR", web.ListenAddr())
	}()
	if err := app.Run(t.Context()); err != nil {
		fmt.Println("RUN", err)
		os.Exit(3)
	}
	fmt.Println("STOPPED")
}

// SIGTERM to a real process with clients attached: the client gets 1001
// "server shutdown", Run returns nil and the process exits 0.
func TestSIGTERMDrainsAndExits(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), signalChildEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var addr string
	for addr == "" {
		select {
		case l := <-lines:
			addr, _ = strings.CutPrefix(l, "ADDR ")
		case <-time.After(20 * time.Second):
			t.Fatal("the child did not print its address within 20 s")
		}
	}
	c := dial(t, "ws://"+addr+"/ws")
	c.send(`{"id":"1","event":"echo","data":1}`)
	c.next("echo reply")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, why := c.closed(); code != frame.CloseGoingAway || why != "server shutdown" {
		t.Fatalf("client closed with %d %q, want 1001 server shutdown", code, why)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the child exited with %v, want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the child did not exit within 15 s of SIGTERM")
	}
	var saw bool
	for l := range lines {
		saw = saw || l == "STOPPED"
	}
	if !saw {
		t.Fatal("Run did not return nil in the child")
	}
}
