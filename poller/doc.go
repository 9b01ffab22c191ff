// Package poller owns the event loop: the listening sockets netpoll serves
// (Listen: one raw accept4 per connection, close-on-exec) and process-wide
// configuration, the file-descriptor limit, and one timing wheel that carries
// every per-connection deadline of the process.
//
// Nothing above this package touches netpoll's globals. Setup configures them
// once per process (a later call with other options fails with
// ErrConfigured instead of being ignored); the runner that decides where
// netpoll's input tasks run is fixed here and asks the task's context
// (Inliner). Two files reach into netpoll's internals, each reach checked at
// start and pinned to one netpoll version: trim.go (its write-barrier pool,
// its server's record of connections: ServerIndex) and park.go (its pollers
// wait in the Go runtime's poller instead of blocking in epoll_wait, which
// would hold a P and keep the runtime's sysmon polling). A Wheel and a
// ServerIndex are safe for concurrent use; Parked may be called from any
// goroutine after Setup.
package poller
