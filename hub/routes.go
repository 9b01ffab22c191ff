package hub

import (
	"encoding/json"
	"errors"
	"maps"
	"runtime/debug"
	"slices"
)

// routes is an immutable snapshot of the handlers, middleware and hooks; registration swaps in a copy.
type routes struct {
	handlers   map[string]Handler
	middleware []Middleware
	subHooks   []SubscribeHook
	pubHooks   []PublishHook
	chain      Handler // middleware around route

	// custom marks the built-in events an On call replaced; fast lists the
	// events whose handling runs no user code at all (a built-in, no
	// middleware, no subscribe hook for subscribe), which therefore never
	// blocks and may run on the transport's input goroutine.
	custom map[string]bool
	fast   map[string]bool
}

func newRoutes() *routes {
	r := &routes{handlers: map[string]Handler{
		EventSubscribe:   handleSubscribe,
		EventUnsubscribe: handleUnsubscribe,
		EventPing:        handlePing,
	}}
	r.build()
	return r
}

func (r *routes) clone() *routes {
	return &routes{
		handlers:   maps.Clone(r.handlers),
		middleware: slices.Clone(r.middleware),
		subHooks:   slices.Clone(r.subHooks),
		pubHooks:   slices.Clone(r.pubHooks),
		custom:     maps.Clone(r.custom),
	}
}

// build wraps route in the middleware, first Use outermost.
func (r *routes) build() {
	handlers := r.handlers
	var next Handler = func(ctx *Context) error {
		if h := handlers[ctx.msg.Event]; h != nil {
			return h(ctx)
		}
		return &Error{Code: CodeNotFound, Message: "handler " + ctx.msg.Event + " is not registered"}
	}
	for i := len(r.middleware) - 1; i >= 0; i-- {
		next = r.middleware[i](next)
	}
	r.chain = next
	r.fast = map[string]bool{}
	if len(r.middleware) == 0 {
		for _, ev := range []string{EventSubscribe, EventUnsubscribe, EventPing} {
			if !r.custom[ev] && r.handlers[ev] != nil && (ev != EventSubscribe || len(r.subHooks) == 0) {
				r.fast[ev] = true
			}
		}
	}
}

func (h *Hub) update(f func(r *routes)) {
	h.routesMu.Lock()
	defer h.routesMu.Unlock()
	r := h.routes.Load().clone()
	f(r)
	r.build()
	h.routes.Store(r)
}

// On registers the handler of event, replacing any earlier one. The built-in events subscribe,
// unsubscribe and ping may be replaced too. A nil handler removes the event.
func (h *Hub) On(event string, handler Handler) {
	h.update(func(r *routes) {
		if handler == nil {
			delete(r.handlers, event)
		} else {
			r.handlers[event] = handler
		}
		if r.custom == nil {
			r.custom = map[string]bool{}
		}
		r.custom[event] = true
	})
}

// Use appends middleware. The first Use is the outermost; middleware wraps every message's handling,
// built-in events and unknown events included.
func (h *Hub) Use(middleware ...Middleware) {
	h.update(func(r *routes) {
		for _, m := range middleware {
			if m != nil {
				r.middleware = append(r.middleware, m)
			}
		}
	})
}

// OnSubscribe adds a hook that may veto subscribe requests from clients. Hooks run in the order added;
// the first error is the answer.
func (h *Hub) OnSubscribe(hook SubscribeHook) {
	if hook != nil {
		h.update(func(r *routes) { r.subHooks = append(r.subHooks, hook) })
	}
}

// OnPublish adds a hook that runs before every local publish (Publish, Broadcast, Context.Publish); the
// first error cancels the publish.
func (h *Hub) OnPublish(hook PublishHook) {
	if hook != nil {
		h.update(func(r *routes) { r.pubHooks = append(r.pubHooks, hook) })
	}
}

