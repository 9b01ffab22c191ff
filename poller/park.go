package poller

import (
	"os"
	"reflect"
	"syscall"
	"time"
	"unsafe"

	"github.com/cloudwego/netpoll"
	"golang.org/x/sys/unix"
)

// netpoll's poller goroutine blocks in epoll_wait(2) as a system call when
// its epoll instance has nothing ready. A goroutine blocked in a system call
// keeps its P, so the runtime's sysmon thread takes the P back after one tick
// (20 µs) and hands it to another thread, which blocks in the runtime's own
// epoll; and every time the poller wakes up again, sysmon restarts polling
// every 20 µs. A process that is mostly asleep (each of the 52 processes of a
// million-connection run) paid for that about 11 nanosleep and 2 futex calls
// and a runtime epoll wait per connection, more than the connection's own
// system calls (docs/benchmarks.md, "System calls per connection").
//
// parkPollers makes each poller wait in the runtime's poller instead, like
// any goroutine reading a socket: an epoll instance is itself a descriptor
// that polls readable while it has ready events, so a duplicate of it is
// registered with the runtime (an *os.File) and the poller goroutine parks on
// it between batches. One thread then sleeps for the whole process (the
// runtime's, which also serves Redis and the timers), and no P is ever held
// by a sleeping poller.
//
// The hook is netpoll's own loop (defaultPoll.Wait), which calls its Handler
// field with each batch of events. The first batch comes from netpoll's one
// blocking wait at start; the wrapped Handler then keeps the loop: it takes
// the next batches itself (epoll_wait without waiting, into a buffer of its
// own no larger than netpoll's, so netpoll's per-event buffers fit), hands
// each to netpoll's handler, returns to the free list the fd operators freed
// meanwhile (what netpoll's loop does between batches), and parks in the
// runtime's poller when nothing is ready. It returns to netpoll's loop only
// when the poll is closed, or, should parking fail, to let that loop go on
// as it always did.
//
// The pollers are made here (netpoll's unexported openPoll, by linkname),
// wrapped, started, and put into netpoll's poll manager before its first use,
// so netpoll starts none of its own and nothing writes a Handler that a
// running loop reads. Like trim.go this needs netpollVerified (checked at run
// time) and checks the layouts it relies on by reflection; when anything does
// not match, it leaves netpoll alone and the pollers block as before.
// TestPollersParkInTheRuntime verifies it; docs/architecture.md has the
// checklist for a netpoll upgrade.

//go:linkname netpollOpenPoll github.com/cloudwego/netpoll.openPoll
func netpollOpenPoll() (netpoll.Poll, error)

//go:linkname netpollFreeOperators github.com/cloudwego/netpoll.(*operatorCache).free
func netpollFreeOperators(cache unsafe.Pointer)

//go:linkname netpollManager github.com/cloudwego/netpoll.pollmanager
var netpollManager *pollManager

// pollManager is netpoll's manager (poll_manager.go at netpollVerified).
type pollManager struct {
	numLoops int32
	status   int32          // 0 until the first Pick starts the pollers
	balance  [2]uintptr     // netpoll's loadbalance interface; rebuilt only through Configure
	polls    []netpoll.Poll // the pollers; netpoll starts its own for those missing
}

// epollEvent is netpoll's epollevent (sys_epoll_linux.go): checked by
// eventLayoutOK before a Handler is cast to take it.
type epollEvent struct {
	events uint32
	data   [8]byte
}

// parkedPollers counts the pollers that wait in the runtime's poller (for
// tests and Parked).
var parkedPollers int

// Parked reports how many of netpoll's pollers wait in the runtime's poller
// rather than in a blocking epoll_wait (0 when netpoll is not the verified
// version, or was in use before Setup). Call it after Setup.
func Parked() int {
	setupMu.Lock()
	defer setupMu.Unlock()
	return parkedPollers
}

// parkPollers makes n pollers, parks those whose layout checks out, starts
// them and hands them to netpoll's manager. It returns how many are parked.
// Called once, from Setup, before netpoll's first use.
func parkPollers(n int) int {
	m := netpollManager
	if !netpollVersionOK() || m == nil || m.status != 0 || len(m.polls) != 0 {
		return 0
	}
	polls := make([]netpoll.Poll, 0, n)
	parked := 0
	for range n {
		p, err := netpollOpenPoll()
		if err != nil {
			break // netpoll opens the rest itself, and will fail the same way
		}
		if park(p) != nil {
			parked++
		}
		polls = append(polls, p)
		go p.Wait() //nolint:errcheck // as netpoll's manager does: Wait ends when the poll is closed
	}
	m.polls = polls
	return parked
}

// park wraps the Handler of one poller that has not started; it returns nil
// when it did not.
func park(p netpoll.Poll) *parkedPoll {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct || v.Elem().Type().Name() != "defaultPoll" {
		return nil
	}
	f, ok := pollFields(v.Elem())
	if !ok {
		return nil
	}
	w, err := newParkedPoll(f.epfd)
	if err != nil {
		return nil
	}
	w.size, w.cache = f.size, f.cache
	h := (*func([]epollEvent) bool)(f.handler.Addr().UnsafePointer())
	w.handle = *h
	*h = w.handler
	return w
}

