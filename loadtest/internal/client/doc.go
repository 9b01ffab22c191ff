// Package client drives many WebSocket connections from one process on the
// library's event loop (conn.Dialer): no goroutine per connection, so a
// process holds as many connections as its file-descriptor limit allows and
// the load generator's own footprint stays small enough to measure.
//
// A Client owns the connections of one process. Its steps (Connect, Arm and
// Collect for fan-out, Echo, Churn, ConnectSlow and ProbeSlow, CloseAll) are
// called one at a time by the process's agent; the connections' callbacks run
// concurrently on netpoll's goroutines and only touch atomics, sharded
// histograms and the per-message tracking arrays.
//
// Times are taken on CLOCK_MONOTONIC, which every process on the machine
// shares, so a publisher in one process and subscribers in another measure
// one latency.
package client
