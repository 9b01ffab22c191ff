package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/surge-ws/ws/hub"
)

// HubsProvider joins hubs to an App (runa's ws.Provider): it applies their
// [hubs.<name>] tables from the config file, starts them after the HTTP
// host (so they join their brokers once the port serves), stops them first
// (clients get 1001 after what is queued for them), serves the admin
// endpoint and contributes the ws:* commands.
type HubsProvider struct {
	hubs  []*hub.Hub
	admin *adminServer
}

// Hubs returns the provider of hubs.
func Hubs(hubs ...*hub.Hub) *HubsProvider { return &HubsProvider{hubs: hubs} }

// Name implements Provider.
func (p *HubsProvider) Name() string { return "ws" }

// List returns the hubs.
func (p *HubsProvider) List() []*hub.Hub { return append([]*hub.Hub(nil), p.hubs...) }

// Hub returns the hub named name.
func (p *HubsProvider) Hub(name string) (*hub.Hub, bool) {
	for _, h := range p.hubs {
		if h.Name() == name {
			return h, true
		}
	}
	return nil, false
}

// Configure implements Configurable: file values override code.
func (p *HubsProvider) Configure(app *App) error {
	f := app.Config()
	for name := range f.Hubs {
		if _, ok := p.Hub(name); !ok {
			return fmt.Errorf("config names hub %q, which is not installed (hubs: %v)", name, p.names())
		}
	}
	for _, h := range p.hubs {
		if t, ok := f.Hubs[h.Name()]; ok {
			h.Configure(t.HubConfig())
		}
	}
	return nil
}

func (p *HubsProvider) names() []string {
	out := make([]string, len(p.hubs))
	for i, h := range p.hubs {
		out[i] = h.Name()
	}
	return out
}

// Start starts every hub and the admin endpoint.
func (p *HubsProvider) Start(ctx context.Context, app *App) error {
	for _, h := range p.hubs {
		if err := h.Start(ctx); err != nil {
			return fmt.Errorf("hub %s: %w", h.Name(), err)
		}
	}
	opts := app.admin.merge(app.file)
	a, err := startAdmin(opts, p, app.logger)
	if err != nil {
		return err
	}
	p.admin = a
	return nil
}

// Stop stops the admin endpoint and every hub, within ctx.
func (p *HubsProvider) Stop(ctx context.Context) error {
	var errs []error
	if p.admin != nil {
		errs = append(errs, p.admin.close(ctx))
	}
	for i := len(p.hubs) - 1; i >= 0; i-- {
		if err := p.hubs[i].Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("hub %s: %w", p.hubs[i].Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Check implements Checker: every hub running and its Broker and Presence
// answering.
func (p *HubsProvider) Check(ctx context.Context) error {
	for _, h := range p.hubs {
		if err := h.Check(ctx); err != nil {
			return fmt.Errorf("hub %s: %w", h.Name(), err)
		}
	}
	return nil
}

// Mount serves h at the root of the router group target (runa's ws.Mount):
// Mount(web.Group("/ws"), h) serves it at /ws.
func Mount(target *Router, h *hub.Hub) *Route { return target.Get("/", h) }
