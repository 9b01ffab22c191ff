package hub

import "slices"

// register makes c reachable by id, by user id and by Broadcast. It reports false if c is closed.
func (h *Hub) register(c *Client) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.registered = true
	h.live.add(1)
	s := h.shardOf(c.id)
	s.mu.Lock()
	s.conns[c.id] = c
	s.mu.Unlock()
	if uid := c.identity.ID; uid != "" {
		s := h.shardOf(uid)
		s.mu.Lock()
		s.users[uid] = append(slices.Clip(s.users[uid]), c) // a new slice: readers keep the old one
		s.mu.Unlock()
	}
	h.all.mu.Lock()
	h.all.add(c)
	h.all.mu.Unlock()
	h.nClients.Add(1)
	return true
}

// unregister undoes register; c is closed, so it cannot be registered again.
func (h *Hub) unregister(c *Client) {
	s := h.shardOf(c.id)
	s.mu.Lock()
	delete(s.conns, c.id)
	s.mu.Unlock()
	if uid := c.identity.ID; uid != "" {
		s := h.shardOf(uid)
		s.mu.Lock()
		list := s.users[uid]
		if i := slices.Index(list, c); i >= 0 {
			if len(list) == 1 {
				delete(s.users, uid)
			} else {
				n := make([]*Client, 0, len(list)-1)
				n = append(append(n, list[:i]...), list[i+1:]...)
				s.users[uid] = n
			}
		}
		s.mu.Unlock()
	}
	h.all.mu.Lock()
	h.all.remove(c)
	h.all.mu.Unlock()
	h.nClients.Add(-1)
	h.live.add(-1)
}

// lookup returns the local clients whose connection id or Identity.ID is id. The slice may be shared:
// do not modify it.
func (h *Hub) lookup(id string) []*Client {
	if id == "" {
		return nil
	}
	s := h.shardOf(id)
	s.mu.RLock()
	c := s.conns[id]
	users := s.users[id]
	s.mu.RUnlock()
	if c == nil {
		return users
	}
	if len(users) == 0 || (len(users) == 1 && users[0] == c) {
		return []*Client{c}
	}
	out := []*Client{c}
	for _, u := range users {
		if u != c {
			out = append(out, u)
		}
	}
	return out
}

// index adds c to channel's subscribers.
func (h *Hub) index(name string, c *Client) {
	s := h.shardOf(name)
	for {
		s.mu.RLock()
		ch := s.channels[name]
		s.mu.RUnlock()
		if ch == nil {
			s.mu.Lock()
			if ch = s.channels[name]; ch == nil {
				ch = &channel{name: name}
				s.channels[name] = ch
				h.nChannels.Add(1)
				h.announce(name, true)
			}
			s.mu.Unlock()
		}
		ch.subs.mu.Lock()
		if ch.dead { // emptied and removed meanwhile: start over
			ch.subs.mu.Unlock()
			continue
		}
		ch.subs.add(c)
		ch.subs.mu.Unlock()
		return
	}
}

// unindex removes c from channel's subscribers and drops the channel when it empties.
func (h *Hub) unindex(name string, c *Client) {
	s := h.shardOf(name)
	s.mu.RLock()
	ch := s.channels[name]
	s.mu.RUnlock()
	if ch == nil {
		return
	}
	ch.subs.mu.Lock()
	ch.subs.remove(c)
	empty := ch.subs.len() == 0
	ch.subs.mu.Unlock()
	if !empty {
		return
	}
	s.mu.Lock()
	ch.subs.mu.Lock()
	if ch.subs.len() == 0 && !ch.dead && s.channels[name] == ch {
		delete(s.channels, name)
		ch.dead = true
		h.nChannels.Add(-1)
		h.announce(name, false)
	}
	ch.subs.mu.Unlock()
	s.mu.Unlock()
}

// channel returns the channel's subscriber set, or nil.
func (h *Hub) channel(name string) *channel {
	s := h.shardOf(name)
	s.mu.RLock()
	ch := s.channels[name]
	s.mu.RUnlock()
	return ch
}

// announce tells an InterestBroker that this node gained or lost channel (see InterestBroker). The
// shard lock of channel is held, so the announcements of one channel are in order.
func (h *Hub) announce(channel string, on bool) {
	if ib := h.interest.Load(); ib != nil {
		(*ib).Interest(h.name, h.config().Node, channel, on)
	}
}

// channelNames lists this node's channels.
func (h *Hub) channelNames() []string {
	var out []string
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for name := range s.channels {
			out = append(out, name)
		}
		s.mu.RUnlock()
	}
	return out
}

// localChannels returns the names and sizes of this node's channels.
func (h *Hub) localChannels() []ChannelInfo {
	var out []ChannelInfo
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for name, ch := range s.channels {
			if n := ch.subs.len(); n > 0 {
				out = append(out, ChannelInfo{Name: name, Clients: n})
			}
		}
		s.mu.RUnlock()
	}
	return out
}
