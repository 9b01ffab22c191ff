// Package conn is the raw WebSocket connection API on netpoll's event loop:
// a Server that accepts and upgrades connections, a Dialer for the client
// side, and Conn for reading (through Handler callbacks) and writing.
//
// # Model
//
// There is no goroutine per connection. netpoll's epoll loop notices input
// and lends the connection a pooled goroutine that parses every byte
// available, runs the Handler callbacks and returns; an incomplete frame is
// copied aside into a buffer that exists only until the frame is complete.
// Writes go into the connection's bounded queue; the goroutine that finds the
// connection idle writes everything queued with one writev, and only a write
// the kernel does not take at once borrows a goroutine until the socket
// drains. Every deadline (handshake, read, ping, pong, close) lives on one
// timing wheel per process.
//
// # Embedding
//
// Serve a listener from Listen, or mount the Server in any net/http router:
// it is an http.Handler whose upgrades leave net/http for the event loop
// (ServeHTTP). Route picks an Endpoint per request (several services on one
// port); Fallback serves plain HTTP requests on Serve's port through a
// net/http server.
//
// # Concurrency
//
// Handler callbacks for one connection run one at a time, in order; see
// Handler for how long they may block. Conn's write and close methods may be
// called from any goroutine at any time and never wait for the network; see
// Config.SendQueue and Overflow for what happens when a peer does not keep up.
// Payloads passed to OnMessage are valid only during the call.
package conn
