package wire

import (
	"encoding/json"
	"sync"
)

// In is a client message.
type In struct {
	ID      string          `json:"id,omitempty"`
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Response answers a message that had an id.
type Response struct {
	ID      string          `json:"id,omitempty"`
	Event   string          `json:"event,omitempty"`
	OK      bool            `json:"ok"`
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Packet is a pushed message.
type Packet struct {
	Channel string          `json:"channel,omitempty"`
	Event   string          `json:"event"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Hub dispatches messages of connections of type T.
type Hub[T comparable] struct {
	// Reply sends one message to c.
	Reply func(c T, msg []byte)
	// Prepare readies a packet for many connections (encode or frame it
	// once) and returns the function that queues it to one.
	Prepare func(pkt []byte) func(c T)

	mu    sync.RWMutex
	rooms map[string]map[T]struct{}
	of    map[T][]string
}

// Handle processes one message from c.
func (h *Hub[T]) Handle(c T, msg []byte) {
	var in In
	if err := json.Unmarshal(msg, &in); err != nil {
		h.respond(c, Response{OK: false, Code: "bad_request", Message: "malformed message"})
		return
	}
	switch in.Event {
	case "subscribe", "unsubscribe":
		if in.Channel == "" {
			h.answer(c, in, Response{Code: "bad_request", Message: "channel is required"})
			return
		}
		if in.Event == "subscribe" {
			h.join(in.Channel, c)
		} else {
			h.leave(in.Channel, c)
		}
		h.answer(c, in, Response{OK: true})
	case "ping":
		h.answer(c, in, Response{OK: true, Data: json.RawMessage(`{"event":"pong"}`)})
	case "echo":
		data := in.Data
		if data == nil {
			data = json.RawMessage("null")
		}
		out, _ := json.Marshal(struct {
			Data json.RawMessage `json:"data"`
		}{data})
		h.answer(c, in, Response{OK: true, Data: out})
	case "chat.message":
		ch := in.Channel
		if ch == "" {
			ch = "room"
		}
		h.Publish(ch, in.Event, in.Data)
		h.answer(c, in, Response{OK: true})
	default:
		h.answer(c, in, Response{Code: "not_found", Message: "handler " + in.Event + " is not registered"})
	}
}

// answer replies when the message had an id.
func (h *Hub[T]) answer(c T, in In, r Response) {
	if in.ID == "" {
		return
	}
	r.ID, r.Event = in.ID, in.Event
	h.respond(c, r)
}

func (h *Hub[T]) respond(c T, r Response) {
	b, err := json.Marshal(r)
	if err == nil {
		h.Reply(c, b)
	}
}

// Publish encodes the packet once and queues it to every subscriber of ch.
func (h *Hub[T]) Publish(ch, event string, data json.RawMessage) {
	pkt, err := json.Marshal(Packet{Channel: ch, Event: event, Data: data})
	if err != nil {
		return
	}
	send := h.Prepare(pkt)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.rooms[ch] {
		send(c)
	}
}

func (h *Hub[T]) join(ch string, c T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rooms == nil {
		h.rooms, h.of = map[string]map[T]struct{}{}, map[T][]string{}
	}
	set := h.rooms[ch]
	if set == nil {
		set = map[T]struct{}{}
		h.rooms[ch] = set
	}
	if _, ok := set[c]; !ok {
		set[c] = struct{}{}
		h.of[c] = append(h.of[c], ch)
	}
}

func (h *Hub[T]) leave(ch string, c T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.leaveLocked(ch, c)
	chans := h.of[c]
	for i, x := range chans {
		if x == ch {
			h.of[c] = append(chans[:i], chans[i+1:]...)
			break
		}
	}
	if len(h.of[c]) == 0 {
		delete(h.of, c)
	}
}

func (h *Hub[T]) leaveLocked(ch string, c T) {
	if set := h.rooms[ch]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(h.rooms, ch)
		}
	}
}

// Gone forgets a closed connection.
func (h *Hub[T]) Gone(c T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.of[c] {
		h.leaveLocked(ch, c)
	}
	delete(h.of, c)
}

// Subscribers returns the number of subscribers of ch.
func (h *Hub[T]) Subscribers(ch string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.rooms[ch])
}
