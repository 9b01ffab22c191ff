package hub

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/frame"
)

// Client is one connection of a hub. Its methods are safe for concurrent use from any goroutine.
//
// A client holds no goroutine while it is idle: its worker goroutine runs only while it has messages to
// handle or presence to write, and its context.Context is made only when a handler asks for one.
type Client struct {
	hub       *Hub
	id        string
	identity  Identity
	ip        string
	userAgent string
	connected int64        // unix nanoseconds (an int64, not a time.Time: 16 bytes less per client)
	lastSeen  atomic.Int64 // unix nanoseconds

	peer Peer // set by open, before the client is registered; read-only afterwards

	// tat is the rate limit's state (see rate.go): when, on the hub's clock, the client's message
	// bucket is full again. Owned by the transport's read path (message), which runs sequentially.
	tat int64

	mu         sync.Mutex     // guards the fields below
	channels   []string       // subscribed channels, in no particular order
	chanIndex  map[string]int // each channel's position in channels; only above channelIndexAbove
	registered bool
	closed     bool
	ctx        context.Context
	cancel     context.CancelCauseFunc

	box mailbox
}

func newClient(h *Hub, id Identity, ip, userAgent string) *Client {
	now := time.Now()
	c := &Client{
		hub:       h,
		id:        h.newID(),
		identity:  id,
		ip:        ip,
		userAgent: userAgent,
		connected: now.UnixNano(),
	}
	c.lastSeen.Store(now.UnixNano())
	return c
}

// ID returns the connection id: unique across nodes and restarts (a random per-hub prefix and a
// counter). It is not the user's id; that is Identity().ID.
func (c *Client) ID() string { return c.id }

// Identity returns what the Authenticator returned for this connection.
func (c *Client) Identity() Identity { return c.identity }

// Hub returns the client's hub.
func (c *Client) Hub() *Hub { return c.hub }

// Channels returns the channels the client is subscribed to, sorted.
func (c *Client) Channels() []string {
	c.mu.Lock()
	out := slices.Clone(c.channels)
	c.mu.Unlock()
	slices.Sort(out)
	return out
}

// Info describes the client.
func (c *Client) Info() ClientInfo {
	return ClientInfo{
		ID:        c.id,
		UserID:    c.identity.ID,
		Name:      c.identity.Name,
		Node:      c.hub.Node(),
		Channels:  c.Channels(),
		Connected: time.Unix(0, c.connected),
		LastSeen:  time.Unix(0, c.lastSeen.Load()),
		IP:        c.ip,
		UserAgent: c.userAgent,
		Meta:      c.identity.Meta,
	}
}

// Subscribe adds the client to channel. It is a trusted server-side call: OnSubscribe hooks do not run.
// Subscribing twice is not an error. The limits hold all the same, since a handler often subscribes on
// the client's behalf: a channel over Config.MaxChannelLength returns ErrChannelTooLong, a channel
// beyond Config.MaxChannelsPerClient returns ErrTooManyChannels, and neither subscribes.
func (c *Client) Subscribe(channel string) error {
	if channel == "" {
		return ErrChannelRequired
	}
	cfg := c.hub.config()
	if cfg.MaxChannelLength > 0 && len(channel) > cfg.MaxChannelLength {
		return ErrChannelTooLong
	}
	c.mu.Lock()
	if c.closed || !c.registered {
		c.mu.Unlock()
		return ErrClientClosed
	}
	if c.findLocked(channel) >= 0 {
		c.mu.Unlock()
		return nil
	}
	if cfg.MaxChannelsPerClient > 0 && len(c.channels) >= cfg.MaxChannelsPerClient {
		c.mu.Unlock()
		return ErrTooManyChannels
	}
	c.addLocked(channel)
	c.hub.index(channel, c)
	c.mu.Unlock()
	c.enqueuePresence()
	return nil
}

// Unsubscribe removes the client from channel. Unsubscribing from a channel the client is not in is
// not an error.
func (c *Client) Unsubscribe(channel string) error {
	if channel == "" {
		return ErrChannelRequired
	}
	c.mu.Lock()
	i := c.findLocked(channel)
	if i < 0 {
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return ErrClientClosed
		}
		return nil
	}
	c.removeLocked(i)
	c.hub.unindex(channel, c)
	c.mu.Unlock()
	c.enqueuePresence()
	return nil
}

