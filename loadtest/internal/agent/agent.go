package agent

import (
	"context"

	"github.com/surge-ws/ws/loadtest/internal/client"
)

// Agent runs steps. Do is called by one goroutine at a time; Counters and
// Dead may be called at any time.
type Agent interface {
	// Name identifies the agent in reports ("local", "worker 2 (pid 123)").
	Name() string
	// Do runs one step and waits for its report.
	Do(ctx context.Context, cmd Cmd) (Report, error)
	// Counters returns the latest running totals known.
	Counters() client.Counters
	// Pid is the id of the process holding the agent's connections, for
	// readings of it in /proc.
	Pid() int
	// Dead is closed when the agent can run no more steps.
	Dead() <-chan struct{}
	// Close ends the agent, closing its connections.
	Close() error
}

// EventFunc receives an agent's events; i is the agent's index in its
// Fleet. It runs on the agent's goroutines and must not block.
type EventFunc func(i int, e Event)
