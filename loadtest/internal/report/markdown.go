package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/hist"
)

// WriteMarkdown writes <dir>/<scenario>.md with the result's table, the
// machine and command, and plots beside it: <scenario>-latency.png (every
// latency histogram of the run) and <scenario>-memory.png (bytes per
// connection, when measured). It returns the report's path.
func WriteMarkdown(dir string, r *Result) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	base := r.Scenario
	if r.Server != "" {
		base += "-" + r.Server
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# loadtest %s\n\n", r.Scenario)
	fmt.Fprintf(&b, "- target: `%s`%s\n", r.URL, serverSuffix(r))
	fmt.Fprintf(&b, "- date: %s\n", r.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "- machine: %s\n", Machine())
	if r.Command != "" {
		fmt.Fprintf(&b, "- command: `%s`\n", r.Command)
	}
	if r.Abuse != nil {
		fmt.Fprintf(&b, "- cases: %d, %d failed, run time %.1f s\n\n", len(r.Abuse.Cases), r.Abuse.Failed, r.Elapsed)
	} else if r.Cluster != nil {
		return writeClusterMarkdown(dir, base, &b, r)
	} else {
		fmt.Fprintf(&b, "- client processes: %d, connections asked: %d, run time %.1f s\n\n", r.Procs, r.N, r.Elapsed)
	}
	if r.Abuse != nil {
		b.WriteString(AbuseMarkdown(r.Abuse))
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- note: %s\n", mdEscape(n))
		}
	} else {
		b.WriteString("| | |\n|---|---|\n")
		for _, row := range Rows(r) {
			fmt.Fprintf(&b, "| %s | %s |\n", mdEscape(row.Label), mdEscape(row.Value))
		}
	}
	b.WriteString("\n")

	var series []Series
	for _, name := range []string{"per_message", "delivery", "round_trip", "cycle", "baseline_per_message", "with_slow_per_message", "handshake"} {
		snap, ok := r.Histograms[name]
		if !ok {
			continue
		}
		h, err := hist.Decode(snap)
		if err != nil {
			return "", err
		}
		series = append(series, Series{Name: strings.ReplaceAll(name, "_", " "), Hist: h})
	}
	if len(series) > 0 {
		img := base + "-latency.png"
		if err := PlotLatency(filepath.Join(dir, img), r.Scenario+": latency distribution", series); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "## Latency\n\n%s\n\n![latency](%s)\n\n", r.Latency, img)
	}
	if bars := memoryBars(r); len(bars) > 0 {
		img := base + "-memory.png"
		if err := PlotMemory(filepath.Join(dir, img), r.Scenario+": memory per connection", nil, [][]Bar{bars}); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "## Memory per connection\n\n![memory](%s)\n\n", img)
	}
	path := filepath.Join(dir, base+".md")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

func serverSuffix(r *Result) string {
	if r.Server == "" {
		return ""
	}
	return " (" + r.Server + ")"
}

// memoryBars returns the per-connection memory figures a run measured.
func memoryBars(r *Result) []Bar {
	var bars []Bar
	if r.ServerRSSPerConn != nil {
		bars = append(bars, Bar{"server RSS", *r.ServerRSSPerConn})
	}
	if r.ClientRSSPerConn != nil {
		bars = append(bars, Bar{"client RSS", *r.ClientRSSPerConn})
	}
	if r.MemPerConnTotal != nil {
		bars = append(bars, Bar{"machine (MemAvailable)", *r.MemPerConnTotal})
	}
	return bars
}

// writeClusterMarkdown finishes a cluster report: the deployment, the table
// and a timeline plot per target.
func writeClusterMarkdown(dir, base string, b *strings.Builder, r *Result) (string, error) {
	c := r.Cluster
	fmt.Fprintf(b, "- connections: %d over %d server processes per target (%s); %d client processes; run time %.1f s\n",
		r.N, c.Servers, c.Placement, c.ClientProcs, r.Elapsed)
	if c.Redis != "" {
		fmt.Fprintf(b, "- Redis: %s\n", c.Redis)
	}
	if c.PingPolicy != "" {
		fmt.Fprintf(b, "- ping policy: %s\n", c.PingPolicy)
	}
	if c.TimerSlack != "" {
		fmt.Fprintf(b, "- timer slack: %s\n", c.TimerSlack)
	}
	var ks []string
	for _, k := range c.Kernel {
		s := fmt.Sprintf("%s = %s", k.Name, k.Value)
		if k.Want != "" {
			s += fmt.Sprintf(" (below %s)", k.Want)
		}
		ks = append(ks, s)
	}
	fmt.Fprintf(b, "- kernel: %s\n\n", strings.Join(ks, "; "))
	b.WriteString(ClusterMarkdown(c))
	b.WriteString("\n")
	for _, t := range c.Targets {
		for _, e := range sortedErrors(t.Errors) {
			fmt.Fprintf(b, "- %s error: %s\n", t.Name, mdEscape(e))
		}
		for _, f := range t.WorkerFailures {
			fmt.Fprintf(b, "- %s worker failed: %s\n", t.Name, mdEscape(f))
		}
		if t.Aborted != "" {
			fmt.Fprintf(b, "- %s stopped: %s\n", t.Name, mdEscape(t.Aborted))
		}
		for _, n := range t.Notes {
			fmt.Fprintf(b, "- %s: %s\n", t.Name, mdEscape(n))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "- note: %s\n", mdEscape(n))
	}
	b.WriteString("\n")
	for _, t := range c.Targets {
		img := base + "-" + t.Name + ".png"
		if err := PlotClusterTimeline(filepath.Join(dir, img), fmt.Sprintf("cluster, %s: %d connections over %d processes", t.Name, r.N, t.Servers), t); err != nil {
			continue // too short a run to draw
		}
		fmt.Fprintf(b, "## %s over time\n\n![%s](%s)\n\n", t.Name, t.Name, img)
	}
	path := filepath.Join(dir, base+".md")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
