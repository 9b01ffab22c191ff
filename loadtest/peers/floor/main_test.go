package main

import (
	"os"
	"testing"

	"github.com/surge-ws/ws/loadtest/internal/peertest"
)

// The server loops until the process ends, so it runs in a child process:
// the test binary re-executed by peertest.StartChild.
func TestMain(m *testing.M) {
	peertest.ServeChild(func(addr string) error {
		lfd, err := listen(addr)
		if err != nil {
			return err
		}
		go func() {
			if err := newServer(lfd, "chat.message").serve(); err != nil {
				panic(err)
			}
		}()
		return nil
	})
	os.Exit(m.Run())
}

func TestEchoes(t *testing.T) {
	peertest.CheckEcho(t, peertest.StartChild(t))
}

// TestHub runs the load generator's protocol check: subscribes, a fan-out
// through a publisher, echoes.
func TestHub(t *testing.T) {
	peertest.Check(t, peertest.StartChild(t))
}
