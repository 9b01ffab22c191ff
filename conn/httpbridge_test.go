package conn

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fallbackServer runs Serve with a Fallback that answers /len with the length
// of the request body, /stream with three flushed chunks and anything else
// with "page <method> <path>".
func fallbackServer(t *testing.T) (*Server, string) {
	s := echoServer(Config{})
	s.Fallback = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/len":
			n, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprint(w, n)
		case "/stream":
			for i := range 3 {
				fmt.Fprintf(w, "chunk %d\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond)
			}
		default:
			fmt.Fprintf(w, "page %s %s", r.Method, r.URL.Path)
		}
	})
	return s, startServer(t, s)
}

// Every method, with a body that arrives in pieces long after the head:
// nothing the client sends is lost between the event loop and net/http.
func TestFallbackBodyInPieces(t *testing.T) {
	_, addr := fallbackServer(t)
	rc := dialRaw(t, addr)
	body := strings.Repeat("x", 100_000)
	rc.write([]byte("POST /len HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"))
	for i := 0; i < len(body); i += 30_000 {
		time.Sleep(20 * time.Millisecond)
		rc.write([]byte(body[i:min(i+30_000, len(body))]))
	}
	resp := rc.readResponse()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 100))
	if resp.StatusCode != 200 || string(got) != strconv.Itoa(len(body)) {
		t.Fatalf("POST /len: %d %q, want 200 %d", resp.StatusCode, got, len(body))
	}
	// The same connection takes another request (keep-alive), any method.
	rc.write([]byte("DELETE /thing HTTP/1.1\r\nHost: x\r\n\r\n"))
	resp = rc.readResponse()
	got, _ = io.ReadAll(io.LimitReader(resp.Body, 100))
	if string(got) != "page DELETE /thing" {
		t.Fatalf("second request on the connection: %q", got)
	}
}

// net/http's client reuses the connection, and a streamed response arrives
// chunk by chunk.
func TestFallbackKeepAliveAndStreaming(t *testing.T) {
	_, addr := fallbackServer(t)
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	var reused atomic.Int32
	for i := range 3 {
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				if info.Reused {
					reused.Add(1)
				}
			},
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/p"+strconv.Itoa(i), nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := "page GET /p" + strconv.Itoa(i); string(b) != want {
			t.Fatalf("got %q, want %q", b, want)
		}
	}
	if reused.Load() != 2 {
		t.Fatalf("%d of 2 later requests reused the connection, want all (keep-alive)", reused.Load())
	}

	resp, err := client.Get("http://" + addr + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	start := time.Now()
	first, err := br.ReadString('\n')
	if err != nil || first != "chunk 0\n" {
		t.Fatalf("first chunk %q, %v", first, err)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "chunk 1\nchunk 2\n" {
		t.Fatalf("rest %q", rest)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("the chunks arrived together: the response was buffered, not streamed")
	}
}

// An upgrade after a plain request on the same connection is refused with a
// reason; upgrades as a connection's first request work beside plain HTTP.
func TestFallbackUpgradeMustBeFirst(t *testing.T) {
	_, addr := fallbackServer(t)
	rc := dialRaw(t, addr)
	rc.write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	resp := rc.readResponse()
	_, _ = io.Copy(io.Discard, resp.Body)
	rc.write([]byte(upgradeRequest("/")))
	resp = rc.readResponse()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "first request") {
		t.Fatalf("upgrade after a plain request: %d %q", resp.StatusCode, b)
	}
	ws := dialRaw(t, addr)
	if resp := ws.handshake(nil); resp.StatusCode != 101 {
		t.Fatalf("a fresh upgrade: %d", resp.StatusCode)
	}
}

// Shutdown closes an idle keep-alive connection and lets a busy one finish
// its response.
func TestFallbackShutdown(t *testing.T) {
	s, addr := fallbackServer(t)
	idle := dialRaw(t, addr)
	idle.write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	resp := idle.readResponse()
	_, _ = io.Copy(io.Discard, resp.Body)
	busy := dialRaw(t, addr)
	busy.write([]byte("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"))
	resp = busy.readResponse() // the head comes with the first chunk
	eventually(t, "both connections on the server", func() bool { return s.Len() == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(ctx) }()
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "chunk 0\nchunk 1\nchunk 2\n" {
		t.Fatalf("the busy response during Shutdown: %q, %v", b, err)
	}
	idle.expectEOF()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return within 5 s")
	}
	if n := s.Len(); n != 0 {
		t.Fatalf("%d connections left after Shutdown", n)
	}
}

// A client that sends far more than the handler reads is disconnected
// instead of filling the server's memory.
func TestFallbackBoundsUnreadInput(t *testing.T) {
	s := echoServer(Config{})
	release := make(chan struct{})
	defer close(release)
	s.Fallback = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })
	addr := startServer(t, s)
	rc := dialRaw(t, addr)
	rc.write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"))
	chunk := make([]byte, 64<<10)
	_ = rc.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for sent := 0; sent < 3*httpMaxAhead; sent += len(chunk) {
		if _, err := rc.nc.Write(chunk); err != nil {
			return // disconnected, as it should be
		}
	}
	eventually(t, "the server to drop the connection", func() bool { return s.Len() == 0 })
}
