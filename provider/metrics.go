package provider

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/surge-ws/ws/hub"
)

// metrics returns the /metrics handler: the App's hubs' counters, read at
// scrape time (nothing is counted per message for Prometheus: the hubs'
// own counters are sharded), plus the Go runtime's and the process's.
func (a *App) metrics() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	var hubs []*hub.Hub
	for _, p := range a.providers {
		if hp, ok := p.(*HubsProvider); ok {
			hubs = append(hubs, hp.hubs...)
		}
	}
	reg.MustRegister(hubCollector{hubs: hubs})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// hubCollector reads hub.Stats at each scrape.
type hubCollector struct{ hubs []*hub.Hub }

var hubLabels = []string{"hub"}

var (
	descClients     = prometheus.NewDesc("ws_connections", "Open WebSocket connections of this node.", hubLabels, nil)
	descChannels    = prometheus.NewDesc("ws_channels", "Channels with at least one subscriber on this node.", hubLabels, nil)
	descMsgsIn      = prometheus.NewDesc("ws_messages_in_total", "Messages received from clients.", hubLabels, nil)
	descMsgsOut     = prometheus.NewDesc("ws_messages_out_total", "Messages queued to clients (one per recipient).", hubLabels, nil)
	descBytesIn     = prometheus.NewDesc("ws_bytes_in_total", "Bytes received from clients, frame headers included.", hubLabels, nil)
	descBytesOut    = prometheus.NewDesc("ws_bytes_out_total", "Bytes queued to clients, frame headers included.", hubLabels, nil)
	descSlow        = prometheus.NewDesc("ws_send_buffer_overflows_total", "Clients closed with 1008 \"send buffer full\".", hubLabels, nil)
	descDropped     = prometheus.NewDesc("ws_frames_dropped_total", "Frames a client's send queue refused (full or closed).", hubLabels, nil)
	hubDescriptions = []*prometheus.Desc{descClients, descChannels, descMsgsIn, descMsgsOut, descBytesIn, descBytesOut, descSlow, descDropped}
)

func (c hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range hubDescriptions {
		ch <- d
	}
}

func (c hubCollector) Collect(ch chan<- prometheus.Metric) {
	for _, h := range c.hubs {
		s := h.Stats()
		name := h.Name()
		ch <- prometheus.MustNewConstMetric(descClients, prometheus.GaugeValue, float64(s.Clients), name)
		ch <- prometheus.MustNewConstMetric(descChannels, prometheus.GaugeValue, float64(s.Channels), name)
		ch <- prometheus.MustNewConstMetric(descMsgsIn, prometheus.CounterValue, float64(s.MessagesIn), name)
		ch <- prometheus.MustNewConstMetric(descMsgsOut, prometheus.CounterValue, float64(s.MessagesOut), name)
		ch <- prometheus.MustNewConstMetric(descBytesIn, prometheus.CounterValue, float64(s.BytesIn), name)
		ch <- prometheus.MustNewConstMetric(descBytesOut, prometheus.CounterValue, float64(s.BytesOut), name)
		ch <- prometheus.MustNewConstMetric(descSlow, prometheus.CounterValue, float64(s.SlowClients), name)
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(s.Dropped), name)
	}
}
