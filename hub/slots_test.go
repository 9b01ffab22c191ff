package hub

import (
	"math/rand/v2"
	"sync"
	"testing"
)

func TestSlotSet(t *testing.T) {
	for _, n := range []int{6, 12, 300} { // below, around and far above indexAbove
		t.Run(itoa(n), func(t *testing.T) { testSlotSet(t, n) })
	}
}

func testSlotSet(t *testing.T, population int) {
	var s slotSet
	clients := make([]*Client, population)
	for i := range clients {
		clients[i] = &Client{id: itoa(i)}
	}
	in := map[*Client]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for step := range 20000 {
		c := clients[r.IntN(len(clients))]
		s.mu.Lock()
		if r.IntN(2) == 0 {
			if s.add(c) == in[c] {
				t.Fatalf("step %d: add reported wrongly", step)
			}
			in[c] = true
		} else {
			if s.remove(c) != in[c] {
				t.Fatalf("step %d: remove reported wrongly", step)
			}
			delete(in, c)
		}
		s.mu.Unlock()
		if step%97 == 0 {
			got := map[*Client]bool{}
			s.each(func(c *Client) bool {
				if got[c] {
					t.Fatalf("step %d: member visited twice", step)
				}
				got[c] = true
				return true
			})
			if len(got) != len(in) || s.len() != len(in) {
				t.Fatalf("step %d: %d visited, len %d, want %d", step, len(got), s.len(), len(in))
			}
			for c := range in {
				if !got[c] {
					t.Fatalf("step %d: member missed", step)
				}
			}
		}
	}
	// Shrinks after most members leave.
	s.mu.Lock()
	for _, c := range clients {
		s.remove(c)
	}
	s.mu.Unlock()
	if n := len(*s.slots.Load()); n > 128 {
		t.Fatalf("array of %d slots kept for no member", n)
	}
}

// Readers walking concurrently with writers visit every stable member exactly once.
func TestSlotSetConcurrent(t *testing.T) {
	var s slotSet
	stable := make([]*Client, 50)
	for i := range stable {
		stable[i] = &Client{}
		s.mu.Lock()
		s.add(stable[i])
		s.mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		churn := make([]*Client, 500)
		for i := range churn {
			churn[i] = &Client{}
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			s.mu.Lock()
			for _, c := range churn {
				s.add(c)
			}
			s.mu.Unlock()
			s.mu.Lock()
			for _, c := range churn {
				s.remove(c)
			}
			s.mu.Unlock()
		}
	}()
	isStable := map[*Client]bool{}
	for _, c := range stable {
		isStable[c] = true
	}
	for range 2000 {
		n := 0
		s.each(func(c *Client) bool {
			if isStable[c] {
				n++
			}
			return true
		})
		if n != len(stable) {
			close(stop)
			wg.Wait()
			t.Fatalf("walk saw %d of %d stable members", n, len(stable))
		}
	}
	close(stop)
	wg.Wait()
}
