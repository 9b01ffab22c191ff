package hub

import (
	"bytes"
	"context"
	"errors"
	"sync"
)

// mailbox is a client's queue of work for its handlers: messages in arrival order, and presence writes.
// A worker goroutine exists only while the mailbox is non-empty: the first job starts one, and it exits
// when it finds the queue empty. So handlers of one client run one at a time, in order, off the
// transport's read path, and an idle client costs no goroutine.
type mailbox struct {
	mu       sync.Mutex
	queue    []job // waiting jobs; the drained batch's slice is reused
	messages int   // message jobs queued or running
	running  bool
	presence bool // a presence job is queued
	gone     bool // the removal job is queued: nothing follows it
}

type jobKind uint8

const (
	jobMessage  jobKind = iota
	jobRefused          // a message over the rate limit: answer 429, do not handle it
	jobPresence         // write the client's current ClientInfo to Presence
	jobGone             // remove the client from Presence; the last job
)

type job struct {
	kind    jobKind
	payload []byte
}

// enqueue copies payload into a message job of kind (jobMessage or jobRefused). It reports false if
// limit messages are already waiting.
func (c *Client) enqueue(kind jobKind, payload []byte, limit int) bool {
	b := &c.box
	b.mu.Lock()
	if b.gone {
		b.mu.Unlock()
		return true // closed: dropped
	}
	if b.messages >= limit {
		b.mu.Unlock()
		return false
	}
	b.messages++
	b.queue = append(b.queue, job{kind: kind, payload: append([]byte(nil), payload...)})
	c.kickLocked()
	b.mu.Unlock()
	return true
}

// enqueuePresence queues one presence write, unless one is already waiting (it will read the state
// current when it runs). A BufferedPresence is written at once, on the calling goroutine.
func (c *Client) enqueuePresence() {
	if c.hub.ownPresence.Load() {
		return
	}
	b := &c.box
	if p, ok := c.hub.bufferedPresence(); ok {
		// b.mu orders the writes: each reads the state after the change
		// that called it, so the last one written is the latest.
		b.mu.Lock()
		if !b.gone && !c.isClosed() {
			c.hub.setPresence(context.Background(), p, c)
		}
		b.mu.Unlock()
		return
	}
	b.mu.Lock()
	if !b.presence && !b.gone {
		b.presence = true
		b.queue = append(b.queue, job{kind: jobPresence})
		c.kickLocked()
	}
	b.mu.Unlock()
}

// enqueueGone queues the presence removal after everything already queued.
func (c *Client) enqueueGone() {
	if c.hub.ownPresence.Load() {
		return
	}
	b := &c.box
	if p, ok := c.hub.bufferedPresence(); ok {
		// Written here rather than on a worker goroutine started for it (a
		// node closing all its clients at once would start one per client).
		// Under b.mu, after any write in progress; gone stops later ones.
		b.mu.Lock()
		if !b.gone {
			b.gone = true
			c.hub.removePresence(context.Background(), p, c)
		}
		b.mu.Unlock()
		return
	}
	b.mu.Lock()
	if !b.gone {
		b.gone = true
		b.queue = append(b.queue, job{kind: jobGone})
		c.kickLocked()
	}
	b.mu.Unlock()
}

// kickLocked starts the worker if none runs. b.mu is held.
func (c *Client) kickLocked() {
	if !c.box.running {
		c.box.running = true
		c.hub.live.add(1)
		c.hub.workers.run(c)
	}
}

// keptJobs bounds the queue capacity an idle mailbox keeps: a burst's large
// slice is left to the collector.
const keptJobs = 8

// work drains the mailbox batch by batch and exits when it is empty.
func (c *Client) work() {
	b := &c.box
	h := c.hub
	defer h.live.add(-1)
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			// The emptied slice stays for the next message (one job of
			// capacity for a client that sends one at a time): an
			// allocation per message otherwise. Clients whose messages
			// are all built-ins never keep one (see below).
			b.running = false
			b.mu.Unlock()
			return
		}
		batch := b.queue
		b.queue = nil
		b.mu.Unlock()

		messages := false
		for i := range batch {
			j := batch[i]
			batch[i] = job{}
			switch j.kind {
			case jobMessage, jobRefused:
				messages = true
				if j.kind == jobMessage {
					h.dispatch(c, j.payload)
				} else {
					h.refuse(c, j.payload)
				}
				b.mu.Lock()
				b.messages--
				b.mu.Unlock()
			case jobPresence:
				b.mu.Lock()
				b.presence = false
				b.mu.Unlock()
				if !c.isClosed() {
					h.presenceSet(c)
				}
			case jobGone:
				h.presenceRemove(c)
			}
		}
		b.mu.Lock()
		// A batch of presence writes only (a client that subscribed through
		// built-ins and went idle) leaves its slice to the collector: a
		// million idle clients would keep 100 MB of empty queues.
		if b.queue == nil && messages && cap(batch) <= keptJobs {
			b.queue = batch[:0]
		}
		b.mu.Unlock()
	}
}

