// Package compare runs the same scenarios against Surge's example hub and
// the comparison peers (a gorilla/websocket hub and an nbio server, both in
// loadtest/peers), each on a fresh server process, and keeps one table of the
// results in docs/benchmarks.md between <!-- compare:begin --> and
// <!-- compare:end -->, with the machine, the command and the date.
//
// Servers are built with `go build` from the repository root, so the figures
// are for the code in the working tree.
package compare
