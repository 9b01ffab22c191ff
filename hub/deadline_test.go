package hub

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The lazy context keeps every promise of context.WithTimeout: Done closes at
// the deadline, Err reports it (with or without a Done), cancel ends it, and
// contexts derived from it follow it.
func TestLazyDeadlineKeepsTheContextContract(t *testing.T) {
	ctx := withLazyDeadline(50 * time.Millisecond)
	defer ctx.cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > 50*time.Millisecond {
		t.Fatalf("deadline %v, %v", d, ok)
	}
	if err := ctx.Err(); err != nil {
		t.Fatalf("Err before the deadline: %v", err)
	}
	child, stopChild := context.WithCancel(ctx)
	defer stopChild()
	select {
	case <-ctx.Done():
	case <-time.After(waitFor):
		t.Fatal("Done not closed within waitFor of a 50 ms deadline")
	}
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err after the deadline: %v", err)
	}
	select {
	case <-child.Done():
	case <-time.After(waitFor):
		t.Fatal("a derived context did not end with its parent's deadline")
	}

	// Nobody waited on Done: Err still sees the deadline, and a Done asked
	// for afterwards is closed already.
	ctx = withLazyDeadline(time.Millisecond)
	defer ctx.cancel()
	time.Sleep(5 * time.Millisecond)
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err past a deadline nobody waited for: %v", err)
	}
	select {
	case <-ctx.Done():
	default:
		t.Fatal("Done of an expired context is open")
	}

	// cancel ends it at once, before or after a Done was asked for.
	for _, early := range []bool{true, false} {
		ctx := withLazyDeadline(time.Hour)
		var done <-chan struct{}
		if early {
			done = ctx.Done()
		}
		ctx.cancel()
		if done == nil {
			done = ctx.Done()
		}
		select {
		case <-done:
		default:
			t.Fatalf("Done open after cancel (Done asked for first: %v)", early)
		}
		if err := ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Err after cancel: %v", err)
		}
	}
}

// A Presence call that never waits costs the hub one allocation for its
// context, not the timers of context.WithTimeout.
func TestPresenceContextAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector counts allocations of its own; make test runs this without -race")
	}
	waitQuiet(t)
	h := New("allocs", Config{})
	defer func() { _ = h.Stop(context.Background()) }()
	got := minAllocs(5, 200, func() {
		ctx := h.presenceCtx()
		_ = ctx.Err()
		ctx.cancel()
	})
	if got > 1 {
		t.Fatalf("%.1f allocations per Presence context, want 1", got)
	}
}
