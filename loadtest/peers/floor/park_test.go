package main

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// parkedWait returns an event that arrives while it is parked, and one that
// was already ready before it was called.
func TestParkedWait(t *testing.T) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ep)
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(efd)
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, efd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}); err != nil {
		t.Fatal(err)
	}
	w, err := newParkedWait(ep, make([]unix.EpollEvent, 8))
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	got := waitAsync(t, w)
	time.Sleep(20 * time.Millisecond) // let it park
	if _, err := unix.Write(efd, one); err != nil {
		t.Fatal(err)
	}
	expectOne(t, got, "an event written while wait was parked did not wake it")
	// Still ready (level-triggered, not read): the next wait returns at once.
	expectOne(t, waitAsync(t, w), "an event ready before wait was called did not end it")
}

// waitAsync runs one wait on its own goroutine and delivers its count.
func waitAsync(t *testing.T, w *parkedWait) <-chan int {
	got := make(chan int, 1)
	go func() {
		n, err := w.wait()
		if err != nil {
			t.Error(err)
		}
		got <- n
	}()
	return got
}

// expectOne waits up to 2 s for a wait that returns one event.
func expectOne(t *testing.T, got <-chan int, what string) {
	t.Helper()
	select {
	case n := <-got:
		if n != 1 {
			t.Fatalf("wait = %d events, want 1", n)
		}
	case <-time.After(2 * time.Second):
		t.Fatal(what + " within 2 s")
	}
}
