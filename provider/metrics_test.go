package provider

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/surge-ws/ws/hub"
)

// /metrics, scraped after a fan-out, shows what the clients counted.
func TestMetricsMatchWhatClientsCounted(t *testing.T) {
	app, web, _ := testApp(t)
	r := startApp(t, app, web)
	const subs, msgs = 10, 30
	clients := make([]*wsClient, subs)
	for i := range clients {
		clients[i] = dial(t, r.url("ws", "/ws"))
		clients[i].send(`{"id":"s","event":"subscribe","channel":"room"}`)
		clients[i].next("subscribe reply")
	}
	pub := dial(t, r.url("ws", "/ws"))
	for i := range msgs {
		pub.send(fmt.Sprintf(`{"id":"%d","event":"chat.message","data":%d}`, i, i))
		pub.next("publish reply")
	}
	got := 0
	for _, c := range clients {
		for range msgs {
			c.next("a published message")
			got++
		}
	}
	_, body := get(t, r.url("http", "/metrics"))
	want := map[string]int{
		`ws_connections{hub="default"}`:                           subs + 1,
		`ws_messages_in_total{hub="default"}`:                     subs + msgs,
		`ws_messages_out_total{hub="default"}`:                    subs + msgs + got, // replies + deliveries
		`ws_replies_total{code="200",hub="default"}`:              subs + msgs,
		`ws_channels{hub="default"}`:                              1,
		`ws_limit_hits_total{hub="default",limit="message_rate"}`: 0,
	}
	for series, n := range want {
		line := series + " " + fmt.Sprint(n)
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(body, "ws_"))
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The names Prometheus's Go client exposed on /metrics before the move to
// VictoriaMetrics/metrics; dashboards and loadtest's churn (go_goroutines)
// read them.
var clientGolangNames = []string{
	"go_gc_duration_seconds", "go_gc_gogc_percent", "go_gc_gomemlimit_bytes", "go_goroutines", "go_info",
	"go_memstats_alloc_bytes", "go_memstats_alloc_bytes_total", "go_memstats_buck_hash_sys_bytes",
	"go_memstats_frees_total", "go_memstats_gc_sys_bytes", "go_memstats_heap_alloc_bytes",
	"go_memstats_heap_idle_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_heap_objects",
	"go_memstats_heap_released_bytes", "go_memstats_heap_sys_bytes", "go_memstats_last_gc_time_seconds",
	"go_memstats_mallocs_total", "go_memstats_mcache_inuse_bytes", "go_memstats_mcache_sys_bytes",
	"go_memstats_mspan_inuse_bytes", "go_memstats_mspan_sys_bytes", "go_memstats_next_gc_bytes",
	"go_memstats_other_sys_bytes", "go_memstats_stack_inuse_bytes", "go_memstats_stack_sys_bytes",
	"go_memstats_sys_bytes", "go_sched_gomaxprocs_threads", "go_threads",
	"process_cpu_seconds_total", "process_max_fds", "process_network_receive_bytes_total",
	"process_network_transmit_bytes_total", "process_open_fds", "process_resident_memory_bytes",
	"process_start_time_seconds", "process_virtual_memory_bytes", "process_virtual_memory_max_bytes",
	"ws_broker_errors_total", "ws_broker_published_total", "ws_broker_received_total", "ws_bytes_in_total",
	"ws_bytes_out_total", "ws_channels", "ws_closes_total", "ws_connections", "ws_frames_dropped_total",
	"ws_http_connections", "ws_limit_hits_total", "ws_messages_in_total", "ws_messages_out_total",
	"ws_replies_total", "ws_send_buffer_overflows_total", "ws_upgrades_refused_total",
}

// /metrics is Prometheus's text format, version 0.0.4: every family has one
// # HELP and one # TYPE line ahead of its samples, which follow one another;
// every value is a number; the client library's names are all there, with
// their help and type.
func TestMetricsExposition(t *testing.T) {
	app, web, _ := testApp(t)
	r := startApp(t, app, web)
	dial(t, r.url("ws", "/ws")) // a connection, so the gauges are not all 0
	resp, err := http.Get(r.url("http", "/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	fams, err := parseExposition(string(body))
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	for _, name := range clientGolangNames {
		f := fams[name]
		switch {
		case f == nil:
			t.Errorf("no %s", name)
		case f.help == "":
			t.Errorf("%s: empty # HELP", name)
		case f.typ != wantType(name):
			t.Errorf("%s: # TYPE %s, want %s", name, f.typ, wantType(name))
		case f.samples == 0:
			t.Errorf("%s: no samples", name)
		}
	}
	if f := fams["ws_connections"]; f == nil || f.values[`ws_connections{hub="default"}`] != 1 {
		t.Errorf("ws_connections: %+v", f)
	}
	if f := fams["go_goroutines"]; f == nil || f.values["go_goroutines"] < 1 {
		t.Errorf("go_goroutines: %+v", f)
	}
}

func wantType(name string) string {
	switch {
	case name == "go_gc_duration_seconds":
		return "summary"
	case strings.HasSuffix(name, "_total"):
		return "counter"
	}
	return "gauge"
}

// Two Apps in one process: each /metrics shows its own hubs only.
func TestMetricsOfTwoApps(t *testing.T) {
	scrape := func(hubName string) string {
		h := hub.New(hubName, hub.Config{})
		app := New(Args())
		app.Install(HTTP(Addr("127.0.0.1:0")), Hubs(h))
		rec := httptest.NewRecorder()
		app.metrics().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	a, b := scrape("alpha"), scrape("beta")
	if !strings.Contains(a, "\n"+`ws_connections{hub="alpha"} 0`+"\n") || strings.Contains(a, `hub="beta"`) {
		t.Errorf("first App's /metrics:\n%s", grepLines(a, "ws_"))
	}
	if !strings.Contains(b, "\n"+`ws_connections{hub="beta"} 0`+"\n") || strings.Contains(b, `hub="alpha"`) {
		t.Errorf("second App's /metrics:\n%s", grepLines(b, "ws_"))
	}
	if strings.Contains(a, "ws_http_connections") {
		t.Error("ws_http_connections of a host that never started")
	}
}

type family struct {
	hasHelp   bool
	help, typ string
	samples   int
	values    map[string]float64 // series -> value
}

// parseExposition checks the text format as a scraper reads it and returns
// the families by name.
func parseExposition(s string) (map[string]*family, error) {
	if !strings.HasSuffix(s, "\n") {
		return nil, fmt.Errorf("no newline at the end")
	}
	fams := map[string]*family{}
	var cur string // the family whose lines these are
	done := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if c, ok := strings.CutPrefix(line, "# "); ok {
			kind, rest, _ := strings.Cut(c, " ")
			name, text, _ := strings.Cut(rest, " ")
			f := fams[name]
			if f == nil {
				if cur != "" {
					done[cur] = true
				}
				if done[name] {
					return nil, fmt.Errorf("line %d: %s again after other families", i+1, name)
				}
				f = &family{values: map[string]float64{}}
				fams[name], cur = f, name
			} else if name != cur || f.samples > 0 {
				return nil, fmt.Errorf("line %d: %s: metadata after its samples", i+1, name)
			}
			switch kind {
			case "HELP":
				if f.hasHelp {
					return nil, fmt.Errorf("line %d: second # HELP for %s", i+1, name)
				}
				f.hasHelp, f.help = true, text
			case "TYPE":
				if f.typ != "" {
					return nil, fmt.Errorf("line %d: second # TYPE for %s", i+1, name)
				}
				f.typ = text
			default:
				return nil, fmt.Errorf("line %d: comment %q", i+1, line)
			}
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("line %d: %q has no value", i+1, line)
		}
		series, value := line[:sp], line[sp+1:]
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: value %q", i+1, value)
		}
		name, _, _ := strings.Cut(series, "{")
		f := fams[cur]
		if f == nil || !(name == cur || strings.HasPrefix(name, cur+"_") && f.typ != "gauge" && f.typ != "counter") {
			return nil, fmt.Errorf("line %d: %s outside its family (in %q)", i+1, name, cur)
		}
		if f.typ == "" {
			return nil, fmt.Errorf("line %d: %s has no # TYPE", i+1, name)
		}
		if _, dup := f.values[series]; dup {
			return nil, fmt.Errorf("line %d: %s twice", i+1, series)
		}
		f.values[series] = v
		f.samples++
	}
	for name, f := range fams {
		if !f.hasHelp {
			return nil, fmt.Errorf("%s: no # HELP", name)
		}
	}
	return fams, nil
}
