package poller

import (
	"reflect"
	"sync"
	"syscall"
	"unsafe"

	"github.com/cloudwego/netpoll"
)

// netpoll gives every connection a pooled 32-entry write barrier (about
// 1.3 KiB: 32 byte-slice headers and 32 iovecs) that it uses only inside its
// own Flush, for the first sendmsg of a flush. conn writes with its own
// writev and calls Flush only when the kernel's send buffer is full, so the
// barrier is dead weight on an idle connection — the largest single item of
// its memory. ShrinkWriteBarrier swaps in a one-entry barrier (88 bytes);
// Flush stays correct because it sizes its work by len(bs), and the rest of a
// partial flush is written by the poller with its own barriers.
//
// It reaches into netpoll's unexported field, so it checks the field's name
// and exact layout first and does nothing (returning false) on a netpoll
// whose layout differs; TestShrinkWriteBarrier pins the netpoll version we
// verified (v0.7.2).

type smallBarrier struct {
	bs  [][]byte
	ivs []syscall.Iovec
	b   [1][]byte
	iv  [1]syscall.Iovec
}

var barrierOffsets sync.Map // reflect.Type -> uintptr (offset of outputBarrier, or ^0 if unusable)

const noOffset = ^uintptr(0)

// ShrinkWriteBarrier must be called before the connection's first Flush
// (conn calls it while preparing the connection). It reports whether the
// barrier was replaced.
func ShrinkWriteBarrier(c netpoll.Connection) bool {
	t := reflect.TypeOf(c)
	off, ok := barrierOffsets.Load(t)
	if !ok {
		off = barrierOffset(t)
		barrierOffsets.Store(t, off)
	}
	o := off.(uintptr)
	if o == noOffset {
		return false
	}
	sb := &smallBarrier{}
	sb.bs, sb.ivs = sb.b[:], sb.iv[:]
	p := reflect.ValueOf(c).UnsafePointer()
	*(*unsafe.Pointer)(unsafe.Add(p, o)) = unsafe.Pointer(sb)
	return true
}

// barrierOffset finds outputBarrier in *T (directly or in an embedded
// struct) and checks that it points to struct{ [][]byte; []syscall.Iovec }.
func barrierOffset(t reflect.Type) uintptr {
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return noOffset
	}
	f, ok := t.Elem().FieldByName("outputBarrier")
	if !ok || f.Type.Kind() != reflect.Pointer {
		return noOffset
	}
	bt := f.Type.Elem()
	if bt.Kind() != reflect.Struct || bt.NumField() != 2 ||
		bt.Field(0).Type != reflect.TypeFor[[][]byte]() || bt.Field(0).Offset != 0 ||
		bt.Field(1).Type != reflect.TypeFor[[]syscall.Iovec]() ||
		bt.Field(1).Offset != unsafe.Offsetof(smallBarrier{}.ivs) {
		return noOffset
	}
	// FieldByName's Offset is relative to the embedding struct only for
	// direct fields; sum the offsets along the index path.
	off := uintptr(0)
	st := t.Elem()
	for _, i := range f.Index {
		sf := st.Field(i)
		off += sf.Offset
		st = sf.Type
		if st.Kind() == reflect.Pointer && st != f.Type {
			return noOffset // embedded by pointer: not a layout we handle
		}
	}
	return off
}
