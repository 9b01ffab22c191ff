package hub

import (
	"errors"
	"strconv"
)

// Sentinel errors. Errors returned by the hub wrap these, so test them with errors.Is.
var (
	// ErrClientNotFound: no local connection has that connection id or Identity.ID.
	ErrClientNotFound = errors.New("hub: client not found")
	// ErrClientClosed: the client has disconnected (or was never opened).
	ErrClientClosed = errors.New("hub: client closed")
	// ErrHubStopped: the hub is stopping or stopped.
	ErrHubStopped = errors.New("hub: stopped")
	// ErrChannelRequired: subscribe or unsubscribe without a channel.
	ErrChannelRequired = errors.New("hub: channel is required")
	// ErrTooManyChannels: a subscribe beyond Config.MaxChannelsPerClient.
	ErrTooManyChannels = errors.New("hub: too many channels")
	// ErrChannelTooLong: a channel name longer than Config.MaxChannelLength.
	ErrChannelTooLong = errors.New("hub: channel too long")
	// ErrAlreadyReplied: a second Reply or Error for one message.
	ErrAlreadyReplied = errors.New("hub: message already answered")
	// ErrBrokerClosed: the Broker was closed.
	ErrBrokerClosed = errors.New("hub: broker closed")
	// ErrPresenceClosed: the Presence was closed.
	ErrPresenceClosed = errors.New("hub: presence closed")
	// ErrInvalidJSON: data given as json.RawMessage is not valid JSON.
	ErrInvalidJSON = errors.New("hub: invalid JSON")
)

// Error is an error with a code that reaches the client: a handler that returns an *Error (or an error
// wrapping one) answers {"ok":false,"code":Code,"message":Message}; an Authenticator that returns one with a
// Code in 400-599 answers the upgrade request with that HTTP status instead of 401.
// Other handler errors answer code 500 with the error's text; a recovered panic answers 500 "internal error".
type Error struct {
	Code    int
	Message string
}

// NewError returns an *Error.
func NewError(code int, message string) *Error { return &Error{Code: code, Message: message} }

func (e *Error) Error() string { return "hub: " + strconv.Itoa(e.Code) + " " + e.Message }

// Error codes the hub itself answers with.
const (
	CodeBadRequest      = 400 // malformed JSON, missing event or channel, channel over MaxChannelLength
	CodeUnauthorized    = 401 // Authenticator rejected the upgrade
	CodeForbidden       = 403 // Origin rejected, OnSubscribe veto (unless the hook returned an *Error), Can failed, MaxChannelsPerClient reached
	CodeNotFound        = 404 // no handler for the event
	CodeTooManyRequests = 429 // a message over Config.MessageRate, "rate limit exceeded"
	CodeInternal        = 500 // handler error that is not an *Error, or a recovered panic
)

// errorCode maps a handler error to the code and message the client sees; cfg gives the limits a
// limit's message names.
func errorCode(err error, fallback int, cfg *Config) (int, string) {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Code, e.Message
	case errors.Is(err, ErrChannelRequired):
		return CodeBadRequest, "channel is required"
	case errors.Is(err, ErrChannelTooLong):
		return CodeBadRequest, channelTooLong(cfg)
	case errors.Is(err, ErrTooManyChannels):
		return CodeForbidden, "too many channels (limit " + strconv.Itoa(cfg.MaxChannelsPerClient) + ")"
	}
	return fallback, err.Error()
}

func channelTooLong(cfg *Config) string {
	return "channel too long (limit " + strconv.Itoa(cfg.MaxChannelLength) + " bytes)"
}
