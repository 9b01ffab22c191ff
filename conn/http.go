package conn

import (
	"net/http"
	"net/url"

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
