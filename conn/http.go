package conn

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/surge-ws/ws/frame"
)

// HTTPRequest returns the upgrade request as an *http.Request (no body) for
// code written against net/http: authenticators, cookie readers, routers.
func (r *Request) HTTPRequest() *http.Request {
	remote := ""
	if r.RemoteAddr != nil {
		remote = r.RemoteAddr.String()
	}
	return httpRequest(r.Request, remote)
}

func httpRequest(fr *frame.Request, remote string) *http.Request {
	u, err := url.ParseRequestURI(fr.URI)
	if err != nil {
		u = &url.URL{Path: fr.Path, RawQuery: fr.RawQuery}
	}
	major, minor, _ := http.ParseHTTPVersion(fr.Proto)
	return &http.Request{
		Method:     fr.Method,
		URL:        u,
		Proto:      fr.Proto,
		ProtoMajor: major,
		ProtoMinor: minor,
		Header:     fr.Header,
		Host:       fr.Host,
		RemoteAddr: remote,
		RequestURI: fr.URI,
		Body:       http.NoBody,
	}
}

// serveFallback answers a plain HTTP request (no Upgrade header) with the
// server's Fallback handler, buffered, on the connection's input goroutine,
// then closes the connection. It suits pages, health checks and metrics;
// streaming responses are not supported.
func (c *Conn) serveFallback(h http.Handler, fr *frame.Request) {
	c.recvErr = true
	w := &bufferedResponse{header: http.Header{}}
	func() {
		defer func() {
			if p := recover(); p != nil {
				c.eng.cfg.Logger.Error("conn: fallback handler panic", "remote", c.RemoteAddr(), "panic", fmt.Sprint(p))
				w = &bufferedResponse{header: http.Header{}, status: http.StatusInternalServerError}
			}
		}()
		h.ServeHTTP(w, httpRequest(fr, c.RemoteAddr().String()))
	}()
	b := w.serialize(fr.Method == http.MethodHead)
	c.answerAndHangup(b)
}

type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferedResponse) Header() http.Header { return w.header }

func (w *bufferedResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *bufferedResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

func (w *bufferedResponse) serialize(head bool) []byte {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.header.Get("Content-Type") == "" && w.body.Len() > 0 {
		w.header.Set("Content-Type", http.DetectContentType(w.body.Bytes()))
	}
	w.header.Set("Content-Length", strconv.Itoa(w.body.Len()))
	w.header.Set("Connection", "close")
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", w.status, http.StatusText(w.status))
	_ = w.header.Write(&b)
	b.WriteString("\r\n")
	if !head {
		b.Write(w.body.Bytes())
	}
	return b.Bytes()
}
