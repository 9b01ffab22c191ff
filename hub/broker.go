package hub

import (
	"context"
	"sync"
)

// Broker carries packets between the nodes of a cluster.
//
// Guarantees a Broker must document and the hub relies on: delivery is at most once and best effort
// (a packet published while a node is unreachable is lost to it, not queued); packets published by one
// goroutine of one node arrive at each other node in that order; a Broker may deliver a node's own
// packets back to it (the hub drops packets whose Origin is its Node). Methods are safe for concurrent
// use.
type Broker interface {
	// Publish sends p to the other nodes; channel is p's channel ("" broadcasts). It returns when the
	// packet is handed off (ctx bounds that), not when it is delivered.
	Publish(ctx context.Context, channel string, p Packet) error
	// Subscribe registers handler for packets published by other nodes, for node. It returns once the
	// subscription is in place; it lasts until ctx is done or the Broker is closed. handler must not
	// block for long: the hub's handler only queues frames.
	Subscribe(ctx context.Context, node string, handler func(Packet) error) error
	// Close ends every subscription and releases the Broker's resources.
	Close(ctx context.Context) error
}

// MemoryBroker is a Broker within one process: every hub subscribed to it receives the packets the others
// publish, synchronously, on the publisher's goroutine. It is the default (one private broker per hub,
// which delivers to nobody); share one between hubs to join them, in tests for instance.
type MemoryBroker struct {
	mu     sync.RWMutex
	subs   []*memorySub
	closed bool
}

type memorySub struct {
	node    string
	handler func(Packet) error
}

// NewMemoryBroker returns an empty MemoryBroker.
func NewMemoryBroker() *MemoryBroker { return &MemoryBroker{} }

// Publish hands p to every subscriber of another node than p.Origin, in subscription order. Handler
// errors do not stop delivery to the others; the first is returned.
func (b *MemoryBroker) Publish(ctx context.Context, channel string, p Packet) error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrBrokerClosed
	}
	subs := b.subs // replaced, never modified
	b.mu.RUnlock()
	p.Channel = channel
	var first error
	for _, s := range subs {
		if s.node == p.Origin {
			continue
		}
		if err := s.handler(p); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Subscribe registers handler until ctx is done or the broker is closed.
func (b *MemoryBroker) Subscribe(ctx context.Context, node string, handler func(Packet) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := &memorySub{node: node, handler: handler}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrBrokerClosed
	}
	b.subs = append(b.subs[:len(b.subs):len(b.subs)], s)
	b.mu.Unlock()
	context.AfterFunc(ctx, func() { b.unsubscribe(s) })
	return nil
}

func (b *MemoryBroker) unsubscribe(s *memorySub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, x := range b.subs {
		if x == s {
			n := make([]*memorySub, 0, len(b.subs)-1)
			b.subs = append(append(n, b.subs[:i]...), b.subs[i+1:]...)
			return
		}
	}
}

// Close ends every subscription; Publish and Subscribe then return ErrBrokerClosed. Closing twice is
// not an error.
func (b *MemoryBroker) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	b.subs = nil
	b.mu.Unlock()
	return nil
}
