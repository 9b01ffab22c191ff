package provider

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"os"
	rtmetrics "runtime/metrics"
	"slices"
	"strconv"
	"strings"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/surge-ws/ws/hub"
)

// metricsContentType is Prometheus's text exposition format, version 0.0.4.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// metrics returns the /metrics handler: the hubs' counters (hub.Metrics) and
// the HTTP hosts' (refused handshakes, connections), read at scrape time —
// nothing is counted per message for Prometheus, and the hubs' own
// per-message counters are sharded — plus the Go runtime's and the
// process's. It writes Prometheus's text format itself (the ws_* metrics)
// and through github.com/VictoriaMetrics/metrics (go_* and process_*);
// nothing is registered in that package's global sets, so two Apps in one
// process do not see each other's hubs.
func (a *App) metrics() http.Handler {
	var hubs []*hub.Hub
	var hosts []*HTTPHost
	for _, p := range a.providers {
		switch v := p.(type) {
		case *HubsProvider:
			hubs = append(hubs, v.hubs...)
		case *HTTPHost:
			hosts = append(hosts, v)
		}
	}
	// The go_* and process_* metrics carry their # HELP and # TYPE lines
	// only with the package's metadata switch on. The switch is
	// process-wide, but every App wants it on, and it only adds comments.
	vm.ExposeMetadata(true)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", metricsContentType)
		writeRuntimeMetrics(w)
		writeHubMetrics(w, hubs, hosts)
	})
}

// writeHubMetrics writes the ws_* families, sorted by name as Prometheus's
// client wrote them, with the labels of a series in name order.
func writeHubMetrics(w io.Writer, hubs []*hub.Hub, hosts []*HTTPHost) {
	type hubMetrics struct {
		name string
		m    hub.Metrics
	}
	ms := make([]hubMetrics, len(hubs))
	for i, h := range hubs {
		ms[i] = hubMetrics{h.Name(), h.Metrics()}
	}
	// The HTTP hosts' counters, summed over the hosts (an App normally has one).
	var hostConns uint64
	refused := map[int]uint64{}
	started := false
	for _, host := range hosts {
		host.mu.Lock()
		srv := host.srv
		host.mu.Unlock()
		if srv == nil {
			continue
		}
		started = true
		for status, n := range srv.Rejected() {
			refused[status] += n
		}
		hostConns += uint64(srv.Len())
	}

	e := &exposition{w: w}
	perHub := func(name, typ, help string, v func(*hub.Metrics) uint64) {
		e.family("ws_"+name, typ, help)
		for i := range ms {
			e.sample(v(&ms[i].m), "hub", ms[i].name)
		}
	}
	byCode := func(name, help string, v func(*hub.Metrics) map[int]uint64) {
		e.family("ws_"+name, "counter", help)
		for i := range ms {
			m := v(&ms[i].m)
			for _, code := range slices.Sorted(maps.Keys(m)) {
				e.sample(m[code], "code", strconv.Itoa(code), "hub", ms[i].name)
			}
		}
	}
	byName := func(name, label, help string, v func(*hub.Metrics) map[string]uint64) {
		e.family("ws_"+name, "counter", help)
		for i := range ms {
			m := v(&ms[i].m)
			for _, k := range slices.Sorted(maps.Keys(m)) {
				e.sample(m[k], "hub", ms[i].name, label, k) // label > "hub" in the families below
			}
		}
	}
	perHub("broker_errors_total", "counter", "Broker publishes that failed.",
		func(m *hub.Metrics) uint64 { return m.BrokerErrors })
	perHub("broker_published_total", "counter", "Packets handed to the Broker.",
		func(m *hub.Metrics) uint64 { return m.BrokerPublished })
	perHub("broker_received_total", "counter", "Packets from other nodes delivered here.",
		func(m *hub.Metrics) uint64 { return m.BrokerReceived })
	perHub("bytes_in_total", "counter", "Bytes received from clients, frame headers included.",
		func(m *hub.Metrics) uint64 { return m.BytesIn })
	perHub("bytes_out_total", "counter", "Bytes queued to clients, frame headers included.",
		func(m *hub.Metrics) uint64 { return m.BytesOut })
	perHub("channels", "gauge", "Channels with at least one subscriber on this node.",
		func(m *hub.Metrics) uint64 { return uint64(m.Channels) })
	byCode("closes_total", "Closed connections by close code (0: another code).",
		func(m *hub.Metrics) map[int]uint64 { return m.Closes })
	perHub("connections", "gauge", "Open WebSocket connections of this node.",
		func(m *hub.Metrics) uint64 { return uint64(m.Clients) })
	perHub("frames_dropped_total", "counter", "Frames a client's send queue refused (full or closed).",
		func(m *hub.Metrics) uint64 { return m.Dropped })
	if started {
		e.family("ws_http_connections", "gauge", "Connections the HTTP host holds (WebSocket, handshaking and plain HTTP).")
		e.sample(hostConns)
	}
	e.family("ws_http_handshakes_refused_total", "counter", "Handshakes the HTTP host refused, by HTTP status (malformed, no endpoint, per-address limits).")
	for _, status := range slices.Sorted(maps.Keys(refused)) {
		e.sample(refused[status], "status", strconv.Itoa(status))
	}
	byName("limit_hits_total", "limit", "Limit hits by the Config field's toml name.",
		func(m *hub.Metrics) map[string]uint64 { return m.Limits })
	perHub("messages_in_total", "counter", "Messages received from clients.",
		func(m *hub.Metrics) uint64 { return m.MessagesIn })
	perHub("messages_out_total", "counter", "Messages queued to clients, one per recipient.",
		func(m *hub.Metrics) uint64 { return m.MessagesOut })
	byCode("replies_total", "Responses and error pushes by status code (0: another code).",
		func(m *hub.Metrics) map[int]uint64 { return m.Replies })
	perHub("send_buffer_overflows_total", "counter", `Clients closed with 1008 "send buffer full".`,
		func(m *hub.Metrics) uint64 { return m.SlowClients })
	byName("upgrades_refused_total", "reason", "Upgrades the hub refused, by reason.",
		func(m *hub.Metrics) map[string]uint64 { return m.Rejected })
	e.flush()
}

