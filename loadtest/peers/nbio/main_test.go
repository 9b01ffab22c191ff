package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/surge-ws/ws/loadtest/internal/peertest"
)

// nbio's engine has data races of its own (its accept goroutine and its
// pollers share connection fields unsynchronized; the project marks such
// functions go:norace instead), which the race detector reports inside nbio,
// not in this peer. So the server runs in a child process whose race reports
// are discarded, and the check itself still runs under -race.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "-serve" {
		if _, err := serve(os.Args[2]); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the test closes stdin
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSpeaksTheProtocol(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-serve", addr)
	cmd.Env = append(os.Environ(), "GORACE=exitcode=0")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	// nbio logs to stdout too: skip its lines.
	br := bufio.NewReader(stdout)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("server: %q %v", line, err)
		}
		if strings.TrimSpace(line) == "ready" {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, br) }()
	peertest.Check(t, "ws://"+addr+"/ws")
}
