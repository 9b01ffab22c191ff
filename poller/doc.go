// Package poller owns the event loop: netpoll's listeners and process-wide
// configuration, the file-descriptor limit, and one timing wheel that carries
// every per-connection deadline of the process.
//
// Nothing above this package touches netpoll's globals. Setup configures them
// once per process (a later call with other options fails with
// ErrConfigured instead of being ignored); the runner that decides where
// netpoll's input tasks run is fixed here and asks the task's context
// (Inliner). trim.go is the one file that reaches into netpoll's internals
// (its write-barrier pool, its server's record of connections: ServerIndex),
// each checked at start and pinned to one netpoll version. A Wheel and a
// ServerIndex are safe for concurrent use.
package poller
