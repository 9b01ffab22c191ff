package client

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-ws/ws/conn"
	"github.com/surge-ws/ws/loadtest/internal/hist"
)

// Config says where connections go and what they speak. It travels to worker
// processes as JSON.
type Config struct {
	URL string `json:"url"`
	// URLs, if set, spread the connections over several servers:
	// connection i goes to URLs[i%len(URLs)] (URL is then unused but by the
	// publisher, which the coordinator makes).
	URLs []string `json:"urls,omitempty"`
	// Sources are local addresses to spread connections over (connection i
	// binds Sources[i%len]); each gives its own range of ephemeral ports.
	// Empty: the kernel's choice.
	Sources []netip.Addr `json:"sources,omitempty"`
	// Channel and Event identify the fan-out's packets: subscribers join
	// Channel, the publisher sends Event on it.
	Channel string `json:"channel"`
	Event   string `json:"event"`
	// EchoEvent is the request event of the echo scenario.
	EchoEvent string `json:"echo_event"`
	// Timeout bounds each handshake and each wait of a step.
	Timeout time.Duration `json:"timeout"`
}

// Peer flags.
const (
	fSubPending uint32 = 1 << iota // subscribe sent, no reply yet
	fSubscribed                    // the server confirmed the subscription
	fClosing                       // we closed it: OnClose is no surprise
	fClosed                        // OnClose ran
	fEchoing                       // part of a running echo step
)

// peer is the client's state of one connection, reached through
// conn.Conn.Value. It is kept small: it is most of what the load generator
// spends per connection beyond the library's own.
type peer struct {
	c       *conn.Conn
	idx     int32
	flags   atomic.Uint32
	lastSeq atomic.Int32          // fan-out: last sequence number seen, for order checks
	left    atomic.Int32          // echo: requests still to send
	sentAt  atomic.Int64          // echo: when the outstanding request left
	cycle   atomic.Pointer[cycle] // churn, reconnect: who waits for this connection's events
}

func (p *peer) set(f uint32) (was uint32) { return p.flags.Or(f) }

// Counters are a Client's running totals, for progress lines and reports.
type Counters struct {
	Opened      int64 `json:"opened"`
	Open        int64 `json:"open"` // open now: opened (reopened included) minus closed
	Failed      int64 `json:"failed"`
	Subscribed  int64 `json:"subscribed"`
	SubFailed   int64 `json:"sub_failed"`
	Deliveries  int64 `json:"deliveries"`
	RoundTrips  int64 `json:"round_trips"`
	Dropped     int64 `json:"dropped"` // closed by the server or the network, not by us
	Unexpected  int64 `json:"unexpected"`
	Malformed   int64 `json:"malformed"`
	OutOfOrder  int64 `json:"out_of_order"`
	Cycles      int64 `json:"cycles"`
	SlowOpened  int64 `json:"slow_opened"`
	ReplyErrors int64 `json:"reply_errors"`
}

// Add sums o into c.
func (c *Counters) Add(o Counters) {
	c.Opened += o.Opened
	c.Open += o.Open
	c.Failed += o.Failed
	c.Subscribed += o.Subscribed
	c.SubFailed += o.SubFailed
	c.Deliveries += o.Deliveries
	c.RoundTrips += o.RoundTrips
	c.Dropped += o.Dropped
	c.Unexpected += o.Unexpected
	c.Malformed += o.Malformed
	c.OutOfOrder += o.OutOfOrder
	c.Cycles += o.Cycles
	c.SlowOpened += o.SlowOpened
	c.ReplyErrors += o.ReplyErrors
}

// Client is one process's share of a load test. Its step methods must be
// called one at a time; Counters and Errors may be called at any time.
type Client struct {
	cfg Config
	d   conn.Dialer

	mu    sync.Mutex
	peers [][]peer // one slab per Connect call, so peers never move
	slow  []net.Conn

	opened, failed, subscribed, subFailed, subPending atomic.Int64
	deliveries, roundTrips, dropped, unexpected       atomic.Int64
	malformed, outOfOrder, cycles, slowOpened         atomic.Int64
	replyErrors, open                                 atomic.Int64

	errs      Tally
	handshake hist.Recorder

	fan  atomic.Pointer[tracker]
	echo atomic.Pointer[echoRun]
}

// New returns a Client; it dials nothing yet.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	cl := &Client{cfg: cfg}
	cl.d.Handler = cl
	cl.d.Config = conn.Config{
		HandshakeTimeout: cfg.Timeout,
		MaxMessageSize:   16 << 20,
		CloseTimeout:     cfg.Timeout,
	}
	return cl
}

// Counters returns the running totals.
func (cl *Client) Counters() Counters {
	return Counters{
		Opened: cl.opened.Load(), Open: cl.open.Load(), Failed: cl.failed.Load(),
		Subscribed: cl.subscribed.Load(), SubFailed: cl.subFailed.Load(),
		Deliveries: cl.deliveries.Load(), RoundTrips: cl.roundTrips.Load(),
		Dropped: cl.dropped.Load(), Unexpected: cl.unexpected.Load(),
		Malformed: cl.malformed.Load(), OutOfOrder: cl.outOfOrder.Load(),
		Cycles: cl.cycles.Load(), SlowOpened: cl.slowOpened.Load(),
		ReplyErrors: cl.replyErrors.Load(),
	}
}

// Errors returns the errors seen so far, counted by message.
func (cl *Client) Errors() map[string]int64 { return cl.errs.Snapshot() }

// Open returns the number of connections currently open.
func (cl *Client) Open() int64 { return cl.open.Load() }

// source returns the local address for connection idx (nil: any).
func (cl *Client) source(idx int) *net.TCPAddr {
	if len(cl.cfg.Sources) == 0 {
		return nil
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(cl.cfg.Sources[idx%len(cl.cfg.Sources)], 0))
}

// urlFor returns the URL of connection idx.
func (cl *Client) urlFor(idx int) string {
	if n := len(cl.cfg.URLs); n > 0 {
		return cl.cfg.URLs[idx%n]
	}
	return cl.cfg.URL
}

// eachPeer calls f for every peer of every Connect so far.
func (cl *Client) eachPeer(f func(p *peer)) {
	cl.mu.Lock()
	slabs := cl.peers
	cl.mu.Unlock()
	for _, s := range slabs {
		for i := range s {
			f(&s[i])
		}
	}
}
