package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/surge-ws/ws/conn"
)

// nodeSummary is what node/client.js prints.
type nodeSummary struct {
	echoReport
	Pongs []string `json:"pongs"`
	Close *struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	} `json:"close"`
}

var npmOnce sync.Once

// nodeClient returns the node binary and the client script, installing the
// npm dependencies (npm ci) if they are missing: CI's .ci/run installs them,
// a developer's checkout may not have yet.
func nodeClient(t *testing.T) (node, script string) {
	t.Helper()
	node = needBinary(t, "node")
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err != nil {
		npm := needBinary(t, "npm")
		var out []byte
		npmOnce.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
			cmd.Dir = dir
			out, err = cmd.CombinedOutput()
		})
		if _, serr := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); serr != nil {
			t.Fatalf("npm ci in interop/node: %v\n%s", err, out)
		}
	}
	return node, filepath.Join(dir, "client.js")
}

func TestNodeWS(t *testing.T) {
	node, script := nodeClient(t)
	for _, deflate := range []bool{false, true} {
		name := "plain"
		if deflate {
			name = "permessage-deflate"
		}
		t.Run(name, func(t *testing.T) {
			srv := startEcho(t, conn.Config{Compression: deflate}, false)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := []string{script, "ws://" + srv.addr + "/node"}
			if deflate {
				args = append(args, "--deflate")
			}
			cmd := exec.CommandContext(ctx, node, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if err != nil {
				t.Fatalf("node client: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
			}
			var s nodeSummary
			if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
				t.Fatalf("node client output: %v\n%s", err, stdout.String())
			}

			s.check(t, srv, deflate, []echoMsg{
				{false, "hello-node", ""},
				{true, "", "000102feff"},
				{false, "frag-1|frag-2|frag-3", ""}, // three fragments, one echo
				{false, string(compressible(5000)), ""},
			})
			if !reflect.DeepEqual(s.Pongs, []string{"node-ping"}) {
				t.Fatalf("pongs %q, want [node-ping]", s.Pongs)
			}
			if s.Close == nil || s.Close.Code != 4001 {
				t.Fatalf("client saw close %+v, want the server's echo of 4001", s.Close)
			}
			if ev := srv.waitClose(t); ev.code != 4001 || ev.reason != "node-bye" {
				t.Fatalf("server OnClose %v, want 4001 \"node-bye\"", ev)
			}
			// The fragmented message reached the handler as one message.
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if len(srv.msgs) != 4 || string(srv.msgs[2].payload) != "frag-1|frag-2|frag-3" {
				t.Fatalf("server handler saw %d messages", len(srv.msgs))
			}
		})
	}
}
