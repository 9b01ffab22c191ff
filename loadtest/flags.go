package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/abuse"
)

// abuseDefaults are the abuse scenario's default sizes.
var abuseDefaults = abuse.DefaultSizes

const usageHead = `loadtest drives a Surge hub (or any server speaking its JSON protocol) with
many WebSocket connections from an event-driven client, and reports what the
server and the client itself spent.

Usage:
  loadtest <scenario> [flags]

Scenarios:
  idle     open -n connections, subscribe each, hold them for -hold: connect
           rate, handshake latency, memory per connection, idle CPU
  fanout   -n subscribers and one publisher sending -msgs messages, one at a
           time (default) or at -rate msgs/s: time until the last subscriber
           has each message, deliveries/s, CPU per delivery
  echo     -n connections each sending -msgs requests with ids, each after the
           previous reply: round trips/s, latency, CPU per round trip
  churn    connect/subscribe/close cycles at -rate per second for -duration:
           failures, and whether the server's descriptors, goroutines
           (-stats-url) and memory return to baseline
  slow     fanout twice: without, then with -slow-share of extra subscribers
           that never read: the others' latency and the server's memory
  compare  build and run examples/chat and the peers in loadtest/peers on
           fresh processes with the same scenarios; write the table into
           docs/benchmarks.md between <!-- compare:begin/end --> markers
  cluster  the deployment on one machine: -servers processes of
           examples/chat joined through Redis (and, to compare, of the raw
           epoll floor), -n clients over worker processes; phases in order:
           ramp, idle hold, broadcast, stream, reconnect, shutdown; figures
           per phase (docs/scaling.md)
  abuse    hostile clients, one case after another (-cases), each on a
           fresh examples/chat (or -url) beside a probe client doing round
           trips: the probe's latency, what the offender got, and whether
           the server's descriptors and goroutines came back

Server figures need -server-pid (memory and CPU are read from /proc).
Only loopback targets are accepted unless -allow-remote is given.

Flags:
`

// flags are the command line, shared by every scenario.
type flags struct {
	url, channel, event, echoEvent  string
	n, msgs, procs, size, conc, pid int
	rate, connRate, share           float64
	hold, duration, timeout, settle time.Duration
	maxTime                         time.Duration
	statsURL, reportDir, sources    string
	jsonOut, allowRemote, quiet     bool
	cpuProfile                      string
	peers, scenarios, out, repo     string
	abuse                           abuseFlags
	cluster                         clusterFlags
	set                             map[string]bool // flags given explicitly
}

// clusterFlags are the cluster scenario's own flags.
type clusterFlags struct {
	servers, broadcasts, streamMsgs, reconnectEvery        int
	streamRate                                             float64
	targets, redis, serverArgs, serverEnv, floorArgs       string
	pingInterval, pongTimeout, shutdownTimeout, timerSlack time.Duration
	minAvailable                                           int
}

// abuseFlags are the abuse scenario's own flags.
type abuseFlags struct {
	cases                            string
	flood, pingFlood, repeat         int
	channels                         int
	stormClients, names, protocol    int
	slowloris, halfOpen              int
	noRead, readers, publish, pubSz  int
	churn, churnConc, panics, blocks int
	blockMsgs                        int
	trickle, probeEvery, liveness    time.Duration
	returnWithin, caseTime           time.Duration
	offenders                        string
}

