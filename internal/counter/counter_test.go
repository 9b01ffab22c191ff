package counter

import (
	"sync"
	"testing"
	"unsafe"
)

func TestCounterSumsAcrossGoroutines(t *testing.T) {
	var c Counter
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10_000 {
				c.Add(uintptr(g*4096+i*64), 2)
			}
		}()
	}
	wg.Wait()
	if got := c.Load(); got != 8*10_000*2 {
		t.Fatalf("Load = %d, want %d", got, 8*10_000*2)
	}
}

// Hints of objects allocated apart land on different slots.
func TestCounterSpreadsHints(t *testing.T) {
	used := map[uintptr]bool{}
	for i := range 256 {
		used[mix(uintptr(0xc000100000+i*320))&(Slots-1)] = true
	}
	if len(used) < Slots/2 {
		t.Fatalf("256 objects of 320 bytes use %d of %d slots", len(used), Slots)
	}
	if s := unsafe.Sizeof(slot{}); s != 64 {
		t.Fatalf("a slot is %d bytes, want a cache line (64)", s)
	}
}

func BenchmarkCounterParallel(b *testing.B) {
	var c Counter
	b.RunParallel(func(pb *testing.PB) {
		x := new(int) // a per-goroutine hint, as a connection would be
		for pb.Next() {
			c.Add(uintptr(unsafe.Pointer(x)), 1)
		}
	})
}
