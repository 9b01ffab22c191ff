package report

import (
	"fmt"
	"io"
	"strings"
)

// Cluster is the cluster scenario's outcome: one deployment (server
// processes, a Redis, client processes on one machine), run once per target
// server with the same client, phase after phase.
type Cluster struct {
	Servers     int    `json:"servers"`      // server processes per target
	PerServer   int    `json:"per_server"`   // connections each is given
	ClientProcs int    `json:"client_procs"` // load generator processes holding connections
	Placement   string `json:"placement"`    // how connections are spread over the servers
	Redis       string `json:"redis,omitempty"`
	PingPolicy  string `json:"ping_policy,omitempty"`
	TimerSlack  string `json:"timer_slack,omitempty"` // what the servers were started with, when set
	// Kernel lists the settings a large run depends on, as found.
	Kernel  []KernelSetting  `json:"kernel"`
	Targets []*ClusterTarget `json:"targets"`
	// Comparison is the hub against the floor (Compare), when both ran.
	Comparison *Comparison `json:"comparison,omitempty"`
}

// KernelSetting is one sysctl as the run found it; Want is what
// scripts/tune-kernel sets when the value is below it.
type KernelSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Want  string `json:"want,omitempty"`
}

// ClusterTarget is one target's run: every phase it ran, in order.
type ClusterTarget struct {
	Name    string `json:"name"` // surge, floor
	What    string `json:"what"`
	Servers int    `json:"servers"`
	// ServerBaselineRSS and ClientBaselineRSS are the processes' RSS
	// before the first connection (the per-process overhead), summed.
	ServerBaselineRSS int64 `json:"server_baseline_rss"`
	ClientBaselineRSS int64 `json:"client_baseline_rss"`
	// ServerTimerSlackNs is the first server process's timer slack as
	// /proc shows it once started (-1: unreadable).
	ServerTimerSlackNs int64 `json:"server_timer_slack_ns"`

	Ramp      *RampPhase      `json:"ramp,omitempty"`
	Presence  *PresenceCheck  `json:"presence,omitempty"` // at full count, before the idle hold
	Idle      *IdlePhase      `json:"idle,omitempty"`
	Memory    *MemoryAtFull   `json:"memory,omitempty"`
	Broadcast *FanPhase       `json:"broadcast,omitempty"`
	Stream    *FanPhase       `json:"stream,omitempty"`
	Reconnect *ReconnectPhase `json:"reconnect,omitempty"`
	Shutdown  *ShutdownPhase  `json:"shutdown,omitempty"`

	Series []SeriesPoint `json:"series,omitempty"`
	Phases []PhaseMark   `json:"phases,omitempty"`

	Errors         map[string]int64 `json:"errors,omitempty"`
	WorkerFailures []string         `json:"worker_failures,omitempty"`
	Notes          []string         `json:"notes,omitempty"`
	// Aborted says why the target's run stopped before its last phase.
	Aborted string `json:"aborted,omitempty"`
}

// RampPhase is the connect phase: every connection dialed, upgraded and
// subscribed (its subscribe reply received).
type RampPhase struct {
	Target     int64    `json:"target"`
	Connected  int64    `json:"connected"`
	Failed     int64    `json:"failed"`
	Subscribed int64    `json:"subscribed"`
	Seconds    float64  `json:"seconds"`
	Rate       *float64 `json:"rate"`      // connected / seconds
	PeakRate   *float64 `json:"peak_rate"` // the best window of 5 s or more
	// Handshake is TCP connect plus upgrade, as the dialing goroutine saw it.
	HandshakeP50Ms *float64 `json:"handshake_p50_ms"`
	HandshakeP99Ms *float64 `json:"handshake_p99_ms"`
	HandshakeMaxMs *float64 `json:"handshake_max_ms"`
	ServerCPUSec   *float64 `json:"server_cpu_s"`
	ClientCPUSec   *float64 `json:"client_cpu_s"`
	Net            NetDelta `json:"net"`
}

// NetDelta is what the network stack counted during a phase.
type NetDelta struct {
	ListenOverflows int64 `json:"listen_overflows"` // accept queues full
	Retransmits     int64 `json:"retransmits"`
	BacklogDrops    int64 `json:"backlog_drops"` // net.core.netdev_max_backlog
	MemPressures    int64 `json:"tcp_memory_pressures"`
	Segments        int64 `json:"segments_in"`
	TCPMemPeak      int64 `json:"tcp_mem_peak"` // bytes charged to TCP buffers, highest sample
}

