package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// client is a dialed connection that collects what the server sends.
type client struct {
	t    *testing.T
	c    *conn.Conn
	in   chan map[string]any
	done chan [2]any // close code and reason
}

func dial(t *testing.T, url string) *client {
	t.Helper()
	w := &client{t: t, in: make(chan map[string]any, 16), done: make(chan [2]any, 1)}
	d := &conn.Dialer{Handler: conn.HandlerFuncs{
		Message: func(_ *conn.Conn, _ frame.OpCode, p []byte) {
			var m map[string]any
			if err := json.Unmarshal(p, &m); err != nil {
				t.Errorf("bad JSON %q: %v", p, err)
				return
			}
			w.in <- m
		},
		Close: func(_ *conn.Conn, code frame.CloseCode, reason string) { w.done <- [2]any{code, reason} },
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := d.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	w.c = c
	t.Cleanup(func() { _ = c.Close(frame.CloseNormal, "") })
	return w
}

func (w *client) send(s string) {
	w.t.Helper()
	if err := w.c.Write(frame.OpText, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

// next returns the next message that matches keep.
func (w *client) next(keep func(map[string]any) bool) map[string]any {
	w.t.Helper()
	for {
		select {
		case m := <-w.in:
			if keep(m) {
				return m
			}
		case <-time.After(5 * time.Second):
			w.t.Fatal("no message within 5s")
			return nil
		}
	}
}

func response(id string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["id"] == id }
}

func TestChat(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan [2]net.Addr, 1)
	result := make(chan error, 1)
	go func() {
		result <- run(ctx, "127.0.0.1:0", options{
			StatsAddr: "127.0.0.1:0",
			Ready:     func(addr, stats net.Addr) { ready <- [2]net.Addr{addr, stats} },
		})
	}()
	var addr, stats string
	select {
	case a := <-ready:
		addr, stats = a[0].String(), a[1].String()
	case err := <-result:
		t.Fatal(err)
	}

	// The page, on the same port as the hub.
	body := get(t, "http://"+addr+"/")
	if !strings.Contains(body, "<html") || !strings.Contains(body, "chat.message") {
		t.Fatalf("page: %.200q", body)
	}
	for path, want := range map[string]int{"/nope": 404, "/ws": 426} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}

	a, b := dial(t, "ws://"+addr+"/ws"), dial(t, "ws://"+addr+"/ws")
	for _, w := range []*client{a, b} {
		w.send(`{"id":"1","event":"subscribe","channel":"room"}`)
		if r := w.next(response("1")); r["ok"] != true {
			t.Fatalf("subscribe: %v", r)
		}
	}

	a.send(`{"id":"2","event":"chat.message","data":{"name":"ann","text":"hello"}}`)
	for _, w := range []*client{a, b} {
		m := w.next(func(m map[string]any) bool { return m["event"] == "chat.message" && m["ok"] == nil })
		data, _ := m["data"].(map[string]any)
		if m["channel"] != "room" || data["name"] != "ann" || data["text"] != "hello" {
			t.Fatalf("push: %v", m)
		}
	}
	if r := a.next(response("2")); r["ok"] != true {
		t.Fatalf("chat.message ack: %v", r)
	}

	b.send(`{"id":"3","event":"echo","data":{"text":"hi"}}`)
	r := b.next(response("3"))
	data, _ := r["data"].(map[string]any)
	inner, _ := data["data"].(map[string]any)
	if r["ok"] != true || r["event"] != "echo" || inner["text"] != "hi" {
		t.Fatalf("echo: %v", r)
	}

	var st map[string]any
	if err := json.Unmarshal([]byte(get(t, "http://"+stats+"/")), &st); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"conns", "goroutines", "heap_inuse", "heap_alloc", "sys"} {
		if _, ok := st[k]; !ok {
			t.Fatalf("stats lack %q: %v", k, st)
		}
	}
	if st["conns"] != float64(2) {
		t.Fatalf("stats conns = %v, want 2", st["conns"])
	}

	// Shutdown (what SIGINT does): clients see 1001 "server shutdown".
	cancel()
	for _, w := range []*client{a, b} {
		select {
		case got := <-w.done:
			if got[0] != frame.CloseGoingAway || got[1] != "server shutdown" {
				t.Fatalf("closed with %v", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("client not closed within 5s")
		}
	}
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(shutdownTimeout + time.Second):
		t.Fatal("run did not return")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}
