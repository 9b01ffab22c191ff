package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// The hub inside net/http's router: REST routes and the WebSocket on one
// port, and a broadcast from a REST call reaching the WebSocket client.
func TestHubInNetHTTPRouter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, addr) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("run did not return within 15 s of its context ending")
		}
	}()
	var resp *http.Response
	for deadline := time.Now().Add(5 * time.Second); ; {
		if resp, err = http.Get("http://" + addr + "/api/time"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not answer within 5 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp.Body.Close()

	got := make(chan string, 4)
	c, _, err := (&conn.Dialer{Handler: conn.HandlerFuncs{Message: func(_ *conn.Conn, _ frame.OpCode, p []byte) { got <- string(p) }}}).
		Dial(context.Background(), "ws://"+addr+"/ws")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(frame.CloseNormal, "")
	_ = c.Write(frame.OpText, []byte(`{"id":"1","event":"echo","data":"x"}`))
	next := func(what string) string {
		select {
		case m := <-got:
			return m
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s within 5 s", what)
			return ""
		}
	}
	if m := next("echo reply"); m != `{"id":"1","event":"echo","ok":true,"data":"x"}` {
		t.Fatalf("echo: %s", m)
	}
	resp, err = http.Post("http://"+addr+"/api/broadcast?text=hi", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if m := next("broadcast"); m != `{"event":"announce","data":"hi"}` {
		t.Fatalf("broadcast: %s", m)
	}
}
