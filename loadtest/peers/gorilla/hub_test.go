package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/surge-ws/ws/loadtest/internal/peertest"
)

func TestSpeaksTheProtocol(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", newHub().serveWS)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	peertest.Check(t, "ws://"+strings.TrimPrefix(srv.URL, "http://")+"/ws")
}
