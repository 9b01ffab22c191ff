// Package agent runs one process's share of a load test and lets a
// coordinator drive several such processes as one.
//
// An Agent executes steps (Cmd) and returns what they measured (Report). A
// Local agent runs them in this process on a client.Client; a Remote agent
// is a worker process (this same binary re-executed with the hidden -worker
// flag) that runs a Local agent and talks JSON lines over its stdin and
// stdout: commands in; a hello, replies and events (fan-out completions,
// progress counters) out. Serve is the worker's side of that conversation.
//
// A worker that dies is never hidden: its pending and later steps fail with
// the exit status and the tail of its stderr, and the Fleet records it for
// the report.
package agent
