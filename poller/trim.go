package poller

import (
	"reflect"
	"runtime/debug"
	"sync"
	"syscall"
	"unsafe"

	_ "github.com/cloudwego/netpoll" // for barrierPool below
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
