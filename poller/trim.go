package poller

import (
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/cloudwego/netpoll"
)

// netpoll gives every connection a pooled 32-entry write barrier (about
// 1.3 KiB: 32 byte-slice headers and 32 iovecs) that it uses only inside its
// own Flush, for the first sendmsg of a flush. conn writes with its own
// writev and calls Flush only when the kernel's send buffer is full, so the
// barrier is dead weight on an idle connection — the largest single item of
// its memory. shrinkWriteBarriers makes netpoll's pool hand out one-entry
// barriers (88 bytes) instead. Flush stays correct because it sizes its work
// by len(bs), and the rest of a partial flush is written by the poller with
// its own barriers.
//
// It reaches into netpoll's unexported pool by linkname. A rename fails the
// build, loudly; a change of the variable's type would not (linkname aliases
// whatever memory carries the name), so the pool is touched only when the
// binary was built with the netpoll version whose source was read for this
// (netpollVerified, checked against the build info at run time), and the
// barrier's layout is checked too; otherwise it changes nothing.
// TestWriteBarriersAreSmall verifies both; docs/architecture.md has the
// checklist for a netpoll upgrade.

//go:linkname netpollBarrierPool github.com/cloudwego/netpoll.barrierPool
var netpollBarrierPool sync.Pool

// smallBarrier starts with netpoll's barrier layout (two slice headers) and
// carries the one-element arrays they point into, so a barrier is one
// allocation.
type smallBarrier struct {
	bs  [][]byte
	ivs []syscall.Iovec
	b   [1][]byte
	iv  [1]syscall.Iovec
}

var barrierType reflect.Type // *netpoll.barrier, once known

// shrinkWriteBarriers installs the small-barrier constructor; it reports
// whether it did. Called once, from Setup, before any connection exists.
func shrinkWriteBarriers() bool {
	if !netpollVersionOK() {
		return false
	}
	sample := netpollBarrierPool.Get()
	t := reflect.TypeOf(sample)
	if t == nil || t.Kind() != reflect.Pointer || !barrierLayoutOK(t.Elem()) {
		if sample != nil {
			netpollBarrierPool.Put(sample)
		}
		return false
	}
	barrierType = t
	netpollBarrierPool.New = func() any {
		sb := &smallBarrier{}
		sb.bs, sb.ivs = sb.b[:], sb.iv[:]
		return reflect.NewAt(t.Elem(), unsafe.Pointer(sb)).Interface()
	}
	return true
}

func barrierLayoutOK(bt reflect.Type) bool {
	return bt.Kind() == reflect.Struct && bt.NumField() == 2 &&
		bt.Field(0).Type == reflect.TypeFor[[][]byte]() && bt.Field(0).Offset == 0 &&
		bt.Field(1).Type == reflect.TypeFor[[]syscall.Iovec]() &&
		bt.Field(1).Offset == unsafe.Offsetof(smallBarrier{}.ivs)
}

// netpollVerified is the netpoll version whose barrierPool is a sync.Pool of
// *barrier{bs [][]byte; ivs []syscall.Iovec}, read from its source.
const netpollVerified = "v0.7.2"

// netpollVersionOK reports whether this binary was built with
// netpollVerified. A program's build info lists its modules; a test binary's
// lists none, and there TestNetpollPinned checks go.mod instead. A replaced
// netpoll (a fork, a local copy) is never trusted.
func netpollVersionOK() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	if len(bi.Deps) == 0 {
		return true // a test binary: go.mod is checked by TestNetpollPinned
	}
	for _, m := range bi.Deps {
		if m.Path == "github.com/cloudwego/netpoll" {
			return m.Replace == nil && m.Version == netpollVerified
		}
	}
	return false
}

// netpoll's server keeps every connection it accepted in a sync.Map (fd ->
// connection), for its own Close to close them. conn keeps a registry of its
// own and closes its connections itself before it shuts the event loop down,
// so that record is dead weight: about 190 bytes a connection (a hash-trie
// node and the boxed key and value), the largest single item netpoll keeps
// for an idle connection after the ones it needs. ServerIndex deletes the
// entries one connection at a time.
//
// It reaches the map through the event loop's unexported fields: the
// eventLoop struct embeds the mutex that guards its svr field, and the
// server struct holds the map in its connections field. The names, types
// and offsets are checked by reflection before any pointer is followed, and
// only in a binary built with netpollVerified (netpollVersionOK); otherwise
// NewServerIndex returns nil and Forget does nothing.

// ServerIndex is netpoll's record of the connections one event loop
// accepted. Forget may be called from any goroutine.
type ServerIndex struct {
	evl unsafe.Pointer // *netpoll.eventLoop
	m   atomic.Pointer[sync.Map]
}

var serverLayout struct {
	once           sync.Once
	ok             bool
	svrOff, mapOff uintptr
}