// PresenceCheck is what one node says about the whole cluster.
type PresenceCheck struct {
	Node     string  `json:"node"`
	Want     int64   `json:"want"`      // connections the load generator held open (all subscribed): the channel's subscribers; clients: Want + Extra
	Extra    int64   `json:"extra"`     // clients that are not subscribers (the publisher)
	Clients  int64   `json:"clients"`   // ClusterStats: this node's own plus every other node's registered count
	Room     int64   `json:"room"`      // the channel's subscribers over every node
	Nodes    int     `json:"nodes"`     // live nodes seen
	LocalSum int64   `json:"local_sum"` // every node's own count, added up (-1: not read)
	Exact    bool    `json:"exact"`
	Seconds  float64 `json:"seconds"` // until exact, from the start of the check
}

// MemoryAtFull is memory at full count, at the end of the idle hold
// (after the ramp when there is no hold).
type MemoryAtFull struct {
	Conns int64 `json:"conns"`
	// ServerRSS is every server process's RSS added up; PerConn divides it
	// by the connections (process overheads included), GrowthPerConn
	// divides its growth since before the first connection.
	ServerRSS           int64   `json:"server_rss"`
	ServerRSSPerConn    float64 `json:"server_rss_per_conn"`
	ServerGrowthPerConn float64 `json:"server_growth_per_conn"`
	ServerMaxProcRSS    int64   `json:"server_max_proc_rss"`
	// ServerAnon is the servers' private memory (RssAnon) added up;
	// ServerFile the largest process's file pages (the binary, which the
	// processes share: counted once here, once per process in ServerRSS).
	ServerAnon        int64   `json:"server_anon"`
	ServerAnonPerConn float64 `json:"server_anon_per_conn"`
	ServerFile        int64   `json:"server_file"`
	// Kernel: Slab growth (socket, file, epoll structures) and TCP buffer
	// memory growth, per connection (both ends of it).
	KernelSlab    int64   `json:"kernel_slab"`
	KernelTCPMem  int64   `json:"kernel_tcp_mem"`
	KernelPerConn float64 `json:"kernel_per_conn"`
	// Redis is used_memory's growth (INFO memory); nil without Redis.
	Redis        *int64   `json:"redis"`
	RedisPerConn *float64 `json:"redis_per_conn"`
	// ClientRSS is every load generator process's RSS added up.
	ClientRSS        int64   `json:"client_rss"`
	ClientRSSPerConn float64 `json:"client_rss_per_conn"`
	// MachineDrop is MemAvailable's fall since before the servers started:
	// everything above, and whatever else the machine did meanwhile.
	MachineDrop    int64   `json:"machine_drop"`
	MachinePerConn float64 `json:"machine_per_conn"`
	Sockets        int64   `json:"sockets"` // sockstat "sockets: used", growth
}

// IdlePhase is the hold at full count with nothing sent.
type IdlePhase struct {
	Seconds       float64 `json:"seconds"`
	OpenAtEnd     int64   `json:"open_at_end"`
	Dropped       int64   `json:"dropped"` // connections closed by the server or network during the hold
	ServerCPUSec  float64 `json:"server_cpu_s"`
	ServerUserSec float64 `json:"server_user_cpu_s"`
	ServerCorePct float64 `json:"server_core_pct"` // server CPU per second, in % of one core
	ServerPeakPct float64 `json:"server_peak_pct"` // the busiest sampling interval
	// ServerEmptyPct is the same processes' CPU before the first connection
	// (timers, heartbeats, the runtime): what the process count costs.
	ServerEmptyPct *float64 `json:"server_empty_pct"`
	ClientCorePct  *float64 `json:"client_core_pct"`
	RedisCorePct   *float64 `json:"redis_core_pct"`
	SegmentsPerS   float64  `json:"segments_per_s"` // loopback TCP segments received per second
	// PingsPerS is what the ping policy makes for the connections held;
	// CPUPerPingUs charges all of the servers' idle CPU to those pings.
	PingsPerS    *float64 `json:"pings_per_s"`
	CPUPerPingUs *float64 `json:"cpu_per_ping_us"`
	Net          NetDelta `json:"net"`
}

