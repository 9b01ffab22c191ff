package hub

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/surge-ws/ws/frame"
)

// Message is one message from a client:
//
//	{"id":"1","event":"subscribe","channel":"room"}
//	{"id":"2","event":"echo","data":{"text":"hello"}}
//
// Event is required. A message with an ID gets exactly one Response. Data is kept as raw JSON (decode it
// with Context.Bind); it shares memory with the received message, which the hub never modifies.
type Message struct {
	ID      string          `json:"id,omitempty"`
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	Meta    map[string]any  `json:"meta,omitempty"`
}

// Response answers a message that has an id: the handler's Reply or Error, or else the automatic
// acknowledgement {"id","event","ok":true}. A client tells a Response (it has "ok") from a pushed Packet.
type Response struct {
	ID      string         `json:"id,omitempty"`
	Event   string         `json:"event,omitempty"`
	OK      bool           `json:"ok"`
	Code    int            `json:"code,omitempty"`
	Message string         `json:"message,omitempty"`
	Data    any            `json:"data,omitempty"`
	Meta    map[string]any `json:"meta,omitempty"`
}

// Packet is a message pushed to clients (Publish, Broadcast, Send) and carried by a Broker between nodes.
// Data is raw JSON, encoded once by the publishing node. Origin is the publishing node's Node; it travels
// between nodes only and is not sent to clients. The wire form a client receives is
// {"channel"?,"event","data"?,"meta"?}.
//
// Encoded, when set, is that wire form, already encoded: the hub sets it on every packet it hands a
// Broker, so a Broker can carry those bytes instead of encoding the packet again, and a packet that
// comes back from a Broker with Encoded set becomes the clients' frame as it is (Channel, Event and
// Encoded must then agree; Data and Meta are not read). Encoded is borrowed: it is valid until the
// Broker's Publish or Command returns, and a Broker that keeps it must copy it. It is never sent as JSON.
//
// Errors of messages without an id reach the client as a Packet with event "error" and data
// {"event"?,"code","message"}.
type Packet struct {
	Channel string          `json:"channel,omitempty"`
	Event   string          `json:"event"`
	Data    json.RawMessage `json:"data,omitempty"`
	Meta    map[string]any  `json:"meta,omitempty"`
	Origin  string          `json:"origin,omitempty"`
	Encoded []byte          `json:"-"`
}

// EventError is the event of the packet that reports an error of a message without an id.
const EventError = "error"

// Built-in events.
const (
	EventSubscribe   = "subscribe"
	EventUnsubscribe = "unsubscribe"
	EventPing        = "ping"
	EventPong        = "pong"
)

// Identity is who a connection belongs to, as the Authenticator established it. ID is the user's id:
// several connections (tabs, devices) may share it, and each keeps its own connection id (Client.ID).
// Meta is free-form; Context.Can reads the permissions in Meta["permissions"].
type Identity struct {
	ID   string         `json:"id,omitempty"`
	Name string         `json:"name,omitempty"`
	Meta map[string]any `json:"meta,omitempty"`
}

// Authenticator authenticates an upgrade request before the upgrade. It sees the request's method, URL
// (path and query), headers, cookies and RemoteAddr; its body is empty. Returning an error refuses the
// connection with 401 (or the Code of an *Error in 400-599). It runs on the transport's goroutine for
// that connection, so it may block (a database or token check) without holding up other connections.
type Authenticator func(r *http.Request) (Identity, error)

// Handler handles one event. It runs on the client's worker goroutine, one message at a time per client,
// in the order the messages arrived; it may block (other clients are unaffected; this client's later
// messages wait). Returning an error answers the message with {"ok":false,...} (see Error).
type Handler func(ctx *Context) error

// Middleware wraps the handling of every message, built-in events included. The first Use is the
// outermost.
type Middleware func(next Handler) Handler

// SubscribeHook may veto a client's subscribe request (the built-in "subscribe" event) by returning an
// error, which is the request's answer (403 unless it is an *Error). Server-side Client.Subscribe and
// Context.Subscribe calls are trusted and do not run hooks.
type SubscribeHook func(ctx *Context, channel string) error

// PublishHook runs before every Publish, Broadcast and Context.Publish on this node (not for packets
// arriving from other nodes); an error cancels the publish and is returned to the caller. Channel ""
// is a broadcast.
type PublishHook func(ctx context.Context, channel, event string, data any) error

// CloseReason is the reason text of a close frame; the client sees it (up to 123 bytes).
type CloseReason string

// Close reasons the hub and transport use.
const (
	ReasonKicked         CloseReason = "kicked"
	ReasonShutdown       CloseReason = "server shutdown"
	ReasonSendBufferFull CloseReason = "send buffer full"
	ReasonReceiveFull    CloseReason = "receive buffer full"
	ReasonTooBig         CloseReason = "message too big"
	ReasonRateLimit      CloseReason = "rate limit exceeded" // also the message of the 429 answer
)

// Close codes the hub uses. Kick closes with CloseKicked (4000) so a client can tell it from a normal
// close (1000, Client.Close) and a shutdown (1001); the reason is the one given to Kick.
const (
	CloseKicked frame.CloseCode = 4000
)

// ClientInfo describes one connection. ID is the connection id; UserID is its Identity.ID.
type ClientInfo struct {
	ID        string         `json:"id"`
	UserID    string         `json:"user_id,omitempty"`
	Name      string         `json:"name,omitempty"`
	Node      string         `json:"node,omitempty"`
	Channels  []string       `json:"channels,omitempty"` // sorted
	Connected time.Time      `json:"connected"`
	LastSeen  time.Time      `json:"last_seen"`
	IP        string         `json:"ip,omitempty"`
	UserAgent string         `json:"user_agent,omitempty"`
	Meta      map[string]any `json:"meta,omitempty"`
}

// ChannelInfo is a channel and its number of subscribers.
type ChannelInfo struct {
	Name    string `json:"name"`
	Clients int    `json:"clients"`
}

// Stats are this node's counters. Bytes are wire sizes of uncompressed, unfragmented frames (header plus
// payload). MessagesOut and BytesOut count frames accepted by a client's send queue.
type Stats struct {
	Clients     int    `json:"clients"`
	Channels    int    `json:"channels"`
	MessagesIn  uint64 `json:"messages_in"`
	MessagesOut uint64 `json:"messages_out"`
	BytesIn     uint64 `json:"bytes_in"`
	BytesOut    uint64 `json:"bytes_out"`
	// SlowClients counts clients closed with 1008 "send buffer full".
	SlowClients uint64 `json:"slow_clients"`
	// Dropped counts frames a client's send queue refused (full or closed).
	Dropped uint64 `json:"dropped"`
}

// ClusterStats counts a cluster's nodes, clients and distinct channels (Hub.ClusterStats).
type ClusterStats struct {
	Nodes    int `json:"nodes"`
	Clients  int `json:"clients"`
	Channels int `json:"channels"`
}

// Filter selects clients in Clients and Presence.Clients.
type Filter func(ClientInfo) bool

// ByID selects the clients whose connection id or Identity.ID is one of ids.
func ByID(ids ...string) Filter {
	return func(c ClientInfo) bool {
		return slices.Contains(ids, c.ID) || (c.UserID != "" && slices.Contains(ids, c.UserID))
	}
}

// ByChannel selects the clients subscribed to channel.
func ByChannel(channel string) Filter {
	return func(c ClientInfo) bool {
		return slices.Contains(c.Channels, channel)
	}
}

func matchAll(c ClientInfo, filters []Filter) bool {
	for _, f := range filters {
		if f != nil && !f(c) {
			return false
		}
	}
	return true
}
