package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/hist"
)

func sample(t *testing.T) *Result {
	t.Helper()
	h := hist.New()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * 10 * time.Microsecond)
	}
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return &Result{
		Scenario: "fanout", URL: "ws://127.0.0.1:8080/ws", Started: time.Unix(1700000000, 0), Elapsed: 1.5,
		Procs: 1, N: 500, Connected: 500, Subscribed: 500, ConnectRate: F(5000),
		Mode: "one at a time", Messages: 10, Deliveries: 4990, DeliveriesExpected: 5000, DeliveriesPerSec: F(50000),
		Latency: "per message", P50Ms: F(1.5), P99Ms: F(4.25), MaxMs: F(9),
		ServerPID: 42, Window: "publishing", ServerCPUSec: F(0.5), ServerUserCPUSec: F(0.1), ServerSysCPUSec: F(0.4),
		ServerCPUPerDeliveryUs: F(10), ServerUserCPUPerDeliveryUs: F(2),
		ServerRSSBefore: I(10 << 20), ServerRSSAfter: I(12 << 20), ServerRSSPerConn: F(4096),
		ClientRSSPerConn: F(3000), ClientCPUSec: F(0.2), ClientCPUPerDeliveryUs: F(4),
		Errors: map[string]int64{"dial: connect: connection refused": 3}, WorkerFailures: []string{"worker 1 (pid 9) died: exit status 3"},
		Histograms: map[string]hist.Snapshot{"per_message": snap, "delivery": snap},
	}
}

func TestTableShowsWhatMatters(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sample(t)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, s := range []string{
		"4990 of 5000 expected  MISSING 10", "p50 1.50 ms  p99 4.25 ms", "10.00 µs per delivery (user 2.00 µs)",
		"4.00 KiB per connection", "RSS 2.93 KiB per connection", "connection refused (x3)", "WORKER FAILED",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
}

func TestUnmeasuredIsNotZero(t *testing.T) {
	r := &Result{Scenario: "echo", URL: "ws://x/ws"}
	var b bytes.Buffer
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "n/a (pass -server-pid)") {
		t.Fatalf("missing server figures not flagged:\n%s", b.String())
	}
}

func TestMarkdownReportWithPlots(t *testing.T) {
	dir := t.TempDir()
	path, err := WriteMarkdown(dir, sample(t))
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"# loadtest fanout", "| deliveries | 4990 of 5000 expected", "![latency](fanout-latency.png)", "![memory](fanout-memory.png)", "machine:"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report lacks %q", s)
		}
	}
	for _, img := range []string{"fanout-latency.png", "fanout-memory.png"} {
		b, err := os.ReadFile(filepath.Join(dir, img))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 1000 || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s is not a PNG (%d bytes)", img, len(b))
		}
	}
}

func TestPlotLatencyNeedsData(t *testing.T) {
	if err := PlotLatency(filepath.Join(t.TempDir(), "x.png"), "x", []Series{{Name: "empty", Hist: hist.New()}}); err == nil {
		t.Fatal("plotted nothing without error")
	}
}
