package agent

import (
	"time"

	"github.com/surge-ws/ws/loadtest/internal/client"
	"github.com/surge-ws/ws/loadtest/internal/procstat"
)

// Step names.
const (
	OpSetup     = "setup"     // Setup: create the client
	OpConnect   = "connect"   // Connect
	OpArm       = "arm"       // Arm: start counting a fan-out
	OpCollect   = "collect"   // stop counting, report the fan-out
	OpEcho      = "echo"      // Echo
	OpChurn     = "churn"     // Churn
	OpSlow      = "slow"      // Slow: open slow subscribers
	OpProbe     = "probe"     // Probe: see what became of them
	OpReconnect = "reconnect" // Reconnect: some connections leave and come back
	OpClose     = "close"     // close every connection
	OpSample    = "sample"    // only read the process's counters
)

// Cmd is one step for an agent. Exactly the field of its Op is set.
type Cmd struct {
	ID        int64                 `json:"id"`
	Op        string                `json:"op"`
	Setup     *client.Config        `json:"setup,omitempty"`
	Connect   *client.ConnectSpec   `json:"connect,omitempty"`
	Arm       *client.ArmSpec       `json:"arm,omitempty"`
	Echo      *client.EchoSpec      `json:"echo,omitempty"`
	Churn     *client.ChurnSpec     `json:"churn,omitempty"`
	Slow      *client.SlowSpec      `json:"slow,omitempty"`
	Probe     time.Duration         `json:"probe,omitempty"`
	Reconnect *client.ReconnectSpec `json:"reconnect,omitempty"`
}

// Report is what a step measured, plus a reading of the agent's process
// taken at the step's end.
type Report struct {
	Connect     *client.ConnectReport   `json:"connect,omitempty"`
	Subscribers int64                   `json:"subscribers,omitempty"`
	Fanout      *client.FanoutReport    `json:"fanout,omitempty"`
	Echo        *client.EchoReport      `json:"echo,omitempty"`
	Churn       *client.ChurnReport     `json:"churn,omitempty"`
	Slow        *client.SlowReport      `json:"slow,omitempty"`
	Probe       *client.ProbeReport     `json:"probe,omitempty"`
	Close       *client.CloseReport     `json:"close,omitempty"`
	Reconnect   *client.ReconnectReport `json:"reconnect,omitempty"`
	Proc        procstat.Sample         `json:"proc"`
	Counters    client.Counters         `json:"counters"`
	Errors      map[string]int64        `json:"errors,omitempty"` // since the agent started
}

// Event is what an agent says between steps.
type Event struct {
	// Done lists fan-out messages that every local subscriber has.
	Done []int `json:"done,omitempty"`
	// Counters are the running totals (progress).
	Counters *client.Counters `json:"counters,omitempty"`
}

// Hello is a worker's first line.
type Hello struct {
	PID     int    `json:"pid"`
	FDLimit uint64 `json:"fd_limit"`
}

// reply answers the Cmd with the same ID.
type reply struct {
	ID     int64   `json:"id"`
	Err    string  `json:"err,omitempty"`
	Report *Report `json:"report,omitempty"`
}

// line is one line a worker writes.
type line struct {
	Hello *Hello `json:"hello,omitempty"`
	Reply *reply `json:"reply,omitempty"`
	Event *Event `json:"event,omitempty"`
}