func handleSubscribe(ctx *Context) error {
	ch := ctx.msg.Channel
	if ch == "" {
		return ErrChannelRequired
	}
	if len(ctx.routes.subHooks) > 0 {
		// A subscribe the limit refuses anyway does not cost the hooks' work (a database, say).
		if err := ctx.client.canSubscribe(ch); err != nil {
			return err
		}
	}
	for _, hook := range ctx.routes.subHooks {
		if err := hook(ctx, ch); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return err
			}
			return &Error{Code: CodeForbidden, Message: err.Error()}
		}
	}
	return ctx.client.Subscribe(ch)
}

func handleUnsubscribe(ctx *Context) error {
	if ctx.msg.Channel == "" {
		return ErrChannelRequired
	}
	return ctx.client.Unsubscribe(ctx.msg.Channel)
}

var pongData = json.RawMessage(`{"event":"pong"}`)

func handlePing(ctx *Context) error { return ctx.Reply(pongData) }

// dispatch decodes and handles one message of c on c's worker goroutine, and makes sure a message with
// an id gets exactly one response, and an error of a message without one is pushed as an "error" event.
func (h *Hub) dispatch(c *Client, payload []byte) {
	r := h.routes.Load()
	ctx := &Context{hub: h, client: c, routes: r}
	if err := decodeMessage(payload, &ctx.msg); err != nil {
		_ = h.answerError(ctx, CodeBadRequest, err.Error())
		return
	}
	h.handle(ctx)
}

// handle runs a decoded message's handling; see dispatch.
func (h *Hub) handle(ctx *Context) {
	r := ctx.routes
	if ctx.msg.Event == "" {
		_ = h.answerError(ctx, CodeBadRequest, "event is required")
		return
	}
	if cfg := h.config(); cfg.MaxChannelLength > 0 && len(ctx.msg.Channel) > cfg.MaxChannelLength {
		h.ctr.limits[limitChannelLength].Add(1)
		_ = h.answerError(ctx, CodeBadRequest, channelTooLong(cfg))
		return
	}
	err := h.call(r.chain, ctx)
	switch {
	case ctx.answered:
		if err != nil {
			h.logger().Debug("ws: handler error after its reply", "hub", h.name, "event", ctx.msg.Event, "err", err)
		}
	case err != nil:
		switch {
		case errors.Is(err, ErrChannelTooLong):
			h.ctr.limits[limitChannelLength].Add(1)
		case errors.Is(err, ErrTooManyChannels):
			h.ctr.limits[limitChannels].Add(1)
		}
		code, msg := errorCode(err, CodeInternal, h.config())
		_ = h.answerError(ctx, code, msg)
	case ctx.msg.ID != "":
		ctx.answered = true
		_ = h.respond(ctx, &Response{ID: ctx.msg.ID, Event: ctx.msg.Event, OK: true})
	}
}

// call runs the chain and turns a panic into an error (logged with its stack).
func (h *Hub) call(chain Handler, ctx *Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			h.logger().Error("ws: handler panic", "hub", h.name, "event", ctx.msg.Event,
				"client", ctx.client.id, "panic", v, "stack", string(debug.Stack()))
			err = &Error{Code: CodeInternal, Message: "internal error"}
		}
	}()
	return chain(ctx)
}

// answerError answers a failed message: a Response if it has an id, an "error" event push if not.
func (h *Hub) answerError(ctx *Context, code int, message string) error {
	ctx.answered = true
	if ctx.msg.ID != "" {
		return h.respond(ctx, &Response{ID: ctx.msg.ID, Event: ctx.msg.Event, Code: code, Message: message})
	}
	h.countReply(ctx.client, code)
	f, err := preparePacket(&Packet{Event: EventError, Data: errorData(ctx.msg.Event, code, message)})
	if err != nil {
		return err
	}
	return ctx.client.write(f)
}

func (h *Hub) respond(ctx *Context, r *Response) error {
	encErr, writeErr := sendResponse(ctx.client, r)
	if encErr != nil {
		return encErr
	}
	return writeErr
}
