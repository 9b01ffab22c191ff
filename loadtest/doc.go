// Command loadtest is Surge's load generator: it opens many WebSocket
// connections to a hub speaking Surge's JSON protocol and measures what the
// server (and the generator itself) spends on them.
//
//	go run ./loadtest fanout -url ws://127.0.0.1:8080/ws -n 5000 -msgs 200 -server-pid $(pgrep chat)
//
// The client is event-driven (the library's conn.Dialer on netpoll: no
// goroutine per connection), so one process holds as many connections as its
// file-descriptor limit allows; larger runs start worker processes (this
// binary with the hidden -worker flag) and merge their results. See
// docs/loadtest.md for each scenario, how to read the numbers and how to tune
// a machine for large runs.
package main
