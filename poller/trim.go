package poller

import (
	"reflect"
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
// It reaches into netpoll's unexported pool by linkname, pinned to the
// netpoll version in go.mod (a rename fails the build, loudly), and checks
// the barrier's layout at run time; on a layout it does not know it changes
// nothing. TestWriteBarriersAreSmall verifies both.

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
