package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/hub"
	"github.com/surge-ws/ws/internal/redistest"
)

// TestClusterOfThree runs three chat processes on one Redis (a redis-server of the test's own), with
// real WebSocket clients on each: a message written on one node reaches every subscriber on all three
// exactly once, any node lists every client, a kick issued on node A closes a client of node C with
// its reason, and a node killed with SIGKILL leaves the others' presence within its NodeTTL (1 s here)
// plus a reap interval.
func TestClusterOfThree(t *testing.T) {
	redisAddr := redistest.StartServer(t).Addr()
	bin := filepath.Join(t.TempDir(), "chat")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	nodes := map[string]*chatNode{}
	for _, name := range []string{"A", "B", "C"} {
		nodes[name] = startNode(t, bin, redisAddr, name)
	}

	// Two clients on each node, all in the room.
	clients := map[string][]*client{}
	for _, name := range []string{"A", "B", "C"} {
		for range 2 {
			w := dial(t, "ws://"+nodes[name].addr+"/ws")
			w.send(`{"id":"s","event":"subscribe","channel":"room"}`)
			if r := w.next(response("s")); r["ok"] != true {
				t.Fatalf("subscribe on %s: %v", name, r)
			}
			clients[name] = append(clients[name], w)
		}
	}

	// Every node lists all six (presence is flushed every 100 ms).
	for name, n := range nodes {
		waitFor(t, 3*time.Second, "node "+name+" lists the six clients", func() bool {
			return len(n.clients(t)) == 6
		})
	}

	// A message written on B reaches all six subscribers, each exactly once.
	clients["B"][0].send(`{"id":"m","event":"chat.message","data":{"name":"bob","text":"hello"}}`)
	for name, ws := range clients {
		for i, w := range ws {
			m := w.next(func(m map[string]any) bool { return m["event"] == "chat.message" && m["ok"] == nil })
			if data, _ := m["data"].(map[string]any); m["channel"] != "room" || data["text"] != "hello" {
				t.Fatalf("client %d of %s got %v", i, name, m)
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	for name, ws := range clients {
		for i, w := range ws {
			for len(w.in) > 0 {
				if m := <-w.in; m["event"] == "chat.message" && m["ok"] == nil {
					t.Fatalf("client %d of %s got the message twice", i, name)
				}
			}
		}
	}

	// A kick issued on A closes a client of C with its reason.
	var victim string
	for _, c := range nodes["A"].clients(t) {
		if c.Node == "C" {
			victim = c.ID
			break
		}
	}
	if victim == "" {
		t.Fatal("A lists no client of C")
	}
	nodes["A"].kick(t, victim, "bye from A")
	closed := 0
	for _, w := range clients["C"] {
		select {
		case got := <-w.done:
			if got[0] != frame.CloseCode(hub.CloseKicked) || got[1] != "bye from A" {
				t.Fatalf("C's client closed with %v", got)
			}
			closed++
		case <-time.After(100 * time.Millisecond):
		}
	}
	if closed != 1 {
		t.Fatalf("%d of C's clients closed, want 1", closed)
	}

	// C killed: its clients leave A's and B's lists within NodeTTL (1 s) and a reap interval.
	if err := nodes["C"].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	for _, name := range []string{"A", "B"} {
		waitFor(t, 3*time.Second, "node "+name+" drops C's clients", func() bool {
			for _, c := range nodes[name].clients(t) {
				if c.Node == "C" {
					return false
				}
			}
			return true
		})
	}
	t.Logf("C's clients left the others' lists %v after SIGKILL", time.Since(killed).Round(time.Millisecond))
}

// chatNode is one chat process.
type chatNode struct {
	cmd         *exec.Cmd
	addr, stats string
}

var (
	pageLine  = regexp.MustCompile(`chat: page on http://([^/]+)/`)
	statsLine = regexp.MustCompile(`chat: stats on http://([^/]+)/`)
)

func startNode(t *testing.T, bin, redisAddr, name string) *chatNode {
	t.Helper()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-stats-addr", "127.0.0.1:0", "-redis", redisAddr,
		"-node", name, "-node-ttl", "1s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	n := &chatNode{cmd: cmd}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := statsLine.FindStringSubmatch(line); m != nil {
				n.stats = m[1]
			}
			if m := pageLine.FindStringSubmatch(line); m != nil {
				n.addr = m[1]
				close(found)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case <-found:
	case <-time.After(10 * time.Second):
		t.Fatalf("node %s did not report its address within 10s", name)
	}
	return n
}

func (n *chatNode) clients(t *testing.T) []hub.ClientInfo {
	t.Helper()
	var list []hub.ClientInfo
	if err := json.Unmarshal([]byte(get(t, "http://"+n.stats+"/clients")), &list); err != nil {
		t.Fatal(err)
	}
	return list
}

func (n *chatNode) kick(t *testing.T, id, reason string) {
	t.Helper()
	resp, err := http.Post("http://"+n.stats+"/kick?id="+url.QueryEscape(id)+"&reason="+url.QueryEscape(reason), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("kick: %s", resp.Status)
	}
}

// waitFor polls cond until it holds, or fails the test after d saying what it waited for.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
