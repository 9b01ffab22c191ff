package main

import (
	"context"
	"testing"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/peertest"
	"github.com/surge-ws/ws/loadtest/internal/stub"
)

func TestSpeaksTheProtocol(t *testing.T) {
	s, err := stub.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	}()
	peertest.Check(t, s.URL())
}
