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
