package client

import "golang.org/x/sys/unix"

// Now returns CLOCK_MONOTONIC in nanoseconds. Unlike time.Now's monotonic
// reading it is comparable across processes (workers and the coordinator
// stamp and read the same clock), and unlike the wall clock it never jumps.
func Now() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) // cannot fail for this clock
	return ts.Nano()
}
