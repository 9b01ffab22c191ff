package report

import (
	"fmt"
	"sort"
	"strings"
)

// Row is one line of a result table.
type Row struct{ Label, Value string }

// Rows lays a result out as label/value rows, in reading order.
func Rows(r *Result) []Row {
	var rows []Row
	add := func(label, format string, args ...any) {
		rows = append(rows, Row{label, fmt.Sprintf(format, args...)})
	}
	conn := fmt.Sprintf("%d connected, %d failed", r.Connected, r.Failed)
	if r.Subscribed > 0 {
		conn += fmt.Sprintf(", %d subscribed", r.Subscribed)
	}
	if r.ConnectRate != nil {
		conn += fmt.Sprintf(" (%.0f/s)", *r.ConnectRate)
	}
	add("connections", "%s", conn)
	if r.HandshakeP50Ms != nil && r.Scenario != "idle" { // idle's headline latency is the handshake
		add("handshake", "p50 %s  p99 %s", msStr(r.HandshakeP50Ms), msStr(r.HandshakeP99Ms))
	}
	if r.Messages > 0 && r.Mode != "" {
		add("messages", "%d, %s", r.Messages, r.Mode)
	}
	if r.DeliveriesExpected > 0 || r.Deliveries > 0 {
		v := fmt.Sprintf("%d of %d expected", r.Deliveries, r.DeliveriesExpected)
		if r.Deliveries < r.DeliveriesExpected {
			v += fmt.Sprintf("  MISSING %d", r.DeliveriesExpected-r.Deliveries)
		}
		if r.DeliveriesPerSec != nil {
			v += fmt.Sprintf("  (%.0f/s)", *r.DeliveriesPerSec)
		}
		add("deliveries", "%s", v)
	}
	if r.Incomplete > 0 {
		add("incomplete", "%d messages did not reach every subscriber", r.Incomplete)
	}
	if r.RoundTripsPerSec != nil {
		add("round trips", "%d (%.0f/s)", r.RoundTrips, *r.RoundTripsPerSec)
	}
	if r.P50Ms != nil {
		add("latency", "p50 %s  p99 %s  max %s", msStr(r.P50Ms), msStr(r.P99Ms), msStr(r.MaxMs))
		add("", "%s", r.Latency)
	}
	if r.DeliveryP50Ms != nil {
		add("per delivery", "p50 %s  p99 %s", msStr(r.DeliveryP50Ms), msStr(r.DeliveryP99Ms))
	}
	rows = append(rows, serverRows(r)...)
	rows = append(rows, clientRows(r)...)
	if c := r.Churn; c != nil {
		rows = append(rows, churnRows(c)...)
	}
	if s := r.Slow; s != nil {
		rows = append(rows, slowRows(s)...)
	}
	if r.Dropped > 0 {
		add("dropped", "%d connections closed by the server or network", r.Dropped)
	}
	if r.OutOfOrder > 0 {
		add("out of order", "%d packets", r.OutOfOrder)
	}
	if r.Unexpected > 0 {
		add("unexpected", "%d messages that were neither replies nor the fan-out's packets", r.Unexpected)
	}
	for _, e := range sortedErrors(r.Errors) {
		add("error", "%s", e)
	}
	for _, f := range r.WorkerFailures {
		add("WORKER FAILED", "%s", f)
	}
	for _, n := range r.Notes {
		add("note", "%s", n)
	}
	return rows
}

func serverRows(r *Result) []Row {
	var rows []Row
	add := func(label, format string, args ...any) {
		rows = append(rows, Row{label, fmt.Sprintf(format, args...)})
	}
	if r.ServerPID == 0 {
		add("server", "n/a (pass -server-pid)")
		return rows
	}
	if r.ServerCPUSec != nil {
		v := fmt.Sprintf("%.2f s CPU (%.2f s user, %.2f s system) during %s", *r.ServerCPUSec, deref(r.ServerUserCPUSec), deref(r.ServerSysCPUSec), r.Window)
		add("server CPU", "%s", v)
	}
	if r.ServerCPUPerRoundTripUs != nil {
		add("server CPU/op", "%s per round trip (user %s)", usStr(r.ServerCPUPerRoundTripUs), usStr(r.ServerUserCPUPerRoundTripUs))
	} else if r.ServerCPUPerDeliveryUs != nil {
		add("server CPU/op", "%s per delivery (user %s)", usStr(r.ServerCPUPerDeliveryUs), usStr(r.ServerUserCPUPerDeliveryUs))
	}
	if r.ServerRSSBefore != nil {
		v := fmt.Sprintf("RSS %s -> %s", bytesStr(float64(*r.ServerRSSBefore)), bytesStr(float64(*r.ServerRSSAfter)))
		if r.ServerRSSPerConn != nil {
			v += fmt.Sprintf(": %s per connection", bytesStr(*r.ServerRSSPerConn))
		}
		add("server memory", "%s", v)
	}
	if r.MemPerConnTotal != nil {
		if d := *r.MemAvailableDelta; d >= 0 {
			add("machine memory", "MemAvailable fell %s: %s per connection (kernel + server + client)",
				bytesStr(float64(d)), bytesStr(*r.MemPerConnTotal))
		} else {
			add("machine memory", "MemAvailable rose %s: not usable (see notes)", bytesStr(float64(-d)))
		}
	}
	return rows
}