// presenceCtx bounds one Presence call by WriteTimeout; the caller cancels it.
func (h *Hub) presenceCtx() *lazyDeadline {
	return withLazyDeadline(h.config().WriteTimeout)
}

// presenceGone reports an error that only says Stop closed the Presence:
// closing it took this node's clients out of it, so a write for one client
// that was still leaving (a drain cut short) has nothing left to do. At a
// million connections a short drain logged thousands of these per node.
func (h *Hub) presenceGone(err error) bool {
	return h.stopping() && errors.Is(err, ErrPresenceClosed)
}

func (h *Hub) presenceSet(c *Client) {
	ctx := h.presenceCtx()
	defer ctx.cancel()
	h.setPresence(ctx, h.config().Presence, c)
}

// bufferedPresence returns the Presence if its writes never wait (BufferedPresence).
func (h *Hub) bufferedPresence() (Presence, bool) {
	p := h.config().Presence
	bp, ok := p.(BufferedPresence)
	return p, ok && bp.Buffered()
}

// setPresence and removePresence write c to p; a BufferedPresence is called
// with a context without deadline, since its calls return without waiting.
func (h *Hub) setPresence(ctx context.Context, p Presence, c *Client) {
	if err := p.Set(ctx, c.Info()); err != nil && !h.presenceGone(err) {
		h.logger().Warn("ws: presence set failed", "hub", h.name, "client", c.id, "err", err)
	}
}

func (h *Hub) removePresence(ctx context.Context, p Presence, c *Client) {
	if err := p.Remove(ctx, c.id); err != nil && !h.presenceGone(err) {
		h.logger().Warn("ws: presence remove failed", "hub", h.name, "client", c.id, "err", err)
	}
}

func (h *Hub) presenceRemove(c *Client) {
	ctx := h.presenceCtx()
	defer ctx.cancel()
	h.removePresence(ctx, h.config().Presence, c)
}

// runInline dispatches payload on the calling (transport input) goroutine
// when the mailbox is idle, and reports whether it did. The mailbox is marked
// running meanwhile, so jobs queued by the handler (presence writes) wait for
// it and then start a worker, keeping the client's order.
func (c *Client) runInline(payload []byte) bool {
	// Handlers may keep Message().Data beyond their return (a goroutine, a
	// cache): it must not alias the transport's buffer.
	data := append([]byte(nil), payload...)
	return c.inline(func() { c.hub.dispatch(c, data) })
}

// runBuiltinInline handles a subscribe, unsubscribe or ping on the calling
// goroutine when no user code takes part in it (routes.fast) and the
// mailbox is idle: the commonest messages of an idle client then cost no
// goroutine hand-off even with InlineHandlers off. It reports whether it
// handled the message.
func (h *Hub) runBuiltinInline(c *Client, payload []byte) bool {
	r := h.routes.Load()
	if len(r.fast) == 0 || !mayBeBuiltin(payload) {
		return false
	}
	data := append([]byte(nil), payload...)
	ctx := &Context{hub: h, client: c, routes: r}
	if decodeMessage(data, &ctx.msg) != nil || !r.fast[ctx.msg.Event] {
		return false
	}
	return c.inline(func() { h.handle(ctx) })
}

// inline runs f, one message's handling, on the calling goroutine if the
// mailbox is idle, and reports whether it did.
func (c *Client) inline(f func()) bool {
	b := &c.box
	b.mu.Lock()
	if b.running || b.gone || len(b.queue) > 0 {
		b.mu.Unlock()
		return false
	}
	b.running = true
	b.messages++
	b.mu.Unlock()
	c.hub.live.add(1)
	defer c.hub.live.add(-1)
	f()
	b.mu.Lock()
	b.messages--
	b.running = false
	if len(b.queue) > 0 {
		c.kickLocked()
	}
	b.mu.Unlock()
	return true
}

// mayBeBuiltin is a cheap filter before decoding: a message whose bytes do
// not contain the name of a built-in event cannot be one, and an
// application event should not pay for a second decode and copy.
func mayBeBuiltin(payload []byte) bool {
	return bytes.Contains(payload, []byte(`"subscribe"`)) ||
		bytes.Contains(payload, []byte(`"unsubscribe"`)) ||
		bytes.Contains(payload, []byte(`"ping"`))
}