// canSubscribe reports the error Subscribe would return for a limit, without subscribing: a check
// before the OnSubscribe hooks run. Subscribe checks again.
func (c *Client) canSubscribe(channel string) error {
	cfg := c.hub.config()
	if cfg.MaxChannelLength > 0 && len(channel) > cfg.MaxChannelLength {
		return ErrChannelTooLong
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg.MaxChannelsPerClient > 0 && len(c.channels) >= cfg.MaxChannelsPerClient && c.findLocked(channel) < 0 {
		return ErrTooManyChannels
	}
	return nil
}

// channelIndexAbove is the number of channels up to which a client finds one of its channels by
// scanning the list. Most clients are in a few channels, for whom a map would cost more memory than the
// scan costs time; a client in more gets a map from channel to position, so that subscribe and
// unsubscribe stay O(1) however many channels it is in.
const channelIndexAbove = 8

// findLocked returns the position of channel in c.channels, or -1. c.mu is held.
func (c *Client) findLocked(channel string) int {
	if c.chanIndex != nil {
		if i, ok := c.chanIndex[channel]; ok {
			return i
		}
		return -1
	}
	return slices.Index(c.channels, channel)
}

// addLocked appends channel, which the client is not in. c.mu is held.
func (c *Client) addLocked(channel string) {
	c.channels = append(c.channels, channel)
	switch n := len(c.channels); {
	case c.chanIndex != nil:
		c.chanIndex[channel] = n - 1
	case n > channelIndexAbove:
		c.chanIndex = make(map[string]int, n)
		for i, ch := range c.channels {
			c.chanIndex[ch] = i
		}
	}
}

// removeLocked removes the channel at position i; the last channel takes its place. The index goes
// when the client is back to a few channels, and an array four times too large is replaced. c.mu is
// held.
func (c *Client) removeLocked(i int) {
	last := len(c.channels) - 1
	if c.chanIndex != nil {
		delete(c.chanIndex, c.channels[i])
		if i != last {
			c.chanIndex[c.channels[last]] = i
		}
	}
	c.channels[i] = c.channels[last]
	c.channels[last] = ""
	c.channels = c.channels[:last]
	switch {
	case last == 0:
		c.channels, c.chanIndex = nil, nil
	case last <= channelIndexAbove/2:
		c.chanIndex = nil
	}
	if n := cap(c.channels); n > 4*channelIndexAbove && last < n/4 {
		c.channels = slices.Clone(c.channels)
	}
}

// Send pushes {"event","data"} to this client only.
func (c *Client) Send(event string, data any) error {
	raw, err := marshalData(data)
	if err != nil {
		return err
	}
	f, err := preparePacket(&Packet{Event: event, Data: raw})
	if err != nil {
		return err
	}
	return c.write(f)
}

// Close closes the connection with 1000 and reason (the client sees both). Queued frames are sent first.
func (c *Client) Close(reason CloseReason) error {
	return c.closeWith(frame.CloseNormal, string(reason))
}

func (c *Client) closeWith(code frame.CloseCode, reason string) error {
	p := c.peer
	if p == nil {
		return ErrClientClosed
	}
	return p.Close(code, closeReason(reason))
}

// write queues f on the client's peer and counts it.
func (c *Client) write(f *frame.Prepared) error {
	p := c.peer
	if p == nil {
		return ErrClientClosed
	}
	if err := p.WritePrepared(f); err != nil {
		c.hub.ctr.dropped.Add(c.hint(), 1)
		return &writeError{err}
	}
	c.hub.ctr.messagesOut.Add(c.hint(), 1)
	c.hub.ctr.bytesOut.Add(c.hint(), uint64(f.Len()))
	return nil
}

// writeText queues one text message for this client alone (a reply) and counts it; payload is
// copied, so the caller may reuse it. A reply is not shared, so it needs no Prepared frame.
func (c *Client) writeText(payload []byte) error {
	p := c.peer
	if p == nil {
		return ErrClientClosed
	}
	if err := p.Write(frame.OpText, payload); err != nil {
		c.hub.ctr.dropped.Add(c.hint(), 1)
		return &writeError{err}
	}
	c.hub.ctr.messagesOut.Add(c.hint(), 1)
	c.hub.ctr.bytesOut.Add(c.hint(), uint64(frame.HeaderLen(int64(len(payload)), false)+len(payload)))
	return nil
}

// writeError is a refused write; it matches ErrClientClosed and unwraps to the transport's error.
type writeError struct{ err error }

func (e *writeError) Error() string   { return "hub: write refused: " + e.err.Error() }
func (e *writeError) Unwrap() []error { return []error{ErrClientClosed, e.err} }

// touch stamps lastSeen and returns the time on the hub's clock: nanoseconds since the hub was made,
// read from the monotonic clock (a wall clock step must not refill or drain a rate bucket). One clock
// read per message serves both.
func (c *Client) touch() int64 {
	now := time.Now()
	c.lastSeen.Store(now.UnixNano())
	return int64(now.Sub(c.hub.epoch))
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// shutdown marks the client closed, cancels its context and hands back its channels. ok is false if
// it was closed already.
func (c *Client) shutdown() (registered bool, channels []string, ok bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false, nil, false
	}
	c.closed = true
	registered, channels = c.registered, c.channels
	c.channels, c.chanIndex = nil, nil
	cancel := c.cancel
	c.mu.Unlock()
	if cancel != nil {
		cancel(ErrClientClosed)
	}
	return registered, channels, true
}

// context returns the client's context, made on first use; it is cancelled (cause ErrClientClosed)
// when the client goes away, and when the hub stops.
func (c *Client) context() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		c.ctx, c.cancel = context.WithCancelCause(c.hub.base)
		if c.closed {
			c.cancel(ErrClientClosed)
		}
	}
	return c.ctx
}
