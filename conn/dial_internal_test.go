package conn

import (
	"context"
	"errors"
	"testing"
)

// When the handshake finishes as the context expires, Dial used to close the
// connection and still return it with a nil error (select picks either ready
// case at random).
func TestDialAwaitHandshakeWinsOverExpiredContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 200 {
		ds := &dialState{done: make(chan struct{})}
		ds.finish(nil, nil) // the handshake succeeded
		if err := ds.await(ctx); err != nil {
			t.Fatalf("try %d: await = %v after a finished handshake, want nil", i, err)
		}
	}
	ds := &dialState{done: make(chan struct{})}
	if err := ds.await(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("await of an unfinished handshake = %v, want context.Canceled", err)
	}
}