type pollLayout struct {
	epfd    int
	handler reflect.Value  // the Handler field
	size    *int           // pollArgs.size: the length of netpoll's per-event buffers
	cache   unsafe.Pointer // *operatorCache
}

// pollFields checks defaultPoll{pollArgs{size int; ...}; fd int; ...;
// opcache *operatorCache; ...; Handler func([]epollevent) bool} and the
// operatorCache's free list.
func pollFields(s reflect.Value) (f pollLayout, ok bool) {
	fd := s.FieldByName("fd")
	size := s.FieldByName("size")
	cache := s.FieldByName("opcache")
	f.handler = s.FieldByName("Handler")
	if !fd.IsValid() || fd.Kind() != reflect.Int || fd.Int() <= 0 ||
		!size.IsValid() || size.Kind() != reflect.Int || !size.CanAddr() ||
		!cache.IsValid() || cache.Kind() != reflect.Pointer || cache.IsNil() || cache.Type().Elem().Name() != "operatorCache" ||
		!f.handler.IsValid() || !f.handler.CanSet() || f.handler.IsNil() {
		return f, false
	}
	if _, found := cache.Type().Elem().FieldByName("freelist"); !found {
		return f, false
	}
	ft := f.handler.Type()
	if ft.Kind() != reflect.Func || ft.NumIn() != 1 || ft.NumOut() != 1 || ft.IsVariadic() ||
		ft.Out(0) != reflect.TypeFor[bool]() || ft.In(0).Kind() != reflect.Slice || !eventLayoutOK(ft.In(0).Elem()) {
		return f, false
	}
	f.epfd = int(fd.Int())
	f.size = (*int)(size.Addr().UnsafePointer())
	f.cache = cache.UnsafePointer()
	return f, true
}

func eventLayoutOK(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.Size() == unsafe.Sizeof(epollEvent{}) && t.NumField() == 2 &&
		t.Field(0).Type == reflect.TypeFor[uint32]() && t.Field(0).Offset == 0 &&
		t.Field(1).Type == reflect.TypeFor[[8]byte]() && t.Field(1).Offset == unsafe.Offsetof(epollEvent{}.data)
}

// parkedPoll is one poller's loop. Its methods run on the poller's own
// goroutine only.
type parkedPoll struct {
	handle func([]epollEvent) bool // netpoll's handler: true when the poll was closed
	size   *int                    // netpoll's buffer length, read before each batch
	cache  unsafe.Pointer          // netpoll's operator cache
	file   *os.File                // a duplicate of the epoll descriptor, in the runtime's poller
	raw    syscall.RawConn
	serve  func(uintptr) bool // serveReady as a method value, made once
	closed bool               // netpoll's handler saw the poll closed
	events [128]epollEvent    // netpoll's buffers start at 128 and only grow
}

func newParkedPoll(epfd int) (*parkedPoll, error) {
	dup, err := unix.FcntlInt(uintptr(epfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	// O_NONBLOCK is what makes os.NewFile register the descriptor with the
	// runtime's poller; epoll_wait ignores it, so netpoll's loop, which shares
	// the open file, is unaffected.
	if err := unix.SetNonblock(dup, true); err != nil {
		_ = unix.Close(dup)
		return nil, err
	}
	f := os.NewFile(uintptr(dup), "netpoll-epoll")
	// A file the runtime could not register has no deadlines: that is the
	// one observable sign.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		_ = f.Close()
		return nil, err
	}
	raw, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	w := &parkedPoll{file: f, raw: raw}
	w.serve = w.serveReady
	return w, nil
}

// handler takes the first batch from netpoll's loop and then keeps the loop
// itself (serveReady, parking in between) until the poll is closed.
func (w *parkedPoll) handler(events []epollEvent) bool {
	if w.handle(events) {
		_ = w.file.Close()
		return true
	}
	netpollFreeOperators(w.cache)
	// Read returns when serveReady does (the poll closed), or with an error,
	// which cannot happen while the file is open (only this goroutine closes
	// it); then netpoll's loop goes on by itself.
	_ = w.raw.Read(w.serve)
	if w.closed {
		_ = w.file.Close()
		return true
	}
	return false
}

// serveReady hands every ready batch to netpoll's handler and returns false
// (park until the epoll descriptor polls readable) when none is left, true
// when the poll was closed. Read calls it once after resetting the
// descriptor's readiness, and again after each wake-up, so an event that
// arrives after the last empty epoll_wait always wakes the goroutine.
func (w *parkedPoll) serveReady(fd uintptr) bool {
	events := w.events[:min(len(w.events), *w.size)]
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, fd, uintptr(unsafe.Pointer(&events[0])),
			uintptr(len(events)), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 || n == 0 {
			return false
		}
		if w.handle(events[:n]) {
			w.closed = true
			return true
		}
		netpollFreeOperators(w.cache)
	}
}
