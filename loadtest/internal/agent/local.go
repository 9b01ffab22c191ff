package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/loadtest/internal/procstat"
)

// Local runs steps in this process.
type Local struct {
	idx     int
	onEvent EventFunc
	cl      *client.Client
	never   chan struct{}
	mu      sync.Mutex
}

// NewLocal returns an in-process agent with index idx whose events go to
// onEvent (may be nil).
func NewLocal(idx int, cfg client.Config, onEvent EventFunc) *Local {
	return &Local{idx: idx, onEvent: onEvent, cl: client.New(cfg), never: make(chan struct{})}
}

// newUnconfigured is a worker's agent before its setup step.
func newUnconfigured(onEvent EventFunc) *Local {
	return &Local{onEvent: onEvent, never: make(chan struct{})}
}

func (l *Local) Name() string { return "local" }

func (l *Local) Dead() <-chan struct{} { return l.never }

// Pid is this process's id.
func (l *Local) Pid() int { return os.Getpid() }

func (l *Local) Counters() client.Counters {
	if cl := l.client(); cl != nil {
		return cl.Counters()
	}
	return client.Counters{}
}

func (l *Local) client() *client.Client {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cl
}

func (l *Local) emit(e Event) {
	if l.onEvent != nil {
		l.onEvent(l.idx, e)
	}
}

// Do runs cmd.
func (l *Local) Do(ctx context.Context, cmd Cmd) (Report, error) {
	var rep Report
	var err error
	if cmd.Op == OpSetup {
		if cmd.Setup == nil {
			return rep, errors.New("agent: setup without config")
		}
		l.mu.Lock()
		l.cl = client.New(*cmd.Setup)
		l.mu.Unlock()
		return l.finish(rep, nil)
	}
	cl := l.client()
	if cl == nil {
		return rep, errors.New("agent: step before setup")
	}
	switch cmd.Op {
	case OpConnect:
		if cmd.Connect == nil {
			return rep, errors.New("agent: connect without spec")
		}
		var r client.ConnectReport
		r, err = cl.Connect(ctx, *cmd.Connect)
		rep.Connect = &r
	case OpArm:
		if cmd.Arm == nil {
			return rep, errors.New("agent: arm without spec")
		}
		rep.Subscribers = cl.Arm(*cmd.Arm, func(seq int) { l.emit(Event{Done: []int{seq}}) })
	case OpCollect:
		var r client.FanoutReport
		r, err = cl.Collect()
		rep.Fanout = &r
	case OpEcho:
		if cmd.Echo == nil {
			return rep, errors.New("agent: echo without spec")
		}
		var r client.EchoReport
		r, err = cl.Echo(ctx, *cmd.Echo)
		rep.Echo = &r
	case OpChurn:
		if cmd.Churn == nil {
			return rep, errors.New("agent: churn without spec")
		}
		var r client.ChurnReport
		r, err = cl.Churn(ctx, *cmd.Churn)
		rep.Churn = &r
	case OpSlow:
		if cmd.Slow == nil {
			return rep, errors.New("agent: slow without spec")
		}
		var r client.SlowReport
		r, err = cl.ConnectSlow(ctx, *cmd.Slow)
		rep.Slow = &r
	case OpProbe:
		r := cl.ProbeSlow(cmd.Probe)
		rep.Probe = &r
	case OpReconnect:
		if cmd.Reconnect == nil {
			return rep, errors.New("agent: reconnect without spec")
		}
		var r client.ReconnectReport
		r, err = cl.Reconnect(ctx, *cmd.Reconnect)
		rep.Reconnect = &r
	case OpClose:
		r := cl.CloseAll(ctx)
		rep.Close = &r
	case OpSample:
	default:
		return rep, fmt.Errorf("agent: unknown step %q", cmd.Op)
	}
	return l.finish(rep, err)
}

// finish adds the process reading and totals to a step's report.
func (l *Local) finish(rep Report, err error) (Report, error) {
	if s, perr := procstat.Read(0); perr == nil {
		rep.Proc = s
	}
	if cl := l.client(); cl != nil {
		rep.Counters = cl.Counters()
		rep.Errors = cl.Errors()
	}
	return rep, err
}

// Close closes every connection.
func (l *Local) Close() error {
	if cl := l.client(); cl != nil {
		cl.CloseAll(context.Background())
	}
	return nil
}
