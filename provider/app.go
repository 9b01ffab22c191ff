package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Provider is one part of an App: started in Install order, stopped in
// reverse.
type Provider interface {
	// Name names the provider in errors and logs.
	Name() string
	// Start brings the provider up; it must not block beyond that. An error
	// stops the providers already started and ends Run.
	Start(ctx context.Context, app *App) error
	// Stop takes the provider down within ctx (the App's drain deadline).
	Stop(ctx context.Context) error
}

// Command is a subcommand of the program (go run . ws:list): Run gets the
// arguments after its name and writes to out.
type Command struct {
	Name  string
	Usage string // one line: arguments and what it does
	Run   func(ctx context.Context, app *App, args []string, out io.Writer) error
}

// Optional interfaces of a Provider.
type (
	// Commander contributes commands.
	Commander interface{ Commands() []Command }
	// Failer reports a failure after Start (a listener that died): Run
	// then stops the App and returns the error.
	Failer interface{ Failed() <-chan error }
	// Checker reports readiness (/readyz): nil when ready.
	Checker interface {
		Check(ctx context.Context) error
	}
	// Configurable is configured before any provider starts (and before a
	// command runs): from the config file (App.Config) and the other
	// providers (App.Providers). It only checks and records: a command
	// must not open connections it never closes.
	Configurable interface{ Configure(app *App) error }
	// Preparer is prepared when the App serves, after every Configure and
	// before any Start: it may wire other providers (the Redis provider
	// gives hubs their Broker and Presence here).
	Preparer interface{ Prepare(app *App) error }
)

// App runs providers as one program. Create it with New, Install providers,
// then call Run (or Main) once.
type App struct {
	providers []Provider
	commands  map[string]Command

	configPath string
	drain      time.Duration
	args       []string
	out        io.Writer
	logger     *slog.Logger
	admin      AdminOptions

	overrides []func(*File)

	file     *File
	draining atomic.Bool
	started  atomic.Bool
}

// Option configures an App.
type Option func(*App)

// ConfigFile sets the config file ("config/ws.toml" by default; a missing
// file at the default path is no error, a missing file named here is).
func ConfigFile(path string) Option { return func(a *App) { a.configPath = path } }

// DrainTimeout bounds the stop of all providers. Default 10s.
func DrainTimeout(d time.Duration) Option { return func(a *App) { a.drain = d } }

// Args sets the command line (without the program name). Default
// os.Args[1:].
func Args(args ...string) Option { return func(a *App) { a.args = args } }

// Output sets where commands write. Default os.Stdout.
func Output(w io.Writer) Option { return func(a *App) { a.out = w } }

// Logger sets the App's logger. Default slog.Default().
func Logger(l *slog.Logger) Option { return func(a *App) { a.logger = l } }

// Admin sets where the admin endpoint of the ws:* commands listens (see
// AdminOptions).
func Admin(o AdminOptions) Option { return func(a *App) { a.admin = o } }

// Override changes the loaded config before the providers see it: for a
// program's own flags, which take precedence over the file and the
// environment (code < file < environment < overrides).
func Override(f func(*File)) Option { return func(a *App) { a.overrides = append(a.overrides, f) } }

// DefaultConfigFile is where New looks for the config file.
const DefaultConfigFile = "config/ws.toml"

// New returns an App with no providers.
func New(opts ...Option) *App {
	a := &App{commands: map[string]Command{}, drain: 10 * time.Second, out: os.Stdout, logger: slog.Default()}
	a.args = os.Args[1:]
	for _, o := range opts {
		o(a)
	}
	return a
}

// Install adds providers; they start in this order.
func (a *App) Install(ps ...Provider) {
	for _, p := range ps {
		a.providers = append(a.providers, p)
		if c, ok := p.(Commander); ok {
			for _, cmd := range c.Commands() {
				a.commands[cmd.Name] = cmd
			}
		}
	}
}

// Providers returns the installed providers in order.
func (a *App) Providers() []Provider { return append([]Provider(nil), a.providers...) }

// Config returns the loaded config file (nil before Run).
func (a *App) Config() *File { return a.file }

