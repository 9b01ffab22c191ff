package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/internal/leakcheck"
	"github.com/surge-ws/ws/loadtest/internal/peertest"
	"github.com/surge-ws/ws/loadtest/internal/serverproc"
)

// TestMain fails the package when goroutines outlive its tests (the
// transport's process-lifetime goroutines aside).
func TestMain(m *testing.M) {
	leakcheck.Main(m, 5*time.Second, leakcheck.Library...)
}

// TestSpeaksTheProtocol checks the seed's part of the protocol and the
// stats endpoint; the panic and block handlers are the abuse test's.
func TestSpeaksTheProtocol(t *testing.T) {
	addr, err := serverproc.FreeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	stats, err := serverproc.FreeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, addr, stats, conn.IPLimits{}) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("the server did not stop within 15 s of its context's end")
		}
	}()
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err = http.Get("http://" + stats + "/"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stats endpoint did not answer within 10 s: %v", err)
		}
	}
	var v struct {
		Goroutines *float64        `json:"goroutines"`
		Hub        json.RawMessage `json:"hub"`
	}
	err = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if err != nil || v.Goroutines == nil || len(v.Hub) == 0 {
		t.Fatalf("stats: %+v %v", v, err)
	}
	peertest.Check(t, "ws://"+addr+"/ws")
}