// FanPhase is a fan-out to every subscriber: one message at a time (a
// broadcast) or a stream at a fixed rate.
type FanPhase struct {
	Messages    int     `json:"messages"`
	Rate        float64 `json:"rate"` // 0: one at a time
	Size        int     `json:"size"` // filler bytes
	Subscribers int64   `json:"subscribers"`
	Deliveries  int64   `json:"deliveries"`
	Expected    int64   `json:"expected"`
	Incomplete  int     `json:"incomplete"`
	Lost        int64   `json:"lost"` // subscribers closed during the phase
	OutOfOrder  int64   `json:"out_of_order"`
	// PerMessage: publish until the last subscriber has it; Delivery:
	// publish until each subscriber has it.
	PerMessageP50Ms   *float64 `json:"per_message_p50_ms"`
	PerMessageP99Ms   *float64 `json:"per_message_p99_ms"`
	PerMessageMaxMs   *float64 `json:"per_message_max_ms"`
	DeliveryP50Ms     *float64 `json:"delivery_p50_ms"`
	DeliveryP99Ms     *float64 `json:"delivery_p99_ms"`
	DeliveryMaxMs     *float64 `json:"delivery_max_ms"`
	Seconds           float64  `json:"seconds"` // first publish to last delivery
	DeliveriesPerSec  *float64 `json:"deliveries_per_s"`
	ServerCPUSec      *float64 `json:"server_cpu_s"`
	ServerCPUPerDelUs *float64 `json:"server_cpu_per_delivery_us"`
	ClientCPUSec      *float64 `json:"client_cpu_s"`
	Net               NetDelta `json:"net"`
	Aborted           string   `json:"aborted,omitempty"`
}

// ReconnectPhase is a share of the clients leaving and coming back.
type ReconnectPhase struct {
	Picked         int64          `json:"picked"`
	Closed         int64          `json:"closed"`
	Reopened       int64          `json:"reopened"`
	Subscribed     int64          `json:"subscribed"`
	Failed         int64          `json:"failed"`
	Seconds        float64        `json:"seconds"`
	Rate           *float64       `json:"rate"`
	CycleP50Ms     *float64       `json:"cycle_p50_ms"`
	CycleP99Ms     *float64       `json:"cycle_p99_ms"`
	CycleMaxMs     *float64       `json:"cycle_max_ms"`
	HandshakeP99Ms *float64       `json:"handshake_p99_ms"`
	Presence       *PresenceCheck `json:"presence,omitempty"`
}

// ShutdownPhase is SIGTERM to every server at once.
type ShutdownPhase struct {
	Servers    int     `json:"servers"`
	CleanExits int     `json:"clean_exits"` // exit status 0 within the bound
	Killed     int     `json:"killed"`      // SIGKILLed at the bound
	Seconds    float64 `json:"seconds"`     // SIGTERM until the last server exited
	// ClientsSeconds is SIGTERM until the load generator held no open
	// connection; StillOpen counts those open when the wait ended.
	ClientsSeconds float64          `json:"clients_seconds"`
	StillOpen      int64            `json:"still_open"`
	Closes         map[string]int64 `json:"closes,omitempty"` // how the clients saw their connections end
	RedisKeysLeft  *int64           `json:"redis_keys_left"`
}

// SeriesPoint is one sample of the run's timeline.
type SeriesPoint struct {
	T          float64 `json:"t"` // seconds since the target's servers started
	Open       int64   `json:"open"`
	Subscribed int64   `json:"subscribed"`
	ServerRSS  int64   `json:"server_rss"`
	ServerCPU  float64 `json:"server_cpu_s"` // cumulative, all server processes
	ClientRSS  int64   `json:"client_rss"`
	KernelMem  int64   `json:"kernel_mem"` // Slab + TCP buffer memory, growth since the start
	TCPMem     int64   `json:"tcp_mem"`
	Redis      int64   `json:"redis"` // used_memory growth
}

// PhaseMark is where a phase started on the timeline.
type PhaseMark struct {
	Name string  `json:"name"`
	T    float64 `json:"t"`
}

// ClusterRow is one figure of the cluster table, with a value per target.
type ClusterRow struct {
	Phase, Label string
	Values       []string
}

