//go:build !race

package client

import (
	"context"
	"testing"
)

// TestClientMemoryPerConnection holds the load generator to its budget: a
// subscribed idle connection may cost the client at most 4 KiB of RSS, so
// that the client's own memory never limits a run. The server runs in
// another process so its memory is not counted. (The race detector's shadow
// memory would distort the figure, hence the build tag.)
func TestClientMemoryPerConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 5500 connections")
	}
	url := startStubProcess(t)
	cl := New(testConfig(url))
	ctx := context.Background()
	// The first connections carry the process's one-time costs; the budget
	// is for the ones after them.
	if _, err := cl.Connect(ctx, ConnectSpec{N: 500, Subscribe: true}); err != nil {
		t.Fatal(err)
	}
	rep, err := cl.Connect(ctx, ConnectSpec{First: 500, N: 5000, Subscribe: true})
	if err != nil || rep.Subscribed != 5000 {
		t.Fatalf("connect: %+v %v %v", rep, err, cl.Errors())
	}
	per := float64(rep.RSSAfter-rep.RSSBefore) / float64(rep.Opened)
	t.Logf("client RSS per connection: %.0f bytes", per)
	if per > 4096 {
		t.Errorf("client RSS per connection = %.0f bytes, budget 4096", per)
	}
	cl.CloseAll(ctx)
}
