package peertest

import (
	"context"
	"testing"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/client"
)

// Check subscribes 20 connections to url, publishes 10 messages through a
// publisher and runs 5 echo round trips per connection; every message must
// arrive and be counted.
func Check(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	cfg := client.Config{URL: url, Channel: "room", Event: "chat.message", EchoEvent: "echo", Timeout: 5 * time.Second}
	cl := client.New(cfg)
	defer cl.CloseAll(ctx)
	rep, err := cl.Connect(ctx, client.ConnectSpec{N: 20, Subscribe: true})
	if err != nil || rep.Subscribed != 20 {
		t.Fatalf("connect: %+v %v %v", rep, err, cl.Errors())
	}
	const msgs = 10
	if subs := cl.Arm(client.ArmSpec{Msgs: msgs}, nil); subs != 20 {
		t.Fatalf("%d subscribers", subs)
	}
	pub, err := client.DialPublisher(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for seq := range msgs {
		if _, err := pub.Publish(int64(seq), 32); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for cl.Counters().Deliveries < 20*msgs && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	fr, err := cl.Collect()
	if err != nil || fr.Deliveries != 20*msgs || fr.OutOfOrder != 0 {
		t.Fatalf("fan-out: %+v %v %v", fr, err, cl.Errors())
	}
	for time.Now().Before(deadline) {
		if acks, _ := pub.Acks(); acks == msgs {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if acks, failed := pub.Acks(); acks != msgs || failed != 0 {
		t.Fatalf("publish acks %d, refused %d: %v", acks, failed, pub.Errors())
	}
	er, err := cl.Echo(ctx, client.EchoSpec{PerConn: 5, Size: 16})
	if err != nil || er.RoundTrips != 100 || er.Errors != 0 || er.Mismatched != 0 {
		t.Fatalf("echo: %+v %v %v", er, err, cl.Errors())
	}
	if c := cl.Counters(); c.Unexpected != 0 || c.Malformed != 0 || c.Dropped != 0 {
		t.Fatalf("counters: %+v %v", c, cl.Errors())
	}
}

// CheckEcho runs 5 echo round trips on each of 20 connections to url, for
// peers that speak only the request/reply part of the protocol.
func CheckEcho(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	cl := client.New(client.Config{URL: url, EchoEvent: "echo", Timeout: 5 * time.Second})
	defer cl.CloseAll(ctx)
	if rep, err := cl.Connect(ctx, client.ConnectSpec{N: 20}); err != nil || rep.Opened != 20 {
		t.Fatalf("connect: %+v %v %v", rep, err, cl.Errors())
	}
	er, err := cl.Echo(ctx, client.EchoSpec{PerConn: 5, Size: 16})
	if err != nil || er.RoundTrips != 100 || er.Errors != 0 || er.Mismatched != 0 {
		t.Fatalf("echo: %+v %v %v", er, err, cl.Errors())
	}
	if c := cl.Counters(); c.Unexpected != 0 || c.Malformed != 0 {
		t.Fatalf("counters: %+v %v", c, cl.Errors())
	}
}