// exposition writes Prometheus's text format: a family's # HELP and # TYPE
// lines go out with its first sample, so a family without samples is left
// out, as Prometheus's client left it out.
type exposition struct {
	w               io.Writer
	b               []byte
	name, typ, help string
	headerWritten   bool
}

func (e *exposition) family(name, typ, help string) {
	e.name, e.typ, e.help, e.headerWritten = name, typ, help, false
	if len(e.b) > 4096 {
		e.flush()
	}
}

// sample writes a sample of the current family; labels are name, value
// pairs in name order.
func (e *exposition) sample(v uint64, labels ...string) {
	if !e.headerWritten {
		e.headerWritten = true
		e.b = append(e.b, "# HELP "...)
		e.b = append(e.b, e.name...)
		e.b = append(e.b, ' ')
		e.b = append(e.b, e.help...) // no backslash or newline to escape
		e.b = append(e.b, "\n# TYPE "...)
		e.b = append(e.b, e.name...)
		e.b = append(e.b, ' ')
		e.b = append(e.b, e.typ...)
		e.b = append(e.b, '\n')
	}
	e.b = append(e.b, e.name...)
	for i := 0; i+1 < len(labels); i += 2 {
		if i == 0 {
			e.b = append(e.b, '{')
		} else {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, labels[i]...)
		e.b = append(e.b, `="`...)
		e.b = appendLabelValue(e.b, labels[i+1])
		e.b = append(e.b, '"')
	}
	if len(labels) > 1 {
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, ' ')
	e.b = strconv.AppendUint(e.b, v, 10)
	e.b = append(e.b, '\n')
}

func (e *exposition) flush() {
	if len(e.b) > 0 {
		_, _ = e.w.Write(e.b)
		e.b = e.b[:0]
	}
}

