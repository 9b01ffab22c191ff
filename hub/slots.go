package hub

import (
	"sync"
	"sync/atomic"
)

// slotSet is a set of clients that publishers iterate without a lock and without allocating, while
// subscribe and unsubscribe stay O(1) (amortized). Members live in an array of atomic slots; a removed
// member's slot is set to nil and reused by the next add. Readers load the array and walk it up to the
// high-water mark, skipping nil slots. Growing or shrinking copies into a new array and swaps it in;
// readers still walking the old one finish on it.
//
// Semantics for a publish concurrent with a subscribe or unsubscribe of the same channel: the member
// may or may not be reached; every member that was in the set for the whole walk is reached exactly once.
//
// Writers (add, remove) hold mu, taken by the caller; readers (each, len) hold nothing. Nothing is
// called with mu held, so a client's peer may call back into the hub from WritePrepared.
type slotSet struct {
	mu    sync.Mutex
	index map[*Client]int32 // slot of each member, for sets of more than indexAbove; writers only
	free  []int32           // empty slots below hwm; writers only
	slots atomic.Pointer[[]atomic.Pointer[Client]]
	hwm   atomic.Int32 // slots at and above hwm are empty
	count atomic.Int32
}

const (
	minSlots   = 4
	indexAbove = 8 // smaller sets find a member's slot by scanning: no map for one-client channels
)

// find returns c's slot. The caller holds s.mu.
func (s *slotSet) find(c *Client) (int32, bool) {
	if s.index != nil {
		i, ok := s.index[c]
		return i, ok
	}
	p := s.slots.Load()
	if p == nil {
		return 0, false
	}
	arr := *p
	for i := range arr[:s.hwm.Load()] {
		if arr[i].Load() == c {
			return int32(i), true
		}
	}
	return 0, false
}

// buildIndex makes the member-to-slot map from the array.
func (s *slotSet) buildIndex(arr []atomic.Pointer[Client]) {
	s.index = make(map[*Client]int32, s.count.Load())
	for i := range arr[:s.hwm.Load()] {
		if c := arr[i].Load(); c != nil {
			s.index[c] = int32(i)
		}
	}
}

// add inserts c; it reports false if c was already there. The caller holds s.mu.
func (s *slotSet) add(c *Client) bool {
	if _, ok := s.find(c); ok {
		return false
	}
	var arr []atomic.Pointer[Client]
	if p := s.slots.Load(); p != nil {
		arr = *p
	}
	var i int32
	switch {
	case len(s.free) > 0:
		i = s.free[len(s.free)-1]
		s.free = s.free[:len(s.free)-1]
	case int(s.hwm.Load()) < len(arr):
		i = s.hwm.Load()
	default:
		n := max(minSlots, 2*len(arr))
		arr = s.resize(arr, n)
		i = s.hwm.Load()
	}
	arr[i].Store(c)
	if i >= s.hwm.Load() {
		s.hwm.Store(i + 1)
	}
	n := s.count.Add(1)
	switch {
	case s.index != nil:
		s.index[c] = i
	case n > indexAbove:
		s.buildIndex(arr)
	}
	return true
}

// remove deletes c; it reports false if c was not there. The caller holds s.mu.
func (s *slotSet) remove(c *Client) bool {
	i, ok := s.find(c)
	if !ok {
		return false
	}
	if s.index != nil {
		delete(s.index, c)
	}
	arr := *s.slots.Load()
	arr[i].Store(nil)
	n := s.count.Add(-1)
	if i == s.hwm.Load()-1 {
		s.hwm.Store(i) // every free slot is below i, so the free list stays valid
	} else {
		s.free = append(s.free, i)
	}
	if len(arr) > 64 && int(n) < len(arr)/4 {
		s.compact(arr, len(arr)/2)
	}
	return true
}

// resize copies the members into a new array of n slots, keeping their positions.
func (s *slotSet) resize(old []atomic.Pointer[Client], n int) []atomic.Pointer[Client] {
	arr := make([]atomic.Pointer[Client], n)
	for i := range old {
		arr[i].Store(old[i].Load())
	}
	s.slots.Store(&arr)
	return arr
}

// compact moves the members to the front of a new array of n slots.
func (s *slotSet) compact(old []atomic.Pointer[Client], n int) {
	arr := make([]atomic.Pointer[Client], n)
	var j int32
	for i := range old[:s.hwm.Load()] {
		if c := old[i].Load(); c != nil {
			arr[j].Store(c)
			j++
		}
	}
	s.free = nil
	s.slots.Store(&arr)
	s.hwm.Store(j)
	s.index = nil
	if j > indexAbove {
		s.buildIndex(arr)
	}
}

// len returns the number of members.
func (s *slotSet) len() int { return int(s.count.Load()) }

// each calls f for every member, without a lock and without allocating, and stops if f returns false.
func (s *slotSet) each(f func(*Client) bool) {
	// hwm before the array: a writer stores a new array before it lowers hwm, so a reader that sees
	// the lowered hwm also sees the array it belongs to.
	h := int(s.hwm.Load())
	p := s.slots.Load()
	if p == nil {
		return
	}
	arr := *p
	if h > len(arr) {
		h = len(arr)
	}
	for i := range arr[:h] {
		if c := arr[i].Load(); c != nil {
			if !f(c) {
				return
			}
		}
	}
}

// snapshot returns the members.
func (s *slotSet) snapshot() []*Client {
	out := make([]*Client, 0, s.len())
	s.each(func(c *Client) bool { out = append(out, c); return true })
	return out
}
