package provider

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/surge-ws/ws/hub"
)

// metrics returns the /metrics handler: the hubs' counters (hub.Metrics) and
// the HTTP hosts' (refused handshakes, connections), read at scrape time —
// nothing is counted per message for Prometheus, and the hubs' own
// per-message counters are sharded — plus the Go runtime's and the
// process's.
func (a *App) metrics() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	c := &collector{}
	for _, p := range a.providers {
		switch v := p.(type) {
		case *HubsProvider:
			c.hubs = append(c.hubs, v.hubs...)
		case *HTTPHost:
			c.hosts = append(c.hosts, v)
		}
	}
	reg.MustRegister(c)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

type collector struct {
	hubs  []*hub.Hub
	hosts []*HTTPHost
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("ws_"+name, help, append([]string{"hub"}, labels...), nil)
}

var (
	descClients   = desc("connections", "Open WebSocket connections of this node.")
	descChannels  = desc("channels", "Channels with at least one subscriber on this node.")
	descMsgsIn    = desc("messages_in_total", "Messages received from clients.")
	descMsgsOut   = desc("messages_out_total", "Messages queued to clients, one per recipient.")
	descBytesIn   = desc("bytes_in_total", "Bytes received from clients, frame headers included.")
	descBytesOut  = desc("bytes_out_total", "Bytes queued to clients, frame headers included.")
	descOverflow  = desc("send_buffer_overflows_total", "Clients closed with 1008 \"send buffer full\".")
	descDropped   = desc("frames_dropped_total", "Frames a client's send queue refused (full or closed).")
	descReplies   = desc("replies_total", "Responses and error pushes by status code (0: another code).", "code")
	descCloses    = desc("closes_total", "Closed connections by close code (0: another code).", "code")
	descRejected  = desc("upgrades_refused_total", "Upgrades the hub refused, by reason.", "reason")
	descLimits    = desc("limit_hits_total", "Limit hits by the Config field's toml name.", "limit")
	descPublished = desc("broker_published_total", "Packets handed to the Broker.")
	descPubErrors = desc("broker_errors_total", "Broker publishes that failed.")
	descReceived  = desc("broker_received_total", "Packets from other nodes delivered here.")
	descHandshake = prometheus.NewDesc("ws_http_handshakes_refused_total", "Handshakes the HTTP host refused, by HTTP status (malformed, no endpoint, per-address limits).", []string{"status"}, nil)
	descHostConns = prometheus.NewDesc("ws_http_connections", "Connections the HTTP host holds (WebSocket, handshaking and plain HTTP).", nil, nil)
	allDescs      = []*prometheus.Desc{descClients, descChannels, descMsgsIn, descMsgsOut, descBytesIn, descBytesOut, descOverflow,
		descDropped, descReplies, descCloses, descRejected, descLimits, descPublished, descPubErrors, descReceived, descHandshake, descHostConns}
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, h := range c.hubs {
		m := h.Metrics()
		name := h.Name()
		ch <- prometheus.MustNewConstMetric(descClients, prometheus.GaugeValue, float64(m.Clients), name)
		ch <- prometheus.MustNewConstMetric(descChannels, prometheus.GaugeValue, float64(m.Channels), name)
		counter(descMsgsIn, m.MessagesIn, name)
		counter(descMsgsOut, m.MessagesOut, name)
		counter(descBytesIn, m.BytesIn, name)
		counter(descBytesOut, m.BytesOut, name)
		counter(descOverflow, m.SlowClients, name)
		counter(descDropped, m.Dropped, name)
		for code, n := range m.Replies {
			counter(descReplies, n, name, strconv.Itoa(code))
		}
		for code, n := range m.Closes {
			counter(descCloses, n, name, strconv.Itoa(code))
		}
		for reason, n := range m.Rejected {
			counter(descRejected, n, name, reason)
		}
		for limit, n := range m.Limits {
			counter(descLimits, n, name, limit)
		}
		counter(descPublished, m.BrokerPublished, name)
		counter(descPubErrors, m.BrokerErrors, name)
		counter(descReceived, m.BrokerReceived, name)
	}
	for _, host := range c.hosts {
		host.mu.Lock()
		srv := host.srv
		host.mu.Unlock()
		if srv == nil {
			continue
		}
		for status, n := range srv.Rejected() {
			counter(descHandshake, n, strconv.Itoa(status))
		}
		ch <- prometheus.MustNewConstMetric(descHostConns, prometheus.GaugeValue, float64(srv.Len()))
	}
}