// Draining reports whether the App is stopping.
func (a *App) Draining() bool { return a.draining.Load() }

// Ready reports whether the App serves: started, not draining, and every
// provider's Check passes.
func (a *App) Ready(ctx context.Context) error {
	if !a.started.Load() {
		return errors.New("starting")
	}
	if a.draining.Load() {
		return errors.New("draining")
	}
	for _, p := range a.providers {
		if c, ok := p.(Checker); ok {
			if err := c.Check(ctx); err != nil {
				return fmt.Errorf("%s: %w", p.Name(), err)
			}
		}
	}
	return nil
}

// Run loads the config file and runs the command named by the first
// argument, or serves until ctx is done, the process gets SIGINT or SIGTERM,
// or a provider fails; then it stops the providers in reverse order within
// DrainTimeout. It returns nil after a clean stop.
func (a *App) Run(ctx context.Context) error {
	f, err := LoadFile(a.configPath, a.configPath != "")
	if err != nil {
		return err
	}
	for _, o := range a.overrides {
		o(f)
	}
	a.file = f
	for _, p := range a.providers {
		if c, ok := p.(Configurable); ok {
			if err := c.Configure(a); err != nil {
				return fmt.Errorf("provider: %s: %w", p.Name(), err)
			}
		}
	}
	// A first argument that is a word names a command; "serve", none, or
	// flags (the program's own) serve.
	if len(a.args) > 0 && a.args[0] != "serve" && !strings.HasPrefix(a.args[0], "-") {
		return a.runCommand(ctx, a.args[0], a.args[1:])
	}
	return a.serve(ctx)
}

// Main is Run with a background context; it exits the process with status
// 1 (and the error on stderr) if Run fails.
func (a *App) Main() {
	if err := a.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func (a *App) runCommand(ctx context.Context, name string, args []string) error {
	cmd, ok := a.commands[name]
	if !ok {
		names := make([]string, 0, len(a.commands))
		for n := range a.commands {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("unknown command %q (commands: serve, %s)", name, strings.Join(names, ", "))
	}
	return cmd.Run(ctx, a, args, a.out)
}

func (a *App) serve(ctx context.Context) error {
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	a.mountEndpoints()
	for _, p := range a.providers {
		if pr, ok := p.(Preparer); ok {
			if err := pr.Prepare(a); err != nil {
				return fmt.Errorf("provider: prepare %s: %w", p.Name(), err)
			}
		}
	}
	var started []Provider
	var runErr error
	for _, p := range a.providers {
		if err := p.Start(ctx, a); err != nil {
			runErr = fmt.Errorf("provider: start %s: %w", p.Name(), err)
			break
		}
		started = append(started, p)
	}
	if runErr == nil {
		a.started.Store(true)
		a.logger.Info("provider: serving", "providers", len(started))
		runErr = a.wait(ctx)
	}
	a.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), a.drain)
	defer cancel()
	for i := len(started) - 1; i >= 0; i-- {
		if err := started[i].Stop(sctx); err != nil {
			a.logger.Error("provider: stop", "provider", started[i].Name(), "err", err)
			if runErr == nil {
				runErr = fmt.Errorf("provider: stop %s: %w", started[i].Name(), err)
			}
		}
	}
	return runErr
}

// wait blocks until ctx is done (nil) or a provider fails (its error).
func (a *App) wait(ctx context.Context) error {
	failed := make(chan error, len(a.providers))
	for _, p := range a.providers {
		if f, ok := p.(Failer); ok {
			go func(ch <-chan error) {
				select {
				case err := <-ch:
					failed <- err
				case <-ctx.Done():
				}
			}(f.Failed())
		}
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-failed:
		return err
	}
}

// mountEndpoints puts /livez, /readyz and /metrics on the HTTP hosts.
func (a *App) mountEndpoints() {
	for _, p := range a.providers {
		if h, ok := p.(*HTTPHost); ok {
			h.handle("/livez", livez())
			h.handle("/readyz", readyz(a))
			h.handle("/metrics", a.metrics())
		}
	}
}
