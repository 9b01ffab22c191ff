package peertest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// ServeChild is for a peer's TestMain: when the test binary was started by
// StartChild (arguments -serve <addr>), it calls start(addr), which must
// return once the peer listens (serving in the background), prints "ready"
// and exits when the test closes the child's stdin. In the ordinary test
// process it returns at once.
func ServeChild(start func(addr string) error) {
	if len(os.Args) < 3 || os.Args[1] != "-serve" {
		return
	}
	if err := start(os.Args[2]); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the test closes stdin
	os.Exit(0)
}

// StartChild re-executes the test binary as the peer's server (see
// ServeChild) on a free loopback port, waits until it is ready and returns
// its hub URL. The child stops when the test ends. extraEnv is added to its
// environment.
func StartChild(t *testing.T, extraEnv ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-serve", addr)
	cmd.Env = append(os.Environ(), extraEnv...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	// stderr is dropped: a peer library's own race reports (nbio's) are not
	// this test's business; a failure to start comes as an "error:" line.
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	// A peer's library may log to stdout too: skip to "ready".
	br := bufio.NewReader(stdout)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("server: %q %v", line, err)
		}
		if strings.TrimSpace(line) == "ready" {
			break
		}
		if strings.HasPrefix(line, "error:") {
			t.Fatalf("server: %s", line)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, br) }()
	return "ws://" + addr + "/ws"
}