func clientRows(r *Result) []Row {
	var parts []string
	if r.ClientRSSPerConn != nil {
		parts = append(parts, fmt.Sprintf("RSS %s per connection", bytesStr(*r.ClientRSSPerConn)))
	}
	if r.ClientCPUSec != nil {
		parts = append(parts, fmt.Sprintf("%.2f s CPU (%.2f s user)", *r.ClientCPUSec, deref(r.ClientUserCPUSec)))
	}
	if r.ClientCPUPerDeliveryUs != nil {
		parts = append(parts, fmt.Sprintf("%s per delivery", usStr(r.ClientCPUPerDeliveryUs)))
	}
	if len(parts) == 0 {
		return nil
	}
	return []Row{{"client (ours)", strings.Join(parts, ", ") + fmt.Sprintf(" over %d process(es)", r.Procs)}}
}

func churnRows(c *Churn) []Row {
	rows := []Row{{"cycles", fmt.Sprintf("%d at %g/s, %d failed, %d late", c.Cycles, c.Rate, c.Failed, c.Late)}}
	if c.FDsBefore != nil {
		rows = append(rows, Row{"server fds", fmt.Sprintf("%d -> %d  %s", *c.FDsBefore, *c.FDsAfter, returned(c.FDsReturned))})
		rows = append(rows, Row{"server RSS", fmt.Sprintf("%s -> %s  %s", bytesStr(float64(*c.RSSBefore)), bytesStr(float64(*c.RSSAfter)), returned(c.RSSReturned))})
	} else {
		rows = append(rows, Row{"server fds", "n/a (pass -server-pid)"})
	}
	if c.GoroutinesBefore != nil {
		rows = append(rows, Row{"goroutines", fmt.Sprintf("%.0f -> %.0f  %s", *c.GoroutinesBefore, *c.GoroutinesAfter, returned(c.GoroutinesReturned))})
	} else {
		rows = append(rows, Row{"goroutines", "skipped (no -stats-url)"})
	}
	return rows
}

func slowRows(s *Slow) []Row {
	rows := []Row{
		{"slow subscribers", fmt.Sprintf("%d (never read after subscribing); %d closed by the server", s.SlowConns, s.ClosedByServer)},
		{"others, baseline", fmt.Sprintf("p50 %s  p99 %s  max %s", msStr(s.BaselineP50Ms), msStr(s.BaselineP99Ms), msStr(s.BaselineMaxMs))},
		{"others, with slow", fmt.Sprintf("p50 %s  p99 %s  max %s", msStr(s.WithSlowP50Ms), msStr(s.WithSlowP99Ms), msStr(s.WithSlowMaxMs))},
	}
	if s.ServerRSSPeak != nil {
		v := "peak RSS " + bytesStr(float64(*s.ServerRSSPeak))
		if s.PeakPerSlow != nil {
			v += fmt.Sprintf(" (%s per slow subscriber above the start of the phase)", bytesStr(*s.PeakPerSlow))
		}
		rows = append(rows, Row{"server memory", v})
	}
	rows = append(rows, Row{"buffered", fmt.Sprintf("%s in kernel buffers for the slow subscribers (both ends); %s of data published to each", bytesStr(float64(s.BytesBuffered)), bytesStr(float64(s.PayloadBytes)))})
	return rows
}

func returned(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "(back to baseline)"
	}
	return "(NOT back to baseline)"
}

func sortedErrors(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s (x%d)", k, v))
	}
	sort.Strings(out)
	return out
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func msStr(p *float64) string {
	if p == nil {
		return "n/a"
	}
	switch v := *p; {
	case v < 1:
		return fmt.Sprintf("%.3f ms", v)
	case v < 100:
		return fmt.Sprintf("%.2f ms", v)
	default:
		return fmt.Sprintf("%.0f ms", v)
	}
}

func usStr(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2f µs", *p)
}

// bytesStr formats a byte count with binary units.
func bytesStr(v float64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := ""
	switch {
	case v < 1024:
		s = fmt.Sprintf("%.0f B", v)
	case v < 1<<20:
		s = fmt.Sprintf("%.2f KiB", v/1024)
	case v < 1<<30:
		s = fmt.Sprintf("%.1f MiB", v/(1<<20))
	default:
		s = fmt.Sprintf("%.2f GiB", v/(1<<30))
	}
	if neg {
		return "-" + s
	}
	return s
}
