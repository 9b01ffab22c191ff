package provider

import (
	"fmt"
	"strings"
	"testing"
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
