package main

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/surge-ws/ws/loadtest/internal/wire"
)

// The constants of gorilla's chat example.
const (
	writeWait      = 10 * time.Second
	pongWait       = 60 * time.Second
	pingPeriod     = pongWait * 9 / 10
	maxMessageSize = 64 << 10
	sendBuffer     = 256
)

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024,
	CheckOrigin: func(*http.Request) bool { return true }}

// client is one connection: the read loop runs in the handler's goroutine,
// the write loop in its own.
type client struct {
	conn *websocket.Conn
	send chan []byte

	// mu orders queue against close: gorilla's example serializes them in
	// its hub goroutine; here publishers queue directly, and a send on the
	// closed channel would panic.
	mu     sync.Mutex
	closed bool
}

// queue hands msg to the write goroutine; a client that fell sendBuffer
// messages behind is dropped, as in gorilla's example.
func (c *client) queue(msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	select {
	case c.send <- msg:
	default:
		c.closed = true
		close(c.send)
	}
}

// close makes the write goroutine send a close frame and stop.
func (c *client) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.send)
	}
}

type hub struct{ wire.Hub[*client] }

func newHub() *hub {
	h := &hub{}
	h.Reply = func(c *client, msg []byte) { c.queue(msg) }
	h.Prepare = func(pkt []byte) func(*client) { return func(c *client) { c.queue(pkt) } }
	return h
}

func (h *hub) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &client{conn: conn, send: make(chan []byte, sendBuffer)}
	go c.writePump()
	h.readPump(c)
}

func (h *hub) readPump(c *client) {
	defer func() {
		h.Gone(c)
		c.close()
		c.conn.Close()
	}()
	c.conn.SetReadLimit(maxMessageSize)
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		// Any message shows the peer is alive (our load clients do not pong
		// on their own schedule).
		_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
		h.Handle(c, msg)
	}
}

func (c *client) writePump() {
	t := time.NewTicker(pingPeriod)
	defer func() {
		t.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case msg, ok := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				_ = c.conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-t.C:
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}
