package frame

import (
	"errors"
	"strconv"
)

// ProtocolError is a violation of RFC 6455 by the peer. Code is the close code
// the connection must be closed with; Reason is a short human text that may be
// sent as the close reason (it is at most 123 bytes).
type ProtocolError struct {
	Code   CloseCode
	Reason string
}

// Error names the close code with the reason so logs show what the peer did
// and how the connection was closed.
func (e *ProtocolError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = e.Code.name()
	}
	return "frame: " + reason + " (close code " + strconv.Itoa(int(e.Code)) + ")"
}

// Is makes errors.Is(err, ErrMessageTooBig) (and the other sentinels) true for
// every ProtocolError that carries the sentinel's close code.
func (e *ProtocolError) Is(target error) bool {
	t, ok := target.(*ProtocolError)
	return ok && t.Code == e.Code && (t.Reason == "" || t.Reason == e.Reason)
}

// Sentinels, one per close code a parser can answer with. Compare with errors.Is.
var (
	ErrProtocol       = &ProtocolError{Code: CloseProtocolError}
	ErrInvalidPayload = &ProtocolError{Code: CloseInvalidPayload}
	ErrMessageTooBig  = &ProtocolError{Code: CloseMessageTooBig}
)

// protocolError allocates only on the error path: a connection that fails is
// about to be closed, so the cost does not matter, while a fresh value keeps
// callers from mutating a shared one.
func protocolError(code CloseCode, reason string) error {
	return &ProtocolError{Code: code, Reason: reason}
}

// CloseCodeOf returns the close code err asks for: the ProtocolError's code when
// err wraps one, else CloseInternalError.
func CloseCodeOf(err error) CloseCode {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return CloseInternalError
}