// NewServerIndex returns the index of evl (from netpoll.NewEventLoop), or
// nil when this netpoll's layout is not the verified one.
func NewServerIndex(evl netpoll.EventLoop) *ServerIndex {
	t := reflect.TypeOf(evl)
	serverLayout.once.Do(func() {
		serverLayout.svrOff, serverLayout.mapOff, serverLayout.ok = serverIndexLayout(t)
	})
	if !serverLayout.ok || t != eventLoopType {
		return nil
	}
	return &ServerIndex{evl: reflect.ValueOf(evl).UnsafePointer()}
}

var eventLoopType reflect.Type // *netpoll.eventLoop, once the layout was checked

// serverIndexLayout checks *eventLoop{sync.Mutex; ...; svr *server} and
// server{...; connections sync.Map} and returns the two offsets.
func serverIndexLayout(t reflect.Type) (svrOff, mapOff uintptr, ok bool) {
	if !netpollVersionOK() || t == nil || t.Kind() != reflect.Pointer {
		return 0, 0, false
	}
	e := t.Elem()
	if e.Kind() != reflect.Struct || e.Name() != "eventLoop" || e.NumField() == 0 {
		return 0, 0, false
	}
	if mu := e.Field(0); !mu.Anonymous || mu.Offset != 0 || mu.Type != reflect.TypeFor[sync.Mutex]() {
		return 0, 0, false
	}
	svr, found := e.FieldByName("svr")
	if !found || svr.Type.Kind() != reflect.Pointer || svr.Type.Elem().Name() != "server" ||
		svr.Type.Elem().Kind() != reflect.Struct {
		return 0, 0, false
	}
	conns, found := svr.Type.Elem().FieldByName("connections")
	if !found || conns.Type != reflect.TypeFor[sync.Map]() {
		return 0, 0, false
	}
	eventLoopType = t
	return svr.Offset, conns.Offset, true
}

// Forget deletes fd from the index. Before the event loop serves (its
// server does not exist yet) it does nothing.
func (x *ServerIndex) Forget(fd int) {
	if m := x.index(); m != nil {
		m.Delete(fd)
	}
}

// Len counts the connections in the index (for tests: it walks the map).
func (x *ServerIndex) Len() int {
	n := 0
	if m := x.index(); m != nil {
		m.Range(func(any, any) bool { n++; return true })
	}
	return n
}

func (x *ServerIndex) index() *sync.Map {
	if x == nil {
		return nil
	}
	if m := x.m.Load(); m != nil {
		return m
	}
	mu := (*sync.Mutex)(x.evl)
	mu.Lock()
	svr := *(*unsafe.Pointer)(unsafe.Add(x.evl, serverLayout.svrOff))
	mu.Unlock()
	if svr == nil {
		return nil
	}
	m := (*sync.Map)(unsafe.Add(svr, serverLayout.mapOff))
	x.m.Store(m)
	return m
}

// Every netpoll connection carries two one-slot channels (112 bytes each)
// that wake a goroutine blocked in its Reader or its Flush. A connection
// served by conn never blocks in a read — its input callback takes exactly
// the bytes that are there — so the read channel is never waited on; only
// Flush's (a slow consumer's pending write) is. DropReadTrigger removes the
// read channel of such a connection. netpoll only ever sends on it in a
// select with a default case, which a nil channel skips; a blocking read on
// the connection afterwards would wait forever, so it is for connections
// whose owner never makes one.
//
// Call it before netpoll hands the connection to a poller (from OnPrepare):
// after that a poller goroutine may read the field. The connection's type,
// the field's name and type are checked by reflection, and only in a binary
// built with netpollVerified; otherwise it does nothing and reports false.

var readTriggerLayout struct {
	once sync.Once
	typ  reflect.Type // *netpoll.connection
	off  uintptr
}

// DropReadTrigger releases np's read-wake channel; see above for when that
// is safe. It reports whether it did.
func DropReadTrigger(np netpoll.Connection) bool {
	t := reflect.TypeOf(np)
	l := &readTriggerLayout
	l.once.Do(func() { l.typ, l.off = readTriggerField(t) })
	if l.typ == nil || t != l.typ {
		return false
	}
	*(*chan error)(unsafe.Add(reflect.ValueOf(np).UnsafePointer(), l.off)) = nil
	return true
}

// readTriggerField checks *connection{...; readTrigger chan error; ...} and
// returns the type and the field's offset, or a nil type.
func readTriggerField(t reflect.Type) (reflect.Type, uintptr) {
	if !netpollVersionOK() || t == nil || t.Kind() != reflect.Pointer {
		return nil, 0
	}
	e := t.Elem()
	if e.Kind() != reflect.Struct || e.Name() != "connection" || e.PkgPath() != "github.com/cloudwego/netpoll" {
		return nil, 0
	}
	f, ok := e.FieldByName("readTrigger")
	if !ok || f.Type != reflect.TypeFor[chan error]() || len(f.Index) != 1 {
		return nil, 0
	}
	return t, f.Offset
}
