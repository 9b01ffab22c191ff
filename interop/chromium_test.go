package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/surge-ws/ws/conn"
)

// browserPage opens a WebSocket to the URL in its ?ws= parameter, sends a
// text, a binary (ArrayBuffer) and a larger compressible text message,
// waits for the three echoes, closes with 4002 "browser-bye", and writes what
// it saw as JSON into #result (and "done" into the title). It then reports
// to /done: the page's <img src="/wait"> is held until then, and since the
// load event waits for it, --dump-dom prints the DOM only after the results
// are in it.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>pending</title></head>
<body>
<pre id="result">pending</pre>
<script>
(function () {
  var res = {extensions: null, messages: [], close: null, errors: []};
  function finish() {
    document.getElementById('result').textContent = JSON.stringify(res);
    document.title = 'done';
    fetch('/done', {method: 'POST', body: JSON.stringify(res)}).catch(function () {});
  }
  var big = '';
  for (var i = 0; big.length < 5000; i++) big += 'message ' + (i % 10) + ' of a compressible stream; ';
  big = big.slice(0, 5000);
  var ws;
  try {
    ws = new WebSocket(new URLSearchParams(location.search).get('ws'));
  } catch (e) {
    res.errors.push(String(e));
    finish();
    return;
  }
  ws.binaryType = 'arraybuffer';
  ws.onopen = function () {
    res.extensions = ws.extensions;
    ws.send('hello-browser');
    ws.send(new Uint8Array([0, 1, 2, 254, 255]).buffer);
    ws.send(big);
  };
  ws.onmessage = function (e) {
    if (typeof e.data === 'string') {
      res.messages.push({binary: false, text: e.data});
    } else {
      var hex = Array.prototype.map.call(new Uint8Array(e.data), function (b) {
        return ('0' + b.toString(16)).slice(-2);
      }).join('');
      res.messages.push({binary: true, hex: hex});
    }
    if (res.messages.length === 3) ws.close(4002, 'browser-bye');
  };
  ws.onerror = function () { res.errors.push('error event'); };
  ws.onclose = function (e) {
    res.close = {code: e.code, reason: e.reason, wasClean: e.wasClean};
    finish();
  };
})();
</script>
<img src="/wait" alt="">
</body></html>
`

// gif1x1 is the smallest GIF, for /wait.
var gif1x1 = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

type browserResult struct {
	echoReport
	Close *struct {
		Code     int    `json:"code"`
		Reason   string `json:"reason"`
		WasClean bool   `json:"wasClean"`
	} `json:"close"`
}

// servePage serves browserPage, /wait and /done on 127.0.0.1:0.
func servePage(t *testing.T) (base string, done <-chan []byte) {
	t.Helper()
	doneC := make(chan []byte, 1)
	released := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, browserPage)
	})
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case doneC <- b:
			close(released)
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/wait", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-released:
		case <-time.After(20 * time.Second):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "image/gif")
		_, _ = w.Write(gif1x1)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return "http://" + ln.Addr().String() + "/", doneC
}

var resultRE = regexp.MustCompile(`(?s)<pre id="result">(.*?)</pre>`)

func TestChromium(t *testing.T) {
	chromium := needBinary(t, "chromium")
	for _, compress := range []bool{false, true} {
		name := "plain"
		if compress {
			name = "permessage-deflate"
		}
		t.Run(name, func(t *testing.T) {
			srv := startEcho(t, conn.Config{Compression: compress}, false)
			base, done := servePage(t)
			page := base + "?ws=" + url.QueryEscape("ws://"+srv.addr+"/browser")

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, chromium,
				"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--disable-extensions", "--no-default-browser-check",
				"--user-data-dir="+t.TempDir(),
				"--dump-dom", page)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.WaitDelay = 5 * time.Second
			start := time.Now()
			if err := cmd.Run(); err != nil {
				t.Fatalf("chromium: %v\nstdout: %s\nstderr: %s", err, stdout.String(), tail(stderr.String(), 4000))
			}
			t.Logf("chromium ran for %v", time.Since(start).Round(time.Millisecond))

			m := resultRE.FindSubmatch(stdout.Bytes())
			if m == nil {
				t.Fatalf("no #result in the dumped DOM:\n%s\nstderr: %s", stdout.String(), tail(stderr.String(), 4000))
			}
			text := html.UnescapeString(string(m[1]))
			var res browserResult
			if err := json.Unmarshal([]byte(text), &res); err != nil {
				select {
				case b := <-done:
					t.Logf("the page reported to /done: %s", b)
				default:
				}
				t.Fatalf("#result is not the page's JSON (%v): %q", err, text)
			}

			res.check(t, srv, compress, []echoMsg{
				{false, "hello-browser", ""},
				{true, "", "000102feff"},
				{false, string(compressible(5000)), ""},
			})
			if res.Close == nil || res.Close.Code != 4002 || !res.Close.WasClean {
				t.Fatalf("browser saw close %+v, want a clean close with the server's echo of 4002", res.Close)
			}
			if ev := srv.waitClose(t); ev.code != 4002 || ev.reason != "browser-bye" {
				t.Fatalf("server OnClose %v, want 4002 \"browser-bye\"", ev)
			}
		})
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
