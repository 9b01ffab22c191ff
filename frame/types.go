package frame

import (
	"strconv"

	"github.com/gobwas/ws"
)

// OpCode is a frame's opcode (RFC 6455 section 5.2). It is gobwas/ws's type so
// values pass between the two packages without conversion.
type OpCode = ws.OpCode

// The opcodes RFC 6455 defines.
const (
	OpContinuation OpCode = ws.OpContinuation
	OpText         OpCode = ws.OpText
	OpBinary       OpCode = ws.OpBinary
	OpClose        OpCode = ws.OpClose
	OpPing         OpCode = ws.OpPing
	OpPong         OpCode = ws.OpPong
)

// IsControl reports whether op is a control opcode (close, ping, pong or a reserved 0xB-0xF).
func IsControl(op OpCode) bool { return op&0x8 != 0 }

// IsData reports whether op is text, binary or continuation.
func IsData(op OpCode) bool { return op == OpText || op == OpBinary || op == OpContinuation }

// CloseCode is the status code of a close frame (RFC 6455 section 7.4).
type CloseCode uint16

// Close codes of RFC 6455 section 7.4.1 and the IANA registry.
const (
	CloseNormal             CloseCode = 1000
	CloseGoingAway          CloseCode = 1001
	CloseProtocolError      CloseCode = 1002
	CloseUnsupportedData    CloseCode = 1003
	CloseNoStatus           CloseCode = 1005 // never on the wire: the close frame had no payload
	CloseAbnormal           CloseCode = 1006 // never on the wire: the connection dropped without a close frame
	CloseInvalidPayload     CloseCode = 1007
	ClosePolicyViolation    CloseCode = 1008
	CloseMessageTooBig      CloseCode = 1009
	CloseMandatoryExtension CloseCode = 1010
	CloseInternalError      CloseCode = 1011
	CloseServiceRestart     CloseCode = 1012
	CloseTryAgainLater      CloseCode = 1013
	CloseTLSHandshake       CloseCode = 1015 // never on the wire
)

// String returns the code with its registered name, for logs and errors.
func (c CloseCode) String() string {
	if name := c.name(); name != "" {
		return strconv.Itoa(int(c)) + " (" + name + ")"
	}
	return strconv.Itoa(int(c))
}

func (c CloseCode) name() string {
	switch c {
	case CloseNormal:
		return "normal closure"
	case CloseGoingAway:
		return "going away"
	case CloseProtocolError:
		return "protocol error"
	case CloseUnsupportedData:
		return "unsupported data"
	case CloseNoStatus:
		return "no status"
	case CloseAbnormal:
		return "abnormal closure"
	case CloseInvalidPayload:
		return "invalid payload data"
	case ClosePolicyViolation:
		return "policy violation"
	case CloseMessageTooBig:
		return "message too big"
	case CloseMandatoryExtension:
		return "mandatory extension"
	case CloseInternalError:
		return "internal error"
	case CloseServiceRestart:
		return "service restart"
	case CloseTryAgainLater:
		return "try again later"
	case CloseTLSHandshake:
		return "TLS handshake"
	}
	return ""
}

// ValidCloseCode reports whether c may appear in a close frame on the wire:
// 1000-1003, 1007-1014 and 3000-4999. 0-999, 1004-1006, 1015 and 1016-2999 are not.
func ValidCloseCode(c CloseCode) bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}