// appendLabelValue escapes a label value as the text format wants: \\, \"
// and \n.
func appendLabelValue(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// writeRuntimeMetrics writes the go_* and process_* metrics:
// VictoriaMetrics/metrics's, whose empty # HELP lines get the text
// Prometheus's client gave the same names (runtimeHelp), and the few that
// client exposed and that package does not (Go settings, network bytes,
// the address-space limit), under the client's names.
func writeRuntimeMetrics(w io.Writer) {
	var lib bytes.Buffer
	vm.WriteGoMetrics(&lib)
	e := &exposition{w: &lib}
	writeGoSettings(e)
	e.flush()
	vm.WriteProcMetrics(&lib)
	vm.WriteFDMetrics(&lib)
	writeProcessExtras(e)
	e.flush()

	out := make([]byte, 0, lib.Len()+len(runtimeHelp)*64)
	for line := range bytes.Lines(lib.Bytes()) {
		if name, ok := bytes.CutPrefix(line, []byte("# HELP ")); ok {
			if help, ok := runtimeHelp[string(bytes.TrimSuffix(name, []byte("\n")))]; ok {
				out = append(out, bytes.TrimSuffix(line, []byte("\n"))...)
				out = append(out, ' ')
				out = append(out, help...)
				out = append(out, '\n')
				continue
			}
		}
		out = append(out, line...)
	}
	_, _ = w.Write(out)
}

// writeGoSettings writes the runtime settings Prometheus's Go collector
// exposed: GOGC, GOMEMLIMIT and GOMAXPROCS.
func writeGoSettings(e *exposition) {
	samples := []rtmetrics.Sample{
		{Name: "/gc/gogc:percent"},
		{Name: "/gc/gomemlimit:bytes"},
		{Name: "/sched/gomaxprocs:threads"},
	}
	rtmetrics.Read(samples)
	for i, f := range [...]struct{ name, help string }{
		{"go_gc_gogc_percent", "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC environment variable, and the runtime/debug.SetGCPercent function. Sourced from /gc/gogc:percent."},
		{"go_gc_gomemlimit_bytes", "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from /gc/gomemlimit:bytes."},
		{"go_sched_gomaxprocs_threads", "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute user-level Go code simultaneously. Sourced from /sched/gomaxprocs:threads."},
	} {
		if samples[i].Value.Kind() == rtmetrics.KindUint64 {
			e.family(f.name, "gauge", f.help)
			e.sample(samples[i].Value.Uint64())
		}
	}
}

// writeProcessExtras writes the process metrics of Prometheus's process
// collector that VictoriaMetrics/metrics lacks: the network namespace's
// bytes (all interfaces) and the address-space limit. Without /proc (not
// Linux) they are left out.
func writeProcessExtras(e *exposition) {
	if data, err := os.ReadFile("/proc/self/net/dev"); err == nil {
		var rx, tx uint64
		for _, line := range strings.Split(string(data), "\n") {
			_, counters, ok := strings.Cut(line, ":") // "  eth0: rxbytes rxpackets ... txbytes ..."
			if !ok {
				continue
			}
			f := strings.Fields(counters)
			if len(f) < 9 {
				continue
			}
			r, _ := strconv.ParseUint(f[0], 10, 64)
			t, _ := strconv.ParseUint(f[8], 10, 64)
			rx, tx = rx+r, tx+t
		}
		e.family("process_network_receive_bytes_total", "counter", "Number of bytes received by the process over the network.")
		e.sample(rx)
		e.family("process_network_transmit_bytes_total", "counter", "Number of bytes sent by the process over the network.")
		e.sample(tx)
	}
	if data, err := os.ReadFile("/proc/self/limits"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			rest, ok := strings.CutPrefix(line, "Max address space")
			if f := strings.Fields(rest); ok && len(f) > 0 {
				limit := uint64(1<<64 - 1) // unlimited
				if f[0] != "unlimited" {
					if limit, err = strconv.ParseUint(f[0], 10, 64); err != nil {
						break
					}
				}
				e.family("process_virtual_memory_max_bytes", "gauge", "Maximum amount of virtual memory available in bytes.")
				e.sample(limit)
				break
			}
		}
	}
}

// runtimeHelp is the # HELP text Prometheus's client gave the go_* and
// process_* metrics that VictoriaMetrics/metrics writes under the same name.
var runtimeHelp = map[string]string{
	"go_gc_duration_seconds":           "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.",
	"go_goroutines":                    "Number of goroutines that currently exist.",
	"go_info":                          "Information about the Go environment.",
	"go_memstats_alloc_bytes":          "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes.",
	"go_memstats_alloc_bytes_total":    "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.",
	"go_memstats_buck_hash_sys_bytes":  "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes.",
	"go_memstats_frees_total":          "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.",
	"go_memstats_gc_sys_bytes":         "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes.",
	"go_memstats_heap_alloc_bytes":     "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.",
	"go_memstats_heap_idle_bytes":      "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.",
	"go_memstats_heap_inuse_bytes":     "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes",
	"go_memstats_heap_objects":         "Number of currently allocated objects. Equals to /gc/heap/objects:objects.",
	"go_memstats_heap_released_bytes":  "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.",
	"go_memstats_heap_sys_bytes":       "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.",
	"go_memstats_last_gc_time_seconds": "Number of seconds since 1970 of last garbage collection.",
	"go_memstats_mallocs_total":        "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.",
	"go_memstats_mcache_inuse_bytes":   "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes.",
	"go_memstats_mcache_sys_bytes":     "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.",
	"go_memstats_mspan_inuse_bytes":    "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes.",
	"go_memstats_mspan_sys_bytes":      "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.",
	"go_memstats_next_gc_bytes":        "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.",
	"go_memstats_other_sys_bytes":      "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes.",
	"go_memstats_stack_inuse_bytes":    "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.",
	"go_memstats_stack_sys_bytes":      "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes.",
	"go_memstats_sys_bytes":            "Number of bytes obtained from system. Equals to /memory/classes/total:byte.",
	"go_threads":                       "Number of OS threads created.",
	"process_cpu_seconds_total":        "Total user and system CPU time spent in seconds.",
	"process_max_fds":                  "Maximum number of open file descriptors.",
	"process_open_fds":                 "Number of open file descriptors.",
	"process_resident_memory_bytes":    "Resident memory size in bytes.",
	"process_start_time_seconds":       "Start time of the process since unix epoch in seconds.",
	"process_virtual_memory_bytes":     "Virtual memory size in bytes.",
}
