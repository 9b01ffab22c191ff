// Package abuse is the load generator's hostile-client suite (the abuse
// scenario): clients that flood, vanish, trickle, never read, break the
// protocol or drive handlers that panic or block, one case after another,
// each beside a well-behaved probe client whose round trips show whether
// anyone else was still served.
//
// # Model
//
// Every case runs on a freshly started server process (examples/chat, or
// loadtest/peers/hostile for the handler cases) unless a -url is given. A
// case is: connect the probe, read the server's descriptors, goroutines and
// memory (the baseline), run the offenders, wait (bounded) for the
// descriptors and goroutines to come back, stop the probe, stop the server.
// Its verdict fails on a probe that waited longer than the liveness bound
// for an answer, an offender that did not get the expected answer, a server
// that did not return to its baseline, exited or would not stop.
//
// Offenders are plain net.Conns with hand-built frames (raw.go): they must
// be able to do what no WebSocket library lets a client do. They come from
// their own loopback address (127.0.0.2 by default), the probe from
// 127.0.0.1, so that per-address limits meant for the offenders do not hit
// the probe.
//
// # Concurrency
//
// Run runs one case at a time. Within a case, offenders run on their own
// goroutines and count what they got in the case's tally; the probe has an
// asking and a listening goroutine. Every wait is bounded by Options.Timeout,
// Sizes.Hold, Options.CaseTime or Options.ReturnWithin.
package abuse
