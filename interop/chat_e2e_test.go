package interop

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var chatPageLine = regexp.MustCompile(`chat: page on (http://\S+/)`)

// The chat example's page in two headless Chromium pages, driven by
// Playwright: a message typed in one appears in the other, and back. This is
// what a person does with two tabs; like the other Chromium tests it skips
// without chromium or node, unless CI is set.
func TestChatPageInTwoBrowserPages(t *testing.T) {
	chromium := needBinary(t, "chromium")
	node, _ := nodeClient(t)
	script, err := filepath.Abs("node/chat-e2e.js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("node/node_modules/playwright-core/package.json"); err != nil {
		t.Fatalf("playwright-core is not installed in interop/node (npm ci installs it): %v", err)
	}

	bin := filepath.Join(t.TempDir(), "chat")
	build := exec.Command("go", "build", "-o", bin, "./examples/chat")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/chat: %v\n%s", err, out)
	}
	srv := exec.Command(bin, "-addr", "127.0.0.1:0")
	srv.Dir = t.TempDir() // its own admin socket and no config file
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = srv.Process.Kill()
		}
	})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := chatPageLine.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-urlc:
	case <-time.After(20 * time.Second):
		t.Fatal("the chat server did not print its address within 20 s")
	}

	shot := filepath.Join(t.TempDir(), "chat.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, chromium, url, shot)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `{"ok":true}`) {
		t.Fatalf("chat-e2e.js: %v\n%s", err, out)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Fatalf("no screenshot: %v", err)
	}
}
