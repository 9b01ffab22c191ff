package stub

import (
	"context"
	"errors"
	"net"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/loadtest/internal/wire"
)

// Server is a running stub hub.
type Server struct {
	srv  conn.Server
	hub  wire.Hub[*conn.Conn]
	ln   net.Listener
	done chan error
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
func Start(addr string) (*Server, error) {
	s := &Server{done: make(chan error, 1)}
	s.hub.Reply = func(c *conn.Conn, msg []byte) { _ = c.Write(frame.OpText, msg) }
	s.hub.Prepare = func(pkt []byte) func(*conn.Conn) {
		p := frame.NewPrepared(frame.OpText, pkt)
		return func(c *conn.Conn) { _ = c.WritePrepared(p) }
	}
	s.srv.Handler = conn.HandlerFuncs{
		Message: func(c *conn.Conn, op frame.OpCode, p []byte) {
			if op == frame.OpText {
				s.hub.Handle(c, p)
			}
		},
		Close: func(c *conn.Conn, _ frame.CloseCode, _ string) { s.hub.Gone(c) },
	}
	ln, err := conn.Listen("tcp", addr, false)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr returns the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the hub's WebSocket URL.
func (s *Server) URL() string { return "ws://" + s.Addr() + "/ws" }

// Subscribers returns the number of subscribers of channel ch.
func (s *Server) Subscribers(ch string) int { return s.hub.Subscribers(ch) }

// Conns returns the number of live connections.
func (s *Server) Conns() int { return s.srv.Len() }

// Close shuts the server down, closing connections with 1001.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	select {
	case serr := <-s.done:
		if serr != nil && !errors.Is(serr, conn.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	case <-ctx.Done():
	}
	return err
}
