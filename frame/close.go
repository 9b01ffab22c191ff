package frame

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"
)

// MaxCloseReason is the longest close reason that fits a control frame's 125
// bytes of payload after the 2-byte code.
const MaxCloseReason = 123

// ParseClose reads a close frame's payload (RFC 6455 section 5.5.1). An empty
// payload is CloseNoStatus with a nil error. A 1-byte payload or a code that
// may not be sent (see ValidCloseCode) is a 1002 *ProtocolError, a reason that
// is not UTF-8 a 1007 one. The Decoder already applies these rules to every
// close frame it returns, so ParseClose on its payload does not fail.
func ParseClose(p []byte) (code CloseCode, reason string, err error) {
	if err := checkClose(p); err != nil {
		return 0, "", err
	}
	if len(p) == 0 {
		return CloseNoStatus, "", nil
	}
	return CloseCode(binary.BigEndian.Uint16(p)), string(p[2:]), nil
}

func checkClose(p []byte) error {
	switch {
	case len(p) == 0:
		return nil
	case len(p) == 1:
		return protocolError(CloseProtocolError, "close payload of 1 byte")
	case !ValidCloseCode(CloseCode(binary.BigEndian.Uint16(p))):
		return protocolError(CloseProtocolError, "invalid close code")
	case !utf8.Valid(p[2:]):
		return protocolError(CloseInvalidPayload, "close reason is not UTF-8")
	}
	return nil
}

// AppendClose appends a close frame's payload to dst: the code and reason.
// A code that may not be sent (CloseNoStatus and the others ValidCloseCode
// rejects) appends nothing, an empty payload, which the peer reads as
// CloseNoStatus: sending it would make the peer fail the connection instead of
// closing it. The reason is made valid UTF-8 and cut to MaxCloseReason bytes on
// a rune boundary, for the same reason.
func AppendClose(dst []byte, code CloseCode, reason string) []byte {
	if !ValidCloseCode(code) {
		return dst
	}
	if !utf8.ValidString(reason) {
		reason = strings.ToValidUTF8(reason, "\uFFFD")
	}
	if len(reason) > MaxCloseReason {
		cut := MaxCloseReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}
