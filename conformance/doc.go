// Package conformance holds no code: its tests play the Autobahn|Testsuite
// case catalogue (sections 1-7, 9 scaled down, 10, and a sample of 12 and
// 13 for permessage-deflate) against the example echo server, and fuzz an
// in-process conn.Server with arbitrary bytes after a valid handshake.
//
// The echo server is built from ./examples/echo into a temporary directory
// and run as a child process on a loopback port the first time a test needs
// it; TestMain kills it when the tests are done. Every case opens its own
// connection with a raw-frame client that can send what no real client would
// (reserved bits and opcodes, bad UTF-8, fragmented control frames, frames
// cut into single bytes) and checks, byte for byte, what comes back: the
// echoed messages and pongs, the close code the server fails the connection
// with, and that it is the server that closes the TCP connection.
//
// Run it with:
//
//	go test -race -count=1 ./conformance/
//	go test -run='^$' -fuzz=FuzzServerInput -fuzztime=10s ./conformance/
//
// Section 9's sizes are scaled down (messages up to 1 MiB instead of 16 MiB)
// and the catalogue's one-second waits shortened, so the whole suite runs in
// seconds. The case ids in the subtest names are Autobahn's, so a failure
// can be looked up in its catalogue.
package conformance
