// Package peers holds the servers loadtest compare measures Surge against.
// Each is a command speaking the same protocol subset (loadtest/internal/wire)
// at /ws on -addr, written the way its library is ordinarily used:
//
//   - gorilla: github.com/gorilla/websocket in the canonical hub pattern,
//     a read goroutine and a write goroutine per connection;
//   - nbio: github.com/lesismal/nbio's event-loop HTTP server and websocket
//     upgrader, no goroutine per connection;
//   - stub: loadtest's own minimal hub on Surge's conn/ package;
//   - floor: no library at all, one goroutine on a raw epoll loop answering
//     handshakes, subscribes, publishes (one write per subscriber) and echo
//     requests: the least a Go server can spend per connection, round trip
//     and delivery.
package peers
