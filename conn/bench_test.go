package conn

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/surge-ws/ws/frame"
)

// BenchmarkFanout publishes one prepared frame to N connections and waits
// until every client has it: the whole path (queue, flusher, writev, the
// client's parse) in one process. Server and client share the CPU here, so
// read it as a comparison between versions; the load generator measures the
// server alone.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			var got, target atomic.Int64
			reached := make(chan struct{}, 1)
			conns := make(chan *Conn, n)
			s := &Server{Handler: HandlerFuncs{Open: func(c *Conn) { conns <- c }}, Config: Config{SendQueue: 1 << 16, SendQueueBytes: 1 << 30}}
			addr := startServer(b, s)
			d := &Dialer{Handler: HandlerFuncs{Message: func(*Conn, frame.OpCode, []byte) {
				if got.Add(1) == target.Load() {
					reached <- struct{}{}
				}
			}}}
			var subs []*Conn
			for i := range n {
				if _, _, err := d.DialFrom(context.Background(), "ws://"+addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%250))}); err != nil {
					b.Fatal(err)
				}
				subs = append(subs, <-conns)
			}
			p := frame.NewPrepared(frame.OpText, []byte(`{"channel":"room","event":"chat.message","data":{"text":"hello"}}`))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				target.Store(int64(i+1) * int64(n))
				for _, c := range subs {
					_ = c.WritePrepared(p)
				}
				<-reached
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
		})
	}
}

// BenchmarkEchoRoundTrip is one client's request/reply through the server.
func BenchmarkEchoRoundTrip(b *testing.B) {
	addr := startServer(b, echoServer(Config{}))
	reply := make(chan struct{}, 1)
	d := &Dialer{Handler: HandlerFuncs{Message: func(*Conn, frame.OpCode, []byte) { reply <- struct{}{} }}}
	c, _, err := d.Dial(context.Background(), "ws://"+addr)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte(`{"id":"1","event":"echo","data":{"text":"hello"}}`)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = c.Write(frame.OpText, msg)
		<-reply
	}
}
