package conn_test

import (
	"context"
	"fmt"
	"log"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
)

// An echo server and a client talking to it; neither holds a goroutine per
// connection.
func Example() {
	srv := &conn.Server{
		Handler: conn.HandlerFuncs{
			Message: func(c *conn.Conn, op frame.OpCode, p []byte) { _ = c.Write(op, p) },
		},
		Upgrade: func(r *conn.Request) (any, *conn.Reject) {
			if r.Path != "/echo" {
				return nil, &conn.Reject{Status: 404, Body: "no such endpoint"}
			}
			return nil, nil
		},
	}
	ln, err := conn.Listen("tcp", "127.0.0.1:0", false)
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	got := make(chan string, 1)
	d := &conn.Dialer{Handler: conn.HandlerFuncs{
		Message: func(_ *conn.Conn, _ frame.OpCode, p []byte) { got <- string(p) },
	}}
	c, _, err := d.Dial(context.Background(), "ws://"+ln.Addr().String()+"/echo")
	if err != nil {
		log.Fatal(err)
	}
	_ = c.Write(frame.OpText, []byte("hello"))
	fmt.Println(<-got)
	_ = c.Close(frame.CloseNormal, "bye")
	// Output: hello
}
