// Package counter has counters that many goroutines add to without sharing a
// cache line: each Counter is spread over slots of their own line, and each
// caller adds to the slot its hint picks (a connection's, say), so
// connections served on different CPUs rarely touch the same line. Reading
// sums the slots: for scrapes and Stats, not for the hot path.
package counter

import "sync/atomic"

// Slots is the number of slots of a Counter (a power of two).
const Slots = 32

// Counter is a sharded uint64 counter. Its zero value is zero. Add and Load
// are safe for concurrent use; a Load concurrent with Adds sees each Add
// either whole or not at all.
type Counter struct {
	slots [Slots]slot
}

type slot struct {
	n atomic.Uint64
	_ [56]byte // the rest of the cache line
}

// Add adds n to the slot hint picks.
func (c *Counter) Add(hint uintptr, n uint64) {
	c.slots[mix(hint)&(Slots-1)].n.Add(n)
}

// Load returns the sum of the slots.
func (c *Counter) Load() uint64 {
	var sum uint64
	for i := range c.slots {
		sum += c.slots[i].n.Load()
	}
	return sum
}

// mix spreads pointer-like hints (aligned, so low bits are zero) over the
// slots.
func mix(h uintptr) uintptr {
	h ^= h >> 17
	h *= 0x9E3779B97F4A7C15 & ^uintptr(0)
	return h >> 7
}