func newFlagSet(f *flags, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&f.url, "url", "ws://127.0.0.1:8080/ws", "WebSocket URL of the hub (abuse: default none, it starts its own servers)")
	fs.IntVar(&f.n, "n", 1000, "connections (subscribers; echo clients)")
	fs.IntVar(&f.msgs, "msgs", 0, "fanout/slow: messages to publish (default 100; slow 1000); echo: requests per connection (default 100)")
	fs.Float64Var(&f.rate, "rate", 0, "fanout/slow: publish at this many msgs/s (0: one at a time); churn: cycles/s (default 100)")
	fs.IntVar(&f.procs, "procs", 0, "client processes (0: as many as the file-descriptor limit needs)")
	fs.IntVar(&f.size, "size", 0, "filler bytes in each message's data (slow: default 4096)")
	fs.StringVar(&f.channel, "channel", "room", "channel the subscribers join and the publisher publishes on")
	fs.StringVar(&f.event, "event", "chat.message", "event the publisher sends (the hub publishes it to -channel)")
	fs.StringVar(&f.echoEvent, "echo-event", "echo", "event of the echo scenario's requests")
	fs.DurationVar(&f.hold, "hold", 10*time.Second, "idle: how long to hold the connections; abuse: how long slowloris and half-open connections wait for the server to end them (default 15s)")
	fs.DurationVar(&f.duration, "duration", 0, "churn: how long to run (default 10s); echo: stop sending after this long (0: no limit)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "bound on each handshake, each message's delivery and each wait")
	fs.DurationVar(&f.settle, "settle", 2*time.Second, "churn: wait this long before the after-readings")
	fs.IntVar(&f.conc, "concurrency", 64, "dials (churn: cycles) in flight per client process")
	fs.Float64Var(&f.connRate, "connect-rate", 0, "cap on new connections per second over all processes (0: none)")
	fs.Float64Var(&f.share, "slow-share", 0.1, "slow: extra subscribers that never read, as a share of -n")
	fs.IntVar(&f.pid, "server-pid", 0, "pid of the server process, for its memory, CPU and descriptors")
	fs.StringVar(&f.statsURL, "stats-url", "", "churn: URL returning JSON with \"goroutines\" (or Prometheus go_goroutines)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the result as JSON on stdout instead of the table")
	fs.StringVar(&f.reportDir, "report", "", "write a Markdown report with plots into this directory")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	fs.StringVar(&f.sources, "sources", "auto", `local addresses to spread connections over: "auto" (127.0.0.2-254 for an IPv4 loopback target), "none", "A-B" or "A,B,..."`)
	fs.DurationVar(&f.maxTime, "max-time", 10*time.Minute, "bound on the whole run")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress line")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of this (coordinator) process to the file, to see what the client spends")
	fs.StringVar(&f.peers, "peers", "surge,surge-inline,gorilla,nbio", "compare: servers to run (surge, surge-inline, gorilla, nbio, stub, floor)")
	fs.StringVar(&f.scenarios, "scenarios", "idle,fanout,echo", "compare: scenarios to run on each server")
	fs.StringVar(&f.out, "out", "docs/benchmarks.md", "compare: Markdown file to update (relative to the repository root)")
	fs.StringVar(&f.repo, "repo", "", "compare, abuse: repository root (default: found from the working directory)")
	a, d := &f.abuse, abuseDefaults
	fs.StringVar(&a.cases, "cases", "", "abuse: cases to run, comma-separated, in order (\"flood-*\" picks every flood; default all)")
	fs.IntVar(&a.flood, "flood", d.Flood, "abuse: messages (or pings) of one flood")
	fs.IntVar(&a.pingFlood, "ping-flood", d.PingFlood, "abuse: pings of ping-flood-noread (which must not grow the server's memory by more than 24 MiB)")
	fs.IntVar(&a.repeat, "repeat", d.Repeat, "abuse: close-then-hangup/-reset clients, one after another")
	fs.IntVar(&a.channels, "channels", d.Channels, "abuse: channels one client subscribes to in subscribe-storm-one")
	fs.IntVar(&a.stormClients, "storm-clients", d.StormClients, "abuse: clients of subscribe-storm-many (100 channels each)")
	fs.IntVar(&a.names, "names", d.Names, "abuse: subscribes with a maximum-length (and an over-length) channel name")
	fs.IntVar(&a.protocol, "protocol", d.Protocol, "abuse: connections of each protocol-violation case")
	fs.IntVar(&a.slowloris, "slowloris", d.Slowloris, "abuse: connections trickling their handshake")
	fs.IntVar(&a.halfOpen, "half-open", d.HalfOpen, "abuse: connections that send nothing")
	fs.IntVar(&a.noRead, "noread", d.NoRead, "abuse: subscribers that never read (never-read)")
	fs.IntVar(&a.readers, "readers", d.Readers, "abuse: subscribers that read, beside them")
	fs.IntVar(&a.publish, "publish", d.Publish, "abuse: messages published to the hot channel (never-read)")
	fs.IntVar(&a.pubSz, "publish-size", d.PublishSize, "abuse: filler bytes of each published message")
	fs.IntVar(&a.churn, "churn", d.Churn, "abuse: connect-and-reset cycles")
	fs.IntVar(&a.churnConc, "churn-conc", d.ChurnConc, "abuse: churn cycles in flight")
	fs.IntVar(&a.panics, "panics", d.Panics, "abuse: requests to the panicking handler")
	fs.IntVar(&a.blocks, "blockers", d.Blockers, "abuse: clients whose handler never returns")
	fs.IntVar(&a.blockMsgs, "block-msgs", d.BlockMsgs, "abuse: messages each blocked client sends after the blocking one")
	fs.DurationVar(&a.trickle, "trickle", d.Trickle, "abuse: interval between two bytes of a slowloris handshake")
	fs.DurationVar(&a.probeEvery, "probe-every", 15*time.Millisecond, "abuse: the probe's interval between round trips")
	fs.DurationVar(&a.liveness, "liveness", 2*time.Second, "abuse: longest wait for a probe answer before a case fails")
	fs.DurationVar(&a.returnWithin, "return-within", 15*time.Second, "abuse: bound on the server's return to its baseline after a case")
	fs.DurationVar(&a.caseTime, "case-time", 60*time.Second, "abuse: bound on one case's hostile phase")
	fs.StringVar(&a.offenders, "offenders", "", `abuse: local addresses of the hostile connections ("A-B" or "A,B"; default 127.0.0.2)`)
	c := &f.cluster
	fs.IntVar(&c.servers, "servers", 0, "cluster: server processes per target (0: as many as the descriptor limit needs, 500 descriptors kept free in each)")
	fs.StringVar(&c.targets, "targets", "surge,floor", "cluster: servers to run the phases on, in order (surge: examples/chat with Redis; floor: loadtest/peers/floor; surge-alone: examples/chat without Redis)")
	fs.StringVar(&c.redis, "redis", "", "cluster: address of a Redis to use (default: start a redis-server of the run's own)")
	fs.IntVar(&c.broadcasts, "broadcasts", 3, "cluster: messages of the broadcast phase, one at a time (-1: skip)")
	fs.IntVar(&c.streamMsgs, "stream-msgs", 20, "cluster: messages of the stream phase (-1: skip)")
	fs.Float64Var(&c.streamRate, "stream-rate", 5, "cluster: messages per second of the stream phase")
	fs.IntVar(&c.reconnectEvery, "reconnect-every", 100, "cluster: one client in this many leaves and comes back (-1: skip)")
	fs.DurationVar(&c.pingInterval, "ping-interval", 0, "cluster: the hub's ping interval (WS_HUBS__DEFAULT__PING_INTERVAL for examples/chat; 0: the hub's default, 30s)")
	fs.DurationVar(&c.pongTimeout, "pong-timeout", 0, "cluster: the hub's pong timeout (WS_HUBS__DEFAULT__PONG_TIMEOUT; 0: the hub's default, 10s)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 0, "cluster: examples/chat's -shutdown-timeout (0: 10s, or 200µs per connection when longer)")
	fs.IntVar(&c.minAvailable, "min-available", 1024, "cluster: stop the run when the machine's MemAvailable falls under this many MiB (negative: never)")
	fs.StringVar(&c.serverArgs, "server-args", "", "cluster: extra flags for every examples/chat process, space-separated")
	fs.StringVar(&c.floorArgs, "floor-args", "", "cluster: extra flags for every floor process, space-separated (e.g. -park)")
	fs.DurationVar(&c.timerSlack, "server-timer-slack", 0, "cluster: start every server process, the hub's and the floor's, with this timer slack (prctl PR_SET_TIMERSLACK; 0: the load generator's own, 50µs by default; docs/scaling.md)")
	fs.StringVar(&c.serverEnv, "server-env", "", "cluster: environment for every examples/chat process, comma-separated (e.g. GOGC=50); the floor takes only its GOMAXPROCS")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	return fs
}

