package report

import (
	"time"

	"github.com/surge-ws/ws/loadtest/internal/hist"
)

// Result is one scenario's outcome: the -json output, the rows of the final
// table and the input of the Markdown report. A pointer field is null when it
// was not measured (no -server-pid, no deliveries to divide by, ...): a
// missing figure must never read as zero.
type Result struct {
	Scenario string    `json:"scenario"`
	Server   string    `json:"server,omitempty"` // compare: which server ran
	URL      string    `json:"url"`
	Command  string    `json:"command,omitempty"`
	Started  time.Time `json:"started"`
	Elapsed  float64   `json:"elapsed_s"`
	// Procs is the number of client processes holding connections (1: the
	// coordinator itself).
	Procs int `json:"procs"`
	N     int `json:"n"`

	Connected   int64    `json:"connected"`
	Failed      int64    `json:"failed"`
	Subscribed  int64    `json:"subscribed"`
	ConnectRate *float64 `json:"connect_rate"` // connections per second

	// Fan-out, slow and echo.
	Mode               string   `json:"mode,omitempty"`
	Messages           int      `json:"messages,omitempty"`
	Deliveries         int64    `json:"deliveries"`
	DeliveriesExpected int64    `json:"deliveries_expected"`
	DeliveriesPerSec   *float64 `json:"deliveries_per_s"`
	Incomplete         int      `json:"incomplete_messages,omitempty"` // fan-out messages some subscriber never got
	RoundTrips         int64    `json:"round_trips,omitempty"`
	RoundTripsPerSec   *float64 `json:"round_trips_per_s,omitempty"`

	// Latency is what P50Ms, P99Ms and MaxMs measure (it depends on the
	// scenario: see docs/loadtest.md).
	Latency        string   `json:"latency"`
	P50Ms          *float64 `json:"p50_ms"`
	P99Ms          *float64 `json:"p99_ms"`
	MaxMs          *float64 `json:"max_ms"`
	DeliveryP50Ms  *float64 `json:"delivery_p50_ms,omitempty"`
	DeliveryP99Ms  *float64 `json:"delivery_p99_ms,omitempty"`
	HandshakeP50Ms *float64 `json:"handshake_p50_ms"`
	HandshakeP99Ms *float64 `json:"handshake_p99_ms"`

	// The server, when -server-pid was given. Window names the span the CPU
	// figures cover.
	ServerPID                   int      `json:"server_pid,omitempty"`
	Window                      string   `json:"window,omitempty"`
	ServerRSSBefore             *int64   `json:"server_rss_before"`
	ServerRSSAfter              *int64   `json:"server_rss_after"`
	ServerRSSPerConn            *float64 `json:"server_rss_per_conn"`
	MemAvailableDelta           *int64   `json:"mem_available_delta"`
	MemPerConnTotal             *float64 `json:"mem_per_conn_total"` // kernel + server + client, from MemAvailable
	ServerCPUSec                *float64 `json:"server_cpu_s"`
	ServerUserCPUSec            *float64 `json:"server_user_cpu_s"`
	ServerSysCPUSec             *float64 `json:"server_sys_cpu_s"`
	ServerCPUPerDeliveryUs      *float64 `json:"server_cpu_per_delivery_us"`
	ServerUserCPUPerDeliveryUs  *float64 `json:"server_user_cpu_per_delivery_us"`
	ServerCPUPerRoundTripUs     *float64 `json:"server_cpu_per_round_trip_us,omitempty"`
	ServerUserCPUPerRoundTripUs *float64 `json:"server_user_cpu_per_round_trip_us,omitempty"`

	// The load generator's own cost.
	ClientRSSPerConn       *float64 `json:"client_rss_per_conn"`
	ClientCPUSec           *float64 `json:"client_cpu_s"`
	ClientUserCPUSec       *float64 `json:"client_user_cpu_s"`
	ClientCPUPerDeliveryUs *float64 `json:"client_cpu_per_delivery_us"`

	Churn *Churn `json:"churn,omitempty"`
	Slow  *Slow  `json:"slow,omitempty"`
	Abuse *Abuse `json:"abuse,omitempty"`
	// Cluster is the cluster scenario's outcome (its phases per target).
	Cluster *Cluster `json:"cluster,omitempty"`

	Dropped    int64            `json:"dropped"`      // connections closed by the server or network
	OutOfOrder int64            `json:"out_of_order"` // fan-out packets older than one already seen
	Unexpected int64            `json:"unexpected"`   // messages that were neither ours nor replies
	Errors     map[string]int64 `json:"errors,omitempty"`
	// WorkerFailures lists client processes that died or failed a step: a
	// run with any is not a valid measurement.
	WorkerFailures []string `json:"worker_failures,omitempty"`
	// Notes are caveats the run found (e.g. "no -server-pid").
	Notes []string `json:"notes,omitempty"`

	// Histograms holds the merged latency histograms by name, encoded, so a
	// report can be redrawn or merged with other runs later.
	Histograms map[string]hist.Snapshot `json:"histograms,omitempty"`
}

// Churn is the churn scenario's outcome.
type Churn struct {
	Rate             float64  `json:"rate"`
	Cycles           int64    `json:"cycles"`
	Failed           int64    `json:"failed"`
	Late             int64    `json:"late"`
	FDsBefore        *int     `json:"fds_before"`
	FDsAfter         *int     `json:"fds_after"`
	RSSBefore        *int64   `json:"rss_before"`
	RSSAfter         *int64   `json:"rss_after"`
	GoroutinesBefore *float64 `json:"goroutines_before"` // null: no -stats-url
	GoroutinesAfter  *float64 `json:"goroutines_after"`
	// Returned says whether each returned to its baseline (null: not measured).
	FDsReturned        *bool `json:"fds_returned"`
	RSSReturned        *bool `json:"rss_returned"`
	GoroutinesReturned *bool `json:"goroutines_returned"`
}

// Slow is the slow scenario's outcome.
type Slow struct {
	SlowConns      int64    `json:"slow_conns"`
	BaselineP50Ms  *float64 `json:"baseline_p50_ms"`
	BaselineP99Ms  *float64 `json:"baseline_p99_ms"`
	BaselineMaxMs  *float64 `json:"baseline_max_ms"`
	WithSlowP50Ms  *float64 `json:"with_slow_p50_ms"`
	WithSlowP99Ms  *float64 `json:"with_slow_p99_ms"`
	WithSlowMaxMs  *float64 `json:"with_slow_max_ms"`
	ServerRSSPeak  *int64   `json:"server_rss_peak"`
	PeakPerSlow    *float64 `json:"server_rss_growth_per_slow_conn"`
	ClosedByServer int64    `json:"closed_by_server"`
	BytesBuffered  int64    `json:"bytes_buffered"` // in kernel buffers for the slow subscribers (their receive and the server's send buffers)
	PayloadBytes   int64    `json:"payload_bytes"`  // data bytes published to each slow subscriber (envelope not counted)
}

// F, I and B make pointers for the optional fields.
func F(v float64) *float64 { return &v }
func I(v int64) *int64     { return &v }
func B(v bool) *bool       { return &v }
