package scenario

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/progress"
)

// Options configure a run; the CLI fills them from flags.
type Options struct {
	URL      string
	N        int     // connections (subscribers, echo clients)
	Msgs     int     // fan-out/slow: messages; echo: requests per connection
	Rate     float64 // fan-out/slow: messages per second (0: one at a time); churn: cycles per second
	Procs    int     // client processes (0: as many as the fd limit needs)
	Size     int     // filler bytes in each message's data
	Channel  string
	Event    string
	EchoEvt  string
	Hold     time.Duration // idle: how long to hold the connections
	Duration time.Duration // churn: how long to run; echo: stop sending after
	Timeout  time.Duration // one handshake, one message's delivery, one wait
	Settle   time.Duration // churn: wait before the after-readings
	Conc     int           // dials in flight per process
	ConnRate float64       // new connections per second over all processes (0: no cap)
	Share    float64       // slow: share of subscribers that stop reading

	ServerPID int
	StatsURL  string

	// Sources are the local addresses connections are spread over.
	Sources []netip.Addr
	// AllowRemote permits a target that is not a loopback address.
	AllowRemote bool

	// WorkerArgv starts one worker process (default: this binary -worker).
	WorkerArgv []string
	// FDLimit is the per-process descriptor budget used to decide how many
	// workers are needed (default: this process's raised limit).
	FDLimit int
	// MaxTime bounds the whole run.
	MaxTime time.Duration

	Progress *progress.Line

	// Cluster holds the cluster scenario's own settings (RunCluster).
	Cluster ClusterOptions
}

// ErrNotLoopback refuses a target that would send load off this machine.
var ErrNotLoopback = errors.New("target is not a loopback address: pass -allow-remote to load a remote server you own")

// CheckTarget checks that rawURL (a ws:// URL or a stats URL) resolves only
// to loopback addresses unless remote targets are allowed. It resolves the
// name itself, so "localhost" passes and a name pointing elsewhere does not.
func CheckTarget(ctx context.Context, rawURL string, allowRemote bool) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", rawURL)
	}
	if allowRemote {
		return nil
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.Unmap().IsLoopback() {
			return fmt.Errorf("%s: %w", host, ErrNotLoopback)
		}
		return nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return fmt.Errorf("%s resolves to %s: %w", host, a, ErrNotLoopback)
		}
	}
	return nil
}

// LoopbackSources returns 127.0.0.2-127.0.0.254 when the target is an IPv4
// loopback address (each source address has its own ephemeral port range,
// so a run never runs out of ports), and nil otherwise.
func LoopbackSources(ctx context.Context, rawURL string) []netip.Addr {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil || len(addrs) == 0 {
		return nil
	}
	for _, a := range addrs {
		if !a.Unmap().Is4() || !a.Unmap().IsLoopback() {
			return nil
		}
	}
	return SourceRange(netip.AddrFrom4([4]byte{127, 0, 0, 2}), netip.AddrFrom4([4]byte{127, 0, 0, 254}))
}

// SourceRange lists the addresses from first to last inclusive.
func SourceRange(first, last netip.Addr) []netip.Addr {
	var out []netip.Addr
	for a := first; a.IsValid() && a.Compare(last) <= 0; a = a.Next() {
		out = append(out, a)
	}
	return out
}

func (o *Options) defaults() {
	if o.N <= 0 {
		o.N = 1000
	}
	if o.Channel == "" {
		o.Channel = "room"
	}
	if o.Event == "" {
		o.Event = "chat.message"
	}
	if o.EchoEvt == "" {
		o.EchoEvt = "echo"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Conc <= 0 {
		o.Conc = 64
	}
	if o.MaxTime <= 0 {
		o.MaxTime = 10 * time.Minute
	}
}
