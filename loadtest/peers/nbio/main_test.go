package main

import (
	"os"
	"testing"

	"github.com/surge-ws/ws/loadtest/internal/peertest"
)

// nbio's engine has data races of its own (its accept goroutine and its
// pollers share connection fields unsynchronized; the project marks such
// functions go:norace instead), which the race detector reports inside nbio,
// not in this peer. So the server runs in a child process whose race reports
// are discarded, and the check itself still runs under -race.
func TestMain(m *testing.M) {
	peertest.ServeChild(func(addr string) error {
		_, err := serve(addr)
		return err
	})
	os.Exit(m.Run())
}

func TestSpeaksTheProtocol(t *testing.T) {
	peertest.Check(t, peertest.StartChild(t, "GORACE=exitcode=0"))
}
