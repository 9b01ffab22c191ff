package hub

import (
	"context"
	"encoding/json"
	"slices"
)

// Context is the handling of one message. It belongs to the handler's goroutine (the client's worker)
// and is valid until the handler returns: do not use it from other goroutines or keep it afterwards
// (use Client, which is safe anywhere).
type Context struct {
	hub      *Hub
	client   *Client
	routes   *routes
	msg      Message
	ctx      context.Context
	answered bool
}

// Hub returns the hub.
func (c *Context) Hub() *Hub { return c.hub }

// Client returns the client that sent the message.
func (c *Context) Client() *Client { return c.client }

// Message returns the message. Middleware may modify it before the handler runs.
func (c *Context) Message() *Message { return &c.msg }

// Identity returns the client's Identity.
func (c *Context) Identity() Identity { return c.client.identity }

// Context returns the context of the message: the one set by SetContext, else the client's, which is
// cancelled (cause ErrClientClosed) when the client disconnects or the hub stops. It is made on first
// call, so a handler that never asks pays nothing.
func (c *Context) Context() context.Context {
	if c.ctx != nil {
		return c.ctx
	}
	return c.client.context()
}

// SetContext replaces the message's context (middleware adding values, a deadline).
func (c *Context) SetContext(ctx context.Context) { c.ctx = ctx }

// Bind decodes the message's data into out with encoding/json. No data leaves out unchanged.
func (c *Context) Bind(out any) error {
	if len(c.msg.Data) == 0 {
		return nil
	}
	return json.Unmarshal(c.msg.Data, out)
}

// Subscribe subscribes the client to channel (a trusted call: OnSubscribe hooks do not run).
func (c *Context) Subscribe(channel string) error { return c.client.Subscribe(channel) }

// Unsubscribe unsubscribes the client from channel.
func (c *Context) Unsubscribe(channel string) error { return c.client.Unsubscribe(channel) }

// Publish publishes to channel on every node with the message's context (see Hub.PublishContext).
func (c *Context) Publish(channel, event string, data any) error {
	return c.hub.PublishContext(c.Context(), channel, event, data)
}

// Send pushes {"event","data"} to the client that sent the message.
func (c *Context) Send(event string, data any) error { return c.client.Send(event, data) }

// Can reports whether the client's Identity grants permission: Identity.Meta["permissions"] is a
// []string or []any of strings (or a single string) that contains permission or "*".
func (c *Context) Can(permission string) bool {
	switch p := c.client.identity.Meta["permissions"].(type) {
	case []string:
		return slices.Contains(p, permission) || slices.Contains(p, "*")
	case []any:
		for _, v := range p {
			if s, ok := v.(string); ok && (s == permission || s == "*") {
				return true
			}
		}
	case string:
		return p == permission || p == "*"
	}
	return false
}

// Reply answers the message with {"id","event","ok":true,"data"}. It is the message's one response:
// no automatic acknowledgement follows, and a second Reply or Error returns ErrAlreadyReplied.
// A message without an id gets the response too (without "id").
func (c *Context) Reply(data any) error {
	if c.answered {
		return ErrAlreadyReplied
	}
	r := Response{ID: c.msg.ID, Event: c.msg.Event, OK: true, Data: data}
	encErr, writeErr := sendResponse(c.client, &r)
	if encErr != nil {
		return encErr // not answered: the handler may still answer or fail
	}
	c.answered = true
	return writeErr
}

// Error answers the message with {"id","event","ok":false,"code","message"}; for a message without an
// id it pushes an "error" event with data {"event","code","message"} instead. Like Reply, it is the
// message's one response. It returns the write's error.
func (c *Context) Error(code int, message string) error {
	if c.answered {
		return ErrAlreadyReplied
	}
	return c.hub.answerError(c, code, message)
}