// scenarioDefaults fills the defaults that depend on the scenario, for
// flags the user did not give.
func (f *flags) scenarioDefaults(scenario string) {
	if !f.set["msgs"] {
		f.msgs = 100
		if scenario == "slow" {
			f.msgs = 1000
		}
	}
	if !f.set["size"] && scenario == "slow" {
		f.size = 4096
	}
	if !f.set["duration"] && scenario == "churn" {
		f.duration = 10 * time.Second
	}
	if !f.set["rate"] && scenario == "churn" {
		f.rate = 100
	}
	if scenario == "cluster" {
		if !f.set["hold"] {
			f.hold = 65 * time.Second // two ping intervals and a little
		}
		if !f.set["timeout"] {
			f.timeout = 30 * time.Second
		}
		if !f.set["max-time"] {
			f.maxTime = 45 * time.Minute
		}
	}
}

// parseSources reads -sources ("auto" is resolved later, against the URL).
func parseSources(s string) ([]netip.Addr, error) {
	switch s {
	case "auto", "none", "":
		return nil, nil
	}
	if a, b, ok := strings.Cut(s, "-"); ok {
		first, err1 := netip.ParseAddr(strings.TrimSpace(a))
		last, err2 := netip.ParseAddr(strings.TrimSpace(b))
		if err1 != nil || err2 != nil || last.Less(first) {
			return nil, fmt.Errorf("-sources %q: want A-B with A <= B", s)
		}
		var out []netip.Addr
		for x := first; x.Compare(last) <= 0 && x.IsValid(); x = x.Next() {
			out = append(out, x)
		}
		return out, nil
	}
	var out []netip.Addr
	for _, part := range strings.Split(s, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("-sources: %w", err)
		}
		out = append(out, a)
	}
	return out, nil
}
