package hub

import (
	"context"
	"sync"
	"sync/atomic"
)

type closeRecorder struct {
	Broker
	closed atomic.Bool
}

func (b *closeRecorder) Close(ctx context.Context) error {
	b.closed.Store(true)
	return b.Broker.Close(ctx)
}

// presenceRecorder counts the writes that reach a Presence.
type presenceRecorder struct {
	Presence
	sets, removes atomic.Int64
	closed        atomic.Bool
}

func (p *presenceRecorder) Set(ctx context.Context, info ClientInfo) error {
	p.sets.Add(1)
	return p.Presence.Set(ctx, info)
}

func (p *presenceRecorder) Remove(ctx context.Context, id string) error {
	p.removes.Add(1)
	return p.Presence.Remove(ctx, id)
}

func (p *presenceRecorder) Close(ctx context.Context) error {
	p.closed.Store(true)
	return p.Presence.Close(ctx)
}

// publishRecorder records the packets that reach a Broker's Publish.
type publishRecorder struct {
	Broker
	mu        sync.Mutex
	published []Packet
}

func (b *publishRecorder) Publish(ctx context.Context, channel string, p Packet) error {
	b.mu.Lock()
	b.published = append(b.published, p)
	b.mu.Unlock()
	return b.Broker.Publish(ctx, channel, p)
}

func (b *publishRecorder) packets() []Packet {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Packet(nil), b.published...)
}
