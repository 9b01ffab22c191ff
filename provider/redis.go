package provider

import (
	"context"
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
	opts    wsredis.Options
	brokers []*wsredis.RedisBroker // one per hub served; set by Configure
}

// Redis returns the provider; o.Hubs names the hubs it serves (empty: all).
func Redis(o wsredis.Options) *RedisProvider { return &RedisProvider{opts: o} }

// Name implements Provider.
func (r *RedisProvider) Name() string { return "redis" }

// Options returns the options in force (after Configure).
func (r *RedisProvider) Options() wsredis.Options { return r.opts }

// Configure implements Configurable: it applies [redis] and gives the hubs
// their Broker and Presence.
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

	var hubs []*hub.Hub
	for _, p := range app.Providers() {
		if hp, ok := p.(*HubsProvider); ok {
			hubs = append(hubs, hp.hubs...)
		}
	}
	for _, name := range o.Hubs {
		if !slices.ContainsFunc(hubs, func(h *hub.Hub) bool { return h.Name() == name }) {
			return fmt.Errorf("[redis] hubs names %q, which is not installed", name)
		}
	}
	// Each hub gets a Broker and a Presence of its own (a hub's Stop closes
	// them); without a Client of the program's, each makes its client from
	// the options and closes it then. So the order of Install does not
	// matter.
	r.brokers = nil
	for _, h := range hubs {
		if len(o.Hubs) > 0 && !slices.Contains(o.Hubs, h.Name()) {
			continue
		}
		po := *o
		po.PresencePrefix = o.PresencePrefix + h.Name() + ":"
		b := wsredis.NewBroker(*o)
		r.brokers = append(r.brokers, b)
		h.Configure(hub.Config{Broker: b, Presence: wsredis.NewPresence(po)})
	}
	return nil
}

// Start implements Provider: Redis must answer, or the App does not start.
func (r *RedisProvider) Start(ctx context.Context, _ *App) error {
	if err := r.Check(ctx); err != nil {
		return fmt.Errorf("redis %s: %w", r.opts.Addr, err)
	}
	return nil
}

// Stop implements Provider; the hubs close their Broker and Presence.
func (r *RedisProvider) Stop(context.Context) error { return nil }

// Check implements Checker: Redis answers.
func (r *RedisProvider) Check(ctx context.Context) error {
	for _, b := range r.brokers {
		if err := b.Check(ctx); err != nil {
			return err
		}
	}
	return nil
}
