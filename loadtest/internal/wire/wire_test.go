package wire

import (
	"encoding/json"
	"sync"
	"testing"
)

type rec struct {
	mu  sync.Mutex
	got map[int][]string
}

func (r *rec) add(c int, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[int][]string{}
	}
	r.got[c] = append(r.got[c], string(b))
}

func newHub(r *rec) *Hub[int] {
	return &Hub[int]{
		Reply:   r.add,
		Prepare: func(pkt []byte) func(int) { return func(c int) { r.add(c, pkt) } },
	}
}

func TestProtocolSubset(t *testing.T) {
	r := &rec{}
	h := newHub(r)
	h.Handle(1, []byte(`{"id":"s","event":"subscribe","channel":"room"}`))
	h.Handle(2, []byte(`{"event":"subscribe","channel":"room"}`)) // no id: no reply
	h.Handle(3, []byte(`{"id":"x","event":"subscribe"}`))
	h.Handle(3, []byte(`{"id":"p","event":"ping"}`))
	h.Handle(3, []byte(`{"id":"e1","event":"echo","data":{"a":1}}`))
	h.Handle(3, []byte(`{"id":"m","event":"chat.message","channel":"room","data":{"seq":1}}`))
	h.Handle(3, []byte(`{"id":"u","event":"nope"}`))
	want := map[int][]string{
		1: {`{"id":"s","event":"subscribe","ok":true}`, `{"channel":"room","event":"chat.message","data":{"seq":1}}`},
		2: {`{"channel":"room","event":"chat.message","data":{"seq":1}}`},
		3: {
			`{"id":"x","event":"subscribe","ok":false,"code":"bad_request","message":"channel is required"}`,
			`{"id":"p","event":"ping","ok":true,"data":{"event":"pong"}}`,
			`{"id":"e1","event":"echo","ok":true,"data":{"data":{"a":1}}}`,
			`{"id":"m","event":"chat.message","ok":true}`,
			`{"id":"u","event":"nope","ok":false,"code":"not_found","message":"handler nope is not registered"}`,
		},
	}
	for c, msgs := range want {
		if len(r.got[c]) != len(msgs) {
			t.Fatalf("conn %d got %q, want %q", c, r.got[c], msgs)
		}
		for i := range msgs {
			if !sameJSON(r.got[c][i], msgs[i]) {
				t.Errorf("conn %d msg %d = %s, want %s", c, i, r.got[c][i], msgs[i])
			}
		}
	}
	h.Gone(1)
	h.Handle(2, []byte(`{"event":"unsubscribe","channel":"room"}`))
	if n := h.Subscribers("room"); n != 0 {
		t.Fatalf("%d subscribers left", n)
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
