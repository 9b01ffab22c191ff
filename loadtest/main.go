package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/abuse"
	"github.com/surge-ws/ws/loadtest/internal/agent"
	"github.com/surge-ws/ws/loadtest/internal/compare"
	"github.com/surge-ws/ws/loadtest/internal/progress"
	"github.com/surge-ws/ws/loadtest/internal/report"
	"github.com/surge-ws/ws/loadtest/internal/scenario"
)

// workerFlag is the hidden first argument that makes this binary a worker
// process of another loadtest (see internal/agent).
const workerFlag = "-worker"

func main() {
	if len(os.Args) > 1 && os.Args[1] == workerFlag {
		if err := agent.Serve(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest worker:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run is the whole command; workerArgv overrides how workers start (tests).
// It returns the exit status: 0 done, 1 failed (or a worker died), 2 usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, workerArgv []string) int {
	var f flags
	fs := newFlagSet(&f, stderr)
	if len(args) == 0 || strings.HasPrefix(args[0], "-") || args[0] == "help" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		fs.Usage()
		return 2
	}
	name := args[0]
	if name != "compare" && name != "abuse" && name != "cluster" && !slices.Contains(scenario.Names, name) {
		fmt.Fprintf(stderr, "loadtest: unknown scenario %q\n\n", name)
		fs.Usage()
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest: unexpected argument %q (flags go after the scenario)\n", fs.Arg(0))
		return 2
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	command := "loadtest " + strings.Join(args, " ")
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 2
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}

	var line *progress.Line
	if !f.quiet {
		line = progress.New(stderr, 200*time.Millisecond)
	}
	if name == "compare" {
		return runCompare(ctx, &f, command, stdout, stderr, line, workerArgv)
	}
	if name == "abuse" {
		line.Stop()
		return runAbuse(ctx, &f, command, stdout, stderr)
	}
	if name == "cluster" {
		return runCluster(ctx, &f, command, stdout, stderr, line, workerArgv)
	}
	f.scenarioDefaults(name)
	o, err := options(ctx, &f, line, workerArgv)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
	}
	res, err := scenario.Run(ctx, name, o)
	line.Stop()
	if res == nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	res.Command = command
	status := 0
	if err != nil {
		fmt.Fprintln(stderr, "loadtest: run stopped:", err)
		status = 1
	}
	if len(res.WorkerFailures) > 0 {
		status = 1
	}
	if err := emit(res, &f, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	return status
}

// options turns flags into scenario options.
func options(ctx context.Context, f *flags, line *progress.Line, workerArgv []string) (scenario.Options, error) {
	src, err := parseSources(f.sources)
	if err != nil {
		return scenario.Options{}, err
	}
	if f.sources == "auto" {
		src = scenario.LoopbackSources(ctx, f.url)
	}
	return scenario.Options{
		URL: f.url, N: f.n, Msgs: f.msgs, Rate: f.rate, Procs: f.procs, Size: f.size,
		Channel: f.channel, Event: f.event, EchoEvt: f.echoEvent,
		Hold: f.hold, Duration: f.duration, Timeout: f.timeout, Settle: f.settle,
		Conc: f.conc, ConnRate: f.connRate, Share: f.share,
		ServerPID: f.pid, StatsURL: f.statsURL, Sources: src, AllowRemote: f.allowRemote,
		WorkerArgv: workerArgv, MaxTime: f.maxTime, Progress: line,
	}, nil
}

// emit prints the result (table or JSON) and writes the Markdown report.
func emit(res *report.Result, f *flags, stdout, stderr io.Writer) error {
	if f.reportDir != "" {
		path, err := report.WriteMarkdown(f.reportDir, res)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		fmt.Fprintln(stderr, "report:", path)
	}
	if f.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return report.WriteTable(stdout, res)
}

// runCompare runs the compare command.
func runCompare(ctx context.Context, f *flags, command string, stdout, stderr io.Writer, line *progress.Line, workerArgv []string) int {
	root := f.repo
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 1
		}
		if root, err = compare.RepoRoot(wd); err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 2
		}
	}
	out := f.out
	if out != "" && !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	f.scenarioDefaults("compare")
	o, err := options(ctx, f, line, workerArgv)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
	}
	co := compare.Options{
		Peers: splitList(f.peers), Scenarios: splitList(f.scenarios), Base: o,
		Root: root, Out: out, Command: command, ReportDir: f.reportDir, Log: stderr,
	}
	for _, sc := range co.Scenarios {
		if !slices.Contains(scenario.Names, sc) {
			fmt.Fprintf(stderr, "loadtest: unknown scenario %q in -scenarios\n", sc)
			return 2
		}
	}
	outs, err := compare.Run(ctx, co)
	line.Stop()
	status := 0
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		status = 1
	}
	var all []*report.Result
	for _, oc := range outs {
		if oc.Err != nil {
			status = 1
		}
		for _, sc := range co.Scenarios {
			if r := oc.Results[sc]; r != nil {
				all = append(all, r)
				if len(r.WorkerFailures) > 0 {
					status = 1
				}
			}
		}
	}
	if f.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(all)
	} else if out != "" {
		fmt.Fprintln(stdout, "compare: table written to", out)
	}
	return status
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// runAbuse runs the abuse scenario.
func runAbuse(ctx context.Context, f *flags, command string, stdout, stderr io.Writer) int {
	a := f.abuse
	o := abuse.Options{
		Cases: splitList(a.cases),
		Sizes: abuse.Sizes{
			Flood: a.flood, PingFlood: a.pingFlood, Repeat: a.repeat, Channels: a.channels, StormClients: a.stormClients,
			Names: a.names, Protocol: a.protocol, Slowloris: a.slowloris, HalfOpen: a.halfOpen,
			NoRead: a.noRead, Readers: a.readers, Publish: a.publish, PublishSize: a.pubSz,
			Churn: a.churn, ChurnConc: a.churnConc, Panics: a.panics, Blockers: a.blocks, BlockMsgs: a.blockMsgs,
			Trickle: a.trickle,
		},
		ProbeEvery: a.probeEvery, Liveness: a.liveness, Timeout: f.timeout,
		ReturnWithin: a.returnWithin, CaseTime: a.caseTime, MaxTime: f.maxTime,
		AllowRemote: f.allowRemote,
	}
	if !f.quiet {
		o.Log = stderr
	}
	if f.set["hold"] {
		o.Sizes.Hold = f.hold
	}
	if a.offenders != "" {
		src, err := parseSources(a.offenders)
		if err != nil || len(src) == 0 {
			fmt.Fprintln(stderr, "loadtest: -offenders:", err)
			return 2
		}
		o.Offenders = src
	}
	if f.set["url"] {
		o.URL, o.ServerPID, o.StatsURL = f.url, f.pid, f.statsURL
	} else {
		root := f.repo
		if root == "" {
			wd, err := os.Getwd()
			if err == nil {
				root, err = compare.RepoRoot(wd)
			}
			if err != nil {
				fmt.Fprintln(stderr, "loadtest:", err)
				return 2
			}
		}
		o.Root = root
	}
	res, err := abuse.Run(ctx, o)
	if res == nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	res.Command = command
	status := 0
	if err != nil {
		fmt.Fprintln(stderr, "loadtest: run stopped:", err)
		status = 1
	}
	if res.Abuse.Failed > 0 {
		status = 1
	}
	if err := emit(res, f, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	return status
}

// runCluster runs the cluster scenario.
func runCluster(ctx context.Context, f *flags, command string, stdout, stderr io.Writer, line *progress.Line, workerArgv []string) int {
	root := f.repo
	if root == "" {
		wd, err := os.Getwd()
		if err == nil {
			root, err = compare.RepoRoot(wd)
		}
		if err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 2
		}
	}
	f.scenarioDefaults("cluster")
	o, err := options(ctx, f, line, workerArgv)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
	}
	c := f.cluster
	o.Cluster = scenario.ClusterOptions{
		Root: root, Servers: c.servers, Targets: splitList(c.targets), Redis: c.redis,
		Broadcasts: c.broadcasts, StreamMsgs: c.streamMsgs, StreamRate: c.streamRate,
		ReconnectEvery: c.reconnectEvery, PingInterval: c.pingInterval, PongTimeout: c.pongTimeout, ShutdownTimeout: c.shutdownTimeout,
		MinAvailable: int64(c.minAvailable) << 20,
		ServerArgs:   strings.Fields(c.serverArgs), ServerEnv: splitList(c.serverEnv), FloorArgs: strings.Fields(c.floorArgs),
		TimerSlack: c.timerSlack,
	}
	o.Cluster.Log = logLine{line, stderr} // a line per phase, -quiet or not
	if f.reportDir != "" {
		o.Cluster.LogDir = filepath.Join(f.reportDir, "logs")
	}
	res, err := scenario.RunCluster(ctx, o)
	line.Stop()
	if res == nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	res.Command = command
	status := 0
	if err != nil {
		fmt.Fprintln(stderr, "loadtest: run stopped:", err)
		status = 1
	}
	for _, t := range res.Cluster.Targets {
		if t.Aborted != "" || len(t.WorkerFailures) > 0 {
			status = 1
		}
	}
	if err := emit(res, f, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	return status
}

// logLine writes log lines above the progress line: it erases the line,
// writes, and lets the line redraw at its next tick.
type logLine struct {
	line *progress.Line
	w    io.Writer
}

func (l logLine) Write(p []byte) (int, error) {
	l.line.Clear()
	return l.w.Write(p)
}
