package ws

import (
	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/hub"
	"github.com/surge-ws/ws/provider"
)

// Types of package hub, under the names a runa program uses.
type (
	Hub             = hub.Hub
	Config          = hub.Config
	Context         = hub.Context
	Client          = hub.Client
	Message         = hub.Message
	Response        = hub.Response
	Packet          = hub.Packet
	Identity        = hub.Identity
	ClientInfo      = hub.ClientInfo
	ChannelInfo     = hub.ChannelInfo
	Stats           = hub.Stats
	Status          = hub.Status
	Filter          = hub.Filter
	Handler         = hub.Handler
	Middleware      = hub.Middleware
	SubscribeHook   = hub.SubscribeHook
	PublishHook     = hub.PublishHook
	Authenticator   = hub.Authenticator
	Broker          = hub.Broker
	Presence        = hub.Presence
	Checker         = hub.Checker
	MemoryBroker    = hub.MemoryBroker
	MemoryPresence  = hub.MemoryPresence
	CloseReason     = hub.CloseReason
	Error           = hub.Error
	TransportConfig = hub.TransportConfig
)

// Close reasons and codes (see package hub).
const (
	ReasonKicked         = hub.ReasonKicked
	ReasonShutdown       = hub.ReasonShutdown
	ReasonSendBufferFull = hub.ReasonSendBufferFull
	ReasonReceiveFull    = hub.ReasonReceiveFull
	ReasonTooBig         = hub.ReasonTooBig
	ReasonRateLimit      = hub.ReasonRateLimit

	CloseKicked frame.CloseCode = hub.CloseKicked
)

// Lifecycle states of a Hub.
const (
	StatusNew      = hub.StatusNew
	StatusRunning  = hub.StatusRunning
	StatusStopping = hub.StatusStopping
	StatusStopped  = hub.StatusStopped
)

// Built-in and reserved events.
const (
	EventSubscribe   = hub.EventSubscribe
	EventUnsubscribe = hub.EventUnsubscribe
	EventPing        = hub.EventPing
	EventPong        = hub.EventPong
	EventError       = hub.EventError
)

// Error codes the hub answers with.
const (
	CodeBadRequest      = hub.CodeBadRequest
	CodeUnauthorized    = hub.CodeUnauthorized
	CodeForbidden       = hub.CodeForbidden
	CodeNotFound        = hub.CodeNotFound
	CodeTooManyRequests = hub.CodeTooManyRequests
	CodeInternal        = hub.CodeInternal
)

// Sentinel errors (see package hub).
var (
	ErrClientNotFound  = hub.ErrClientNotFound
	ErrClientClosed    = hub.ErrClientClosed
	ErrHubStopped      = hub.ErrHubStopped
	ErrChannelRequired = hub.ErrChannelRequired
	ErrTooManyChannels = hub.ErrTooManyChannels
	ErrChannelTooLong  = hub.ErrChannelTooLong
	ErrAlreadyReplied  = hub.ErrAlreadyReplied
	ErrBrokerClosed    = hub.ErrBrokerClosed
	ErrPresenceClosed  = hub.ErrPresenceClosed
	ErrInvalidJSON     = hub.ErrInvalidJSON
)

// New creates a Hub; an empty name is "default". See hub.New.
func New(name string, config Config) *Hub { return hub.New(name, config) }

// ByID selects clients by connection id or Identity.ID. See hub.ByID.
func ByID(ids ...string) Filter { return hub.ByID(ids...) }

// ByChannel selects the clients subscribed to channel.
func ByChannel(channel string) Filter { return hub.ByChannel(channel) }

// NewMemoryBroker returns a Broker within one process.
func NewMemoryBroker() *MemoryBroker { return hub.NewMemoryBroker() }

// NewMemoryPresence returns a Presence in this process's memory.
func NewMemoryPresence() *MemoryPresence { return hub.NewMemoryPresence() }

// NewError returns an error whose code and message reach the client.
func NewError(code int, message string) *Error { return hub.NewError(code, message) }

// Provider joins hubs to a provider.App (runa's ws.Provider): config file
// tables, start after the HTTP host, stop first, the ws:* commands. See
// provider.Hubs.
func Provider(hubs ...*Hub) *provider.HubsProvider { return provider.Hubs(hubs...) }

// Mount serves hub at the root of the router group target: Mount(web.Group("/ws"), hub)
// serves it at /ws. See provider.Mount.
func Mount(target *provider.Router, hub *Hub) *provider.Route { return provider.Mount(target, hub) }
