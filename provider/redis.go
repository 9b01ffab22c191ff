package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/surge-ws/ws/hub"
	wsredis "github.com/surge-ws/ws/redis"
)

// RedisProvider joins the App's hubs to a cluster through Redis (runa's
// redis provider): every hub it serves gets a Broker and a Presence (prefix
// PresencePrefix + hub name + ":"), set before the hubs start. Options come from code, then the config file's
// [redis] table. Install it with the hubs, in any order.
type RedisProvider struct {
	opts   wsredis.Options
	served []redisHub // set by Prepare
}

// Redis returns the provider; o.Hubs names the hubs it serves (empty: all).
func Redis(o wsredis.Options) *RedisProvider { return &RedisProvider{opts: o} }

// Name implements Provider.
func (r *RedisProvider) Name() string { return "redis" }

// Options returns the options in force (after Configure).
func (r *RedisProvider) Options() wsredis.Options { return r.opts }

// Configure implements Configurable: it applies [redis] and checks the hubs
// it names.
func (r *RedisProvider) Configure(app *App) error {
	f := app.Config().Redis
	o := &r.opts
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&o.Addr, f.Addr)
	set(&o.Password, f.Password)
	set(&o.Channel, f.Channel)
	set(&o.PresencePrefix, f.PresencePrefix)
	if f.DB != 0 {
		o.DB = f.DB
	}
	if f.DialTimeout.Duration != 0 {
		o.DialTimeout = f.DialTimeout.Duration
	}
	if f.ReadTimeout.Duration != 0 {
		o.ReadTimeout = f.ReadTimeout.Duration
	}
	if f.WriteTimeout.Duration != 0 {
		o.WriteTimeout = f.WriteTimeout.Duration
	}
	if f.NodeTTL.Duration != 0 {
		o.NodeTTL = f.NodeTTL.Duration
	}
	if f.PoolSize != 0 {
		o.PoolSize = f.PoolSize
	}
	if len(f.Hubs) > 0 {
		o.Hubs = f.Hubs
	}
	if o.PresencePrefix == "" {
		o.PresencePrefix = "runa:ws:"
	}

	for _, name := range o.Hubs {
		if !slices.ContainsFunc(servedHubs(app), func(h *hub.Hub) bool { return h.Name() == name }) {
			return fmt.Errorf("[redis] hubs names %q, which is not installed", name)
		}
	}
	return nil
}

func servedHubs(app *App) []*hub.Hub {
	var hubs []*hub.Hub
	for _, p := range app.Providers() {
		if hp, ok := p.(*HubsProvider); ok {
			hubs = append(hubs, hp.hubs...)
		}
	}
	return hubs
}

// Prepare implements Preparer: each hub it serves gets a Broker and a
// Presence of its own (a hub's Stop closes them); without a Client of the
// program's, each makes its client from the options and closes it then. So
// the order of Install does not matter. Only when serving: a ws:* command
// opens no connection to Redis.
func (r *RedisProvider) Prepare(app *App) error {
	o := &r.opts
	r.served = nil
	for _, h := range servedHubs(app) {
		if len(o.Hubs) > 0 && !slices.Contains(o.Hubs, h.Name()) {
			continue
		}
		po := *o
		po.PresencePrefix = o.PresencePrefix + h.Name() + ":"
		b, p := wsredis.NewBroker(*o), wsredis.NewPresence(po)
		r.served = append(r.served, redisHub{h, b, p})
		h.Configure(hub.Config{Broker: b, Presence: p})
	}
	return nil
}

// redisHub is a hub the provider serves, with what it gave it.
type redisHub struct {
	hub      *hub.Hub
	broker   *wsredis.RedisBroker
	presence *wsredis.RedisPresence
}

// Start implements Provider: Redis must answer, or the App does not start.
func (r *RedisProvider) Start(ctx context.Context, _ *App) error {
	if err := r.Check(ctx); err != nil {
		return fmt.Errorf("redis %s: %w", r.opts.Addr, err)
	}
	return nil
}

// Stop implements Provider. A hub closes its Broker and Presence when it
// stops (after this, or before, whatever the Install order); this closes
// those of hubs that never started, because a provider before them failed.
func (r *RedisProvider) Stop(ctx context.Context) error {
	var errs []error
	for _, s := range r.served {
		if s.hub.Status() == hub.StatusNew {
			errs = append(errs, s.broker.Close(ctx), s.presence.Close(ctx))
		}
	}
	return errors.Join(errs...)
}

// Check implements Checker: Redis answers.
func (r *RedisProvider) Check(ctx context.Context) error {
	for _, s := range r.served {
		if err := s.broker.Check(ctx); err != nil {
			return err
		}
	}
	return nil
}
