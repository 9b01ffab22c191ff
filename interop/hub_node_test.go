package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/hub"
)

// hubNodeSummary is what node/hub-client.js prints last.
type hubNodeSummary struct {
	Extensions map[string]string            `json:"extensions"`
	Subscribe  map[string]json.RawMessage   `json:"subscribe"`
	Chat       map[string][]json.RawMessage `json:"chat"`
	Echo       json.RawMessage              `json:"echo"`
	Ping       json.RawMessage              `json:"ping"`
	Unknown    json.RawMessage              `json:"unknown"`
	Malformed  json.RawMessage              `json:"malformed"`
	PingAfter  json.RawMessage              `json:"pingAfter"`
	Extra      map[string][]json.RawMessage `json:"extra"`
	Close      map[string]struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	} `json:"close"`
	Errors []string `json:"errors"`
}

// TestHubNodeWS runs the seed's flows with the npm ws package: subscribe,
// publish, reply, ping, unknown event, malformed JSON, then a kick with a
// reason and Stop. Like TestNodeWS it skips without node (unless CI is set).
func TestHubNodeWS(t *testing.T) {
	node, script := nodeClient(t)
	script = filepath.Join(filepath.Dir(script), "hub-client.js")
	for _, deflate := range []bool{false, true} {
		name := "plain"
		if deflate {
			name = "permessage-deflate"
		}
		t.Run(name, func(t *testing.T) {
			h := seedHub(hub.Config{})
			h.Endpoint().Config.Compression = deflate // not in hub.Config: see TestHubCoder
			addr := serveHub(t, h)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := []string{script, "ws://" + addr + "/ws"}
			if deflate {
				args = append(args, "--deflate")
			}
			cmd := exec.CommandContext(ctx, node, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			lines.Buffer(nil, 1<<20)
			var out []string
			nextLine := func() string {
				t.Helper()
				if !lines.Scan() {
					_ = cmd.Wait()
					t.Fatalf("node client ended early: %v\nstdout: %s\nstderr: %s", lines.Err(), strings.Join(out, "\n"), stderr.String())
				}
				out = append(out, lines.Text())
				return lines.Text()
			}

			// The flows are done: kick bob, wait until he is gone, stop the hub.
			if l := nextLine(); l != `{"ready":true}` {
				_ = cmd.Wait()
				t.Fatalf("node client: %s\nstderr: %s", l, stderr.String())
			}
			if err := h.Kick(clientOf(t, h, "bob").ID, "bye now"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "bob to leave", func() bool { return len(h.Clients()) == 1 })
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			if err := h.Stop(sctx); err != nil {
				t.Fatal(err)
			}

			last := nextLine()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("node client: %v\nstdout: %s\nstderr: %s", err, strings.Join(out, "\n"), stderr.String())
			}
			var s hubNodeSummary
			if err := json.Unmarshal([]byte(last), &s); err != nil {
				t.Fatalf("node client output: %v\n%s", err, last)
			}
			if len(s.Errors) > 0 {
				t.Fatalf("node client errors: %v", s.Errors)
			}

			for _, u := range []string{"alice", "bob"} {
				if got := strings.Contains(s.Extensions[u], "permessage-deflate"); got != deflate {
					t.Fatalf("%s: extensions %q, want permessage-deflate: %v", u, s.Extensions[u], deflate)
				}
				checkResponse(t, parseHubFrame(t, s.Subscribe[u]), "s1", "subscribe", true)
				if len(s.Extra[u]) != 0 {
					t.Fatalf("%s got unexpected frames after the flows: %s", u, s.Extra[u])
				}
			}
			if len(s.Chat["alice"]) != 2 || len(s.Chat["bob"]) != 1 {
				t.Fatalf("chat frames %v", s.Chat)
			}
			ack, push := splitAckAndPush(t, parseHubFrame(t, s.Chat["alice"][0]), parseHubFrame(t, s.Chat["alice"][1]))
			checkResponse(t, ack, "c1", "chat.message", true)
			checkPush(t, push, "room", "chat.message", `{"text":"hi all"}`)
			checkPush(t, parseHubFrame(t, s.Chat["bob"][0]), "room", "chat.message", `{"text":"hi all"}`)

			r := parseHubFrame(t, s.Echo)
			checkResponse(t, r, "e1", "echo", true)
			if !sameJSON(t, r.Data, []byte(`{"data":{"text":"hello"}}`)) {
				t.Fatalf("echo reply %s", r.Raw)
			}
			r = parseHubFrame(t, s.Ping)
			checkResponse(t, r, "p1", "ping", true)
			if !sameJSON(t, r.Data, []byte(`{"event":"pong"}`)) {
				t.Fatalf("ping reply %s", r.Raw)
			}
			r = parseHubFrame(t, s.Unknown)
			checkResponse(t, r, "u1", "nope", false)
			if r.Code != hub.CodeNotFound || !strings.Contains(r.Message, "not registered") {
				t.Fatalf("unknown event reply %s", r.Raw)
			}
			r = parseHubFrame(t, s.Malformed)
			var ed struct {
				Code int `json:"code"`
			}
			if r.isResponse() || r.Event != hub.EventError || json.Unmarshal(r.Data, &ed) != nil || ed.Code != hub.CodeBadRequest {
				t.Fatalf("malformed JSON answered %s, want an error push with code 400", r.Raw)
			}
			checkResponse(t, parseHubFrame(t, s.PingAfter), "p2", "ping", true)

			if c := s.Close["bob"]; c.Code != int(hub.CloseKicked) || c.Reason != "bye now" {
				t.Fatalf("kicked client saw close %d %q, want 4000 \"bye now\"", c.Code, c.Reason)
			}
			if c := s.Close["alice"]; c.Code != 1001 || c.Reason != "server shutdown" {
				t.Fatalf("on Stop the client saw close %d %q, want 1001 \"server shutdown\"", c.Code, c.Reason)
			}
		})
	}
}