// ClusterRows lays the cluster result out: one row per figure, one column
// per target.
func ClusterRows(c *Cluster) []ClusterRow {
	var rows []ClusterRow
	add := func(phase, label string, f func(t *ClusterTarget) string) {
		vals := make([]string, len(c.Targets))
		any := false
		for i, t := range c.Targets {
			if v := f(t); v != "" {
				vals[i], any = v, true
			} else {
				vals[i] = "-"
			}
		}
		if any {
			rows = append(rows, ClusterRow{phase, label, vals})
		}
	}
	ramp := func(f func(p *RampPhase) string) func(t *ClusterTarget) string {
		return func(t *ClusterTarget) string {
			if t.Ramp == nil {
				return ""
			}
			return f(t.Ramp)
		}
	}
	add("ramp", "connections", ramp(func(p *RampPhase) string {
		s := fmt.Sprintf("%s of %s subscribed", num(p.Subscribed), num(p.Target))
		if p.Failed > 0 {
			s += fmt.Sprintf(", %s FAILED", num(p.Failed))
		}
		return s
	}))
	add("ramp", "time", ramp(func(p *RampPhase) string { return fmt.Sprintf("%.1f s", p.Seconds) }))
	add("ramp", "connect rate (mean / best 5 s)", ramp(func(p *RampPhase) string {
		return fmt.Sprintf("%s/s / %s/s", numf(p.Rate), numf(p.PeakRate))
	}))
	add("ramp", "handshake p50 / p99 / max", ramp(func(p *RampPhase) string {
		return fmt.Sprintf("%s / %s / %s", msStr(p.HandshakeP50Ms), msStr(p.HandshakeP99Ms), msStr(p.HandshakeMaxMs))
	}))
	add("ramp", "server CPU / client CPU", ramp(func(p *RampPhase) string {
		return fmt.Sprintf("%s / %s", secStr(p.ServerCPUSec), secStr(p.ClientCPUSec))
	}))
	add("ramp", "kernel: listen overflows, retransmits, backlog drops", ramp(func(p *RampPhase) string { return netStr(p.Net) }))
	presence := func(get func(t *ClusterTarget) *PresenceCheck) func(t *ClusterTarget) string {
		return func(t *ClusterTarget) string {
			p := get(t)
			if p == nil {
				return ""
			}
			s := fmt.Sprintf("node %s: %s clients, %s in room, %d nodes", p.Node, num(p.Clients), num(p.Room), p.Nodes)
			if p.Extra > 0 {
				s = fmt.Sprintf("node %s: %s clients (the publisher is one), %s in room, %d nodes", p.Node, num(p.Clients), num(p.Room), p.Nodes)
			}
			if p.LocalSum >= 0 {
				s += fmt.Sprintf(", nodes' own counts add up to %s", num(p.LocalSum))
			}
			if p.Exact {
				return s + fmt.Sprintf(": exact after %.1f s", p.Seconds)
			}
			return s + fmt.Sprintf(": NOT the %s the clients hold (+%d) after %.1f s", num(p.Want), p.Extra, p.Seconds)
		}
	}
	add("full count", "presence", presence(func(t *ClusterTarget) *PresenceCheck { return t.Presence }))
	idle := func(f func(p *IdlePhase) string) func(t *ClusterTarget) string {
		return func(t *ClusterTarget) string {
			if t.Idle == nil {
				return ""
			}
			return f(t.Idle)
		}
	}
	add("idle", "hold", idle(func(p *IdlePhase) string {
		s := fmt.Sprintf("%.0f s, %s open at the end", p.Seconds, num(p.OpenAtEnd))
		if p.Dropped > 0 {
			s += fmt.Sprintf(", %s DROPPED", num(p.Dropped))
		}
		return s
	}))
	add("idle", "server CPU (all processes)", idle(func(p *IdlePhase) string {
		return fmt.Sprintf("%.1f%% of a core (busiest interval %.1f%%)", p.ServerCorePct, p.ServerPeakPct)
	}))
	add("idle", "server CPU with no connection (before the ramp)", idle(func(p *IdlePhase) string {
		if p.ServerEmptyPct == nil {
			return ""
		}
		return fmt.Sprintf("%.1f%% of a core", *p.ServerEmptyPct)
	}))
	add("idle", "pings", idle(func(p *IdlePhase) string {
		if p.PingsPerS == nil {
			return "none"
		}
		what := "all idle CPU charged"
		if p.ServerEmptyPct != nil {
			what = "the CPU above the empty processes' charged"
		}
		return fmt.Sprintf("%s/s expected; %s of server CPU per ping (%s)", numf(p.PingsPerS), usStr(p.CPUPerPingUs), what)
	}))
	add("idle", "client / Redis CPU", idle(func(p *IdlePhase) string {
		return fmt.Sprintf("%s / %s of a core", pctStr(p.ClientCorePct), pctStr(p.RedisCorePct))
	}))
	add("idle", "loopback segments", idle(func(p *IdlePhase) string { return fmt.Sprintf("%.0f/s", p.SegmentsPerS) }))
	mem := func(f func(m *MemoryAtFull) string) func(t *ClusterTarget) string {
		return func(t *ClusterTarget) string {
			if t.Memory == nil {
				return ""
			}
			return f(t.Memory)
		}
	}
	add("memory", "server RSS, all processes", mem(func(m *MemoryAtFull) string {
		return fmt.Sprintf("%s: %s B per connection (growth %s B; largest process %s)", bytesStr(float64(m.ServerRSS)),
			num(int64(m.ServerRSSPerConn)), num(int64(m.ServerGrowthPerConn)), bytesStr(float64(m.ServerMaxProcRSS)))
	}))
	add("memory", "server private memory (RssAnon), all processes", mem(func(m *MemoryAtFull) string {
		once := ""
		if m.Conns > 0 {
			once = fmt.Sprintf("; with the binary counted once (it is shared: RSS counts it in every process): %s B per connection",
				num((m.ServerAnon+m.ServerFile)/m.Conns))
		}
		return fmt.Sprintf("%s: %s B per connection; the binary's pages %s%s", bytesStr(float64(m.ServerAnon)),
			num(int64(m.ServerAnonPerConn)), bytesStr(float64(m.ServerFile)), once)
	}))
	add("memory", "kernel (slab + TCP buffers)", mem(func(m *MemoryAtFull) string {
		return fmt.Sprintf("%s + %s: %s B per connection (both ends)", bytesStr(float64(m.KernelSlab)), bytesStr(float64(m.KernelTCPMem)), num(int64(m.KernelPerConn)))
	}))
	add("memory", "Redis used_memory", mem(func(m *MemoryAtFull) string {
		if m.Redis == nil {
			return ""
		}
		return fmt.Sprintf("%s: %s B per connection", bytesStr(float64(*m.Redis)), num(int64(deref(m.RedisPerConn))))
	}))
	add("memory", "client RSS, all processes", mem(func(m *MemoryAtFull) string {
		return fmt.Sprintf("%s: %s B per connection", bytesStr(float64(m.ClientRSS)), num(int64(m.ClientRSSPerConn)))
	}))
	add("memory", "machine (MemAvailable drop)", mem(func(m *MemoryAtFull) string {
		return fmt.Sprintf("%s: %s B per connection", bytesStr(float64(m.MachineDrop)), num(int64(m.MachinePerConn)))
	}))
	for _, ph := range []struct {
		name string
		get  func(t *ClusterTarget) *FanPhase
	}{{"broadcast", func(t *ClusterTarget) *FanPhase { return t.Broadcast }}, {"stream", func(t *ClusterTarget) *FanPhase { return t.Stream }}} {
		fan := func(f func(p *FanPhase) string) func(t *ClusterTarget) string {
			return func(t *ClusterTarget) string {
				if p := ph.get(t); p != nil {
					return f(p)
				}
				return ""
			}
		}
		add(ph.name, "messages", fan(func(p *FanPhase) string {
			mode := "one at a time"
			if p.Rate > 0 {
				mode = fmt.Sprintf("at %g/s", p.Rate)
			}
			return fmt.Sprintf("%d %s to %s subscribers", p.Messages, mode, num(p.Subscribers))
		}))
		add(ph.name, "deliveries", fan(func(p *FanPhase) string {
			s := fmt.Sprintf("%s of %s", num(p.Deliveries), num(p.Expected))
			if p.Deliveries < p.Expected {
				s += fmt.Sprintf(" MISSING %s", num(p.Expected-p.Deliveries))
			}
			if p.Lost > 0 {
				s += fmt.Sprintf(", %s subscribers LOST (closed by the server during the phase)", num(p.Lost))
			}
			if p.Aborted != "" {
				s += " (stopped: " + p.Aborted + ")"
			}
			return s
		}))
		add(ph.name, "until the last has it p50 / p99 / max", fan(func(p *FanPhase) string {
			return fmt.Sprintf("%s / %s / %s", msStr(p.PerMessageP50Ms), msStr(p.PerMessageP99Ms), msStr(p.PerMessageMaxMs))
		}))
		add(ph.name, "until each has it p50 / p99 / max", fan(func(p *FanPhase) string {
			return fmt.Sprintf("%s / %s / %s", msStr(p.DeliveryP50Ms), msStr(p.DeliveryP99Ms), msStr(p.DeliveryMaxMs))
		}))
		add(ph.name, "deliveries per second", fan(func(p *FanPhase) string { return numf(p.DeliveriesPerSec) + "/s" }))
		add(ph.name, "server CPU", fan(func(p *FanPhase) string {
			return fmt.Sprintf("%s (%s per delivery)", secStr(p.ServerCPUSec), usStr(p.ServerCPUPerDelUs))
		}))
		add(ph.name, "kernel: retransmits, backlog drops, TCP memory peak", fan(func(p *FanPhase) string {
			return fmt.Sprintf("%s, %s, %s", num(p.Net.Retransmits), num(p.Net.BacklogDrops), bytesStr(float64(p.Net.TCPMemPeak)))
		}))
	}
	rec := func(f func(p *ReconnectPhase) string) func(t *ClusterTarget) string {
		return func(t *ClusterTarget) string {
			if t.Reconnect == nil {
				return ""
			}
			return f(t.Reconnect)
		}
	}
	add("reconnect", "clients", rec(func(p *ReconnectPhase) string {
		s := fmt.Sprintf("%s left, %s back and subscribed in %.1f s (%s/s)", num(p.Closed), num(p.Subscribed), p.Seconds, numf(p.Rate))
		if p.Failed > 0 {
			s += fmt.Sprintf(", %s FAILED", num(p.Failed))
		}
		return s
	}))
	add("reconnect", "close to subscribed again p50 / p99 / max", rec(func(p *ReconnectPhase) string {
		return fmt.Sprintf("%s / %s / %s", msStr(p.CycleP50Ms), msStr(p.CycleP99Ms), msStr(p.CycleMaxMs))
	}))
	add("reconnect", "presence after", presence(func(t *ClusterTarget) *PresenceCheck {
		if t.Reconnect == nil {
			return nil
		}
		return t.Reconnect.Presence
	}))
	sd := func(f func(p *ShutdownPhase) string) func(t *ClusterTarget) string {
		return func(t *ClusterTarget) string {
			if t.Shutdown == nil {
				return ""
			}
			return f(t.Shutdown)
		}
	}
	add("shutdown", "servers", sd(func(p *ShutdownPhase) string {
		s := fmt.Sprintf("%d of %d exited cleanly within %.1f s", p.CleanExits, p.Servers, p.Seconds)
		if p.Killed > 0 {
			s += fmt.Sprintf(", %d KILLED", p.Killed)
		}
		return s
	}))
	add("shutdown", "clients", sd(func(p *ShutdownPhase) string {
		s := fmt.Sprintf("all closed after %.1f s", p.ClientsSeconds)
		if p.StillOpen > 0 {
			s = fmt.Sprintf("%s STILL OPEN after %.1f s", num(p.StillOpen), p.ClientsSeconds)
		}
		for _, e := range sortedErrors(p.Closes) {
			s += "; " + e
		}
		return s
	}))
	add("shutdown", "Redis keys left", sd(func(p *ShutdownPhase) string {
		if p.RedisKeysLeft == nil {
			return ""
		}
		return num(*p.RedisKeysLeft)
	}))
	return rows
}

