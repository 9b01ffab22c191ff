// Package poller owns the event loop: netpoll's listeners and process-wide
// configuration, the file-descriptor limit, and one timing wheel that carries
// every per-connection deadline of the process.
//
// Nothing above this package touches netpoll's globals. Setup is called once
// per process (later calls are no-ops that return the first call's result);
// a Wheel is safe for concurrent use.
package poller
