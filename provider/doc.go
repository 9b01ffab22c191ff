// Package provider is the framework glue that runa's ws users know: an App
// whose providers start in order and stop in reverse on SIGINT or SIGTERM,
// an HTTP host that serves mounted hubs and an ordinary net/http router on
// one port of the event loop, the config file config/ws.toml, health and
// Prometheus metrics endpoints, and the ws:* commands, which talk to the
// running server through its admin endpoint.
//
// A runa program ports line for line:
//
//	hub := ws.New("default", ws.Config{})              // the same
//	app := provider.New()                              // runa.New()
//	web := provider.HTTP(provider.Addr(":8080"))       // route.Provider(route.Addr(":8080"))
//	app.Install(web, ws.Provider(hub))                 // the same
//	web.Get("/ws", hub.Serve).SkipDoc()                // route.Default().Get(...)
//	ws.Mount(web.Group("/chat"), hub)                  // ws.Mount(route.Default().Group("/chat"), hub)
//	app.Main()                                         // app.Run(ctx) and the exit code
//
// # Lifecycle
//
// Run loads the config file, then either runs a command (its first argument
// is a registered command such as ws:list) or serves: each provider's Start
// in Install order (the HTTP host listens first, then hubs join their
// brokers), then waits for the context, a signal or a provider's failure, and
// stops the providers in reverse order within DrainTimeout: hubs refuse new
// upgrades and close their clients with 1001 after what is queued for them,
// then the HTTP host finishes in-flight requests and closes.
//
// # Concurrency
//
// Install, Router registrations and options are for program start, before
// Run; Run is called once. Handlers registered on a Router run on net/http's
// goroutines (plain requests) or on the connection's handshake goroutine
// (upgrade hooks), as in package conn.
package provider