// Comparison is the hub against the floor, on the figures the targets name.
type Comparison struct {
	// ConnectRatio is the hub's mean connect rate over the floor's.
	ConnectRatio *float64 `json:"connect_ratio"`
	// BroadcastRatio is the hub's time until the last subscriber had a
	// broadcast (its worst) over the floor's.
	BroadcastRatio *float64 `json:"broadcast_ratio"`
}

// Compare returns the hub against the floor, when both ran.
func (c *Cluster) Compare() *Comparison {
	var hub, fl *ClusterTarget
	for _, t := range c.Targets {
		switch t.Name {
		case "surge":
			hub = t
		case "floor":
			fl = t
		}
	}
	if hub == nil || fl == nil {
		return nil
	}
	var cmp Comparison
	if hub.Ramp != nil && fl.Ramp != nil && hub.Ramp.Rate != nil && fl.Ramp.Rate != nil && *fl.Ramp.Rate > 0 {
		cmp.ConnectRatio = F(*hub.Ramp.Rate / *fl.Ramp.Rate)
	}
	if hub.Broadcast != nil && fl.Broadcast != nil && hub.Broadcast.PerMessageMaxMs != nil && fl.Broadcast.PerMessageMaxMs != nil && *fl.Broadcast.PerMessageMaxMs > 0 {
		cmp.BroadcastRatio = F(*hub.Broadcast.PerMessageMaxMs / *fl.Broadcast.PerMessageMaxMs)
	}
	return &cmp
}

