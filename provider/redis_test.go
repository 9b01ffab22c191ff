package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/hub"
	"github.com/surge-ws/ws/internal/redistest"
	wsredis "github.com/surge-ws/ws/redis"
)

// needRedis returns the shared test Redis's address and a key prefix of this
// test alone (internal/redistest: skips without Redis, fails under CI).
func needRedis(t *testing.T) (string, string) {
	t.Helper()
	c := redistest.Client(t)
	return redistest.Addr(), redistest.Prefix(t, c)
}

// Two nodes of one cluster through the Redis provider: the commands run
// against node A list node B's client too, and a kick issued on A closes
// B's client with its reason. The [redis] table of the file sets the
// address.
func TestCommandsAgainstTwoRedisNodes(t *testing.T) {
	addr, prefix := needRedis(t)
	file := writeFile(t, "ws.toml", "[redis]\naddr = \""+addr+"\"\nnode_ttl = \"2s\"\n")
	node := func(name string) (*running, string) {
		h := hub.New("default", hub.Config{Node: name})
		sock := filepath.Join(t.TempDir(), name+".sock")
		app := New(Args(), ConfigFile(file), Admin(AdminOptions{Socket: sock}), DrainTimeout(5*time.Second))
		web := HTTP(Addr("127.0.0.1:0"))
		rp := Redis(wsredis.Options{Channel: prefix + "ch", PresencePrefix: prefix + "p:"})
		app.Install(web, Hubs(h), rp)
		Mount(web.Group("/ws"), h)
		r := startApp(t, app, web)
		if rp.Options().Addr != addr {
			t.Fatalf("the Redis provider uses %q, want the file's %q", rp.Options().Addr, addr)
		}
		return r, sock
	}
	a, sockA := node("a")
	b, _ := node("b")
	ca := dial(t, a.url("ws", "/ws"))
	cb := dial(t, b.url("ws", "/ws"))
	for _, c := range []*wsClient{ca, cb} {
		c.send(`{"id":"1","event":"subscribe","channel":"room"}`)
		c.next("subscribe reply")
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		app := New(Args(args...), Output(&out), ConfigFile(file), Admin(AdminOptions{Socket: sockA}))
		rp := Redis(wsredis.Options{Channel: prefix + "ch", PresencePrefix: prefix + "p:"})
		app.Install(Hubs(hub.New("default", hub.Config{})), rp)
		err := app.Run(context.Background())
		if len(rp.served) != 0 {
			t.Fatalf("the command %v opened %d Broker/Presence pairs (a command must not connect to Redis)", args, len(rp.served))
		}
		return out.String(), err
	}
	var list []hub.ClientInfo
	deadline := time.Now().Add(waitFor)
	for {
		out, err := run("ws:list", "--json")
		if err != nil {
			t.Fatal(err)
		}
		list = nil
		_ = json.Unmarshal([]byte(out), &list)
		if len(list) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ws:list on node a: %s, want both nodes' clients", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var onB string
	for _, c := range list {
		if c.Node == "b" {
			onB = c.ID
		}
	}
	if onB == "" {
		t.Fatalf("no client of node b in %+v", list)
	}
	if out, err := run("ws:kick", onB, "moved", "on"); err != nil {
		t.Fatalf("ws:kick on node a of b's client: %q %v", out, err)
	}
	if code, why := cb.closed(); code != hub.CloseKicked || why != "moved on" {
		t.Fatalf("b's client closed with %d %q, want 4000 \"moved on\"", code, why)
	}
	if out, err := run("ws:stats", "--json"); err != nil || !strings.Contains(out, `"nodes":2`) {
		t.Fatalf("ws:stats on a: %q %v", out, err)
	}
}
