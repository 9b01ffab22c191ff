package main

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// parkedWait waits for epoll events without blocking in epoll_wait: the
// epoll descriptor, duplicated, sits in the Go runtime's poller (it polls
// readable while events are ready), so the goroutine parks there like one
// reading a socket and no thread sleeps in a system call holding a P. It is
// the floor's version of what poller/park.go does for netpoll's pollers.
type parkedWait struct {
	f      *os.File
	rc     syscall.RawConn
	events []unix.EpollEvent
	n      int
	err    error
	poll   func(uintptr) bool
}

func newParkedWait(ep int, events []unix.EpollEvent) (*parkedWait, error) {
	dup, err := unix.FcntlInt(uintptr(ep), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(dup, true); err != nil { // so that os.NewFile registers it
		_ = unix.Close(dup)
		return nil, err
	}
	f := os.NewFile(uintptr(dup), "floor-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	w := &parkedWait{f: f, rc: rc, events: events}
	w.poll = w.try
	return w, nil
}

// wait returns the next batch. Read resets the descriptor's readiness, then
// calls try, and again after each wake-up, so events that arrive after an
// empty try always wake it.
func (w *parkedWait) wait() (int, error) {
	w.n, w.err = 0, nil
	if err := w.rc.Read(w.poll); err != nil {
		return 0, err
	}
	return w.n, w.err
}

func (w *parkedWait) try(fd uintptr) bool {
	n, err := unix.EpollWait(int(fd), w.events, 0)
	if err == unix.EINTR || (err == nil && n == 0) {
		return false
	}
	w.n, w.err = n, err
	return true
}

func (w *parkedWait) close() { _ = w.f.Close() }