// WriteClusterTable writes the cluster result as a terminal table.
func WriteClusterTable(w io.Writer, r *Result) error {
	c := r.Cluster
	fmt.Fprintf(w, "cluster  %d connections, %d server processes per target (%s), %d client processes, %.1f s\n",
		r.N, c.Servers, c.Placement, c.ClientProcs, r.Elapsed)
	if c.PingPolicy != "" {
		fmt.Fprintf(w, "  ping policy: %s\n", c.PingPolicy)
	}
	if c.TimerSlack != "" {
		fmt.Fprintf(w, "  timer slack: %s\n", c.TimerSlack)
	}
	rows := ClusterRows(c)
	wl := len("figure")
	for _, row := range rows {
		wl = max(wl, len(row.Phase)+2+len(row.Label))
	}
	head := fmt.Sprintf("  %-*s", wl, "figure")
	for _, t := range c.Targets {
		head += "  | " + t.Name
	}
	fmt.Fprintln(w, head)
	for _, row := range rows {
		line := fmt.Sprintf("  %-*s", wl, row.Phase+": "+row.Label)
		for _, v := range row.Values {
			line += "  | " + v
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	if cmp := c.Compare(); cmp != nil {
		fmt.Fprintf(w, "  surge / floor: connect rate %s, broadcast until the last has it %s\n", ratioStr(cmp.ConnectRatio), ratioStr(cmp.BroadcastRatio))
	}
	for _, t := range c.Targets {
		for _, e := range sortedErrors(t.Errors) {
			fmt.Fprintf(w, "  %s error: %s\n", t.Name, e)
		}
		for _, f := range t.WorkerFailures {
			fmt.Fprintf(w, "  %s WORKER FAILED: %s\n", t.Name, f)
		}
		if t.Aborted != "" {
			fmt.Fprintf(w, "  %s STOPPED: %s\n", t.Name, t.Aborted)
		}
		for _, n := range t.Notes {
			fmt.Fprintf(w, "  %s note: %s\n", t.Name, n)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	return nil
}

// ClusterMarkdown is the cluster table in Markdown: | phase | figure | target... |.
func ClusterMarkdown(c *Cluster) string {
	var b strings.Builder
	b.WriteString("| phase | figure |")
	for _, t := range c.Targets {
		fmt.Fprintf(&b, " %s |", mdEscape(t.Name))
	}
	b.WriteString("\n|---|---|")
	for range c.Targets {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, row := range ClusterRows(c) {
		fmt.Fprintf(&b, "| %s | %s |", row.Phase, mdEscape(row.Label))
		for _, v := range row.Values {
			fmt.Fprintf(&b, " %s |", mdEscape(v))
		}
		b.WriteString("\n")
	}
	if cmp := c.Compare(); cmp != nil {
		fmt.Fprintf(&b, "\nsurge / floor: connect rate %s, broadcast until the last has it %s.\n", ratioStr(cmp.ConnectRatio), ratioStr(cmp.BroadcastRatio))
	}
	return b.String()
}

func ratioStr(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", *p)
}

func netStr(n NetDelta) string {
	return fmt.Sprintf("%s, %s, %s", num(n.ListenOverflows), num(n.Retransmits), num(n.BacklogDrops))
}

func secStr(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f s", *p)
}

func pctStr(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", *p)
}

func numf(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return num(int64(*p + 0.5))
}

// num writes n with thousands separators.
func num(n int64) string {
	if n < 0 {
		return "-" + num(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
