package frame

import (
	"bytes"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// permessage-deflate negotiation (RFC 7692 section 7.1). This package always
// answers "server_no_context_takeover; client_no_context_takeover": it keeps
// no window between messages in either direction, so it can accept any offer
// except one that limits the server's window (server_max_window_bits below 15),
// which compress/flate cannot honour.

// acceptableDeflateOffer reports whether any permessage-deflate offer in the
// Sec-WebSocket-Extensions fields can be accepted. A malformed field or offer
// is declined rather than failing the handshake: RFC 7692 section 5 says to
// decline such offers, and the connection works without compression.
func acceptableDeflateOffer(values []string) bool {
	for _, v := range values {
		var stack [4]httphead.Option
		opts, ok := httphead.ParseOptions([]byte(v), stack[:0])
		if !ok {
			continue
		}
		for _, o := range opts {
			if !bytes.EqualFold(o.Name, wsflate.ExtensionNameBytes) {
				continue
			}
			var p wsflate.Parameters
			if p.Parse(o) != nil || !strictWindowBits(o) {
				continue
			}
			if !p.ServerMaxWindowBits.Defined() || p.ServerMaxWindowBits == 15 {
				return true
			}
		}
	}
	return false
}

// checkDeflateResponse checks the Sec-WebSocket-Extensions fields of a 101
// against an offer of deflateParams (when offered) and reports whether
// permessage-deflate is on. The server must name only that extension, at most
// once, and must agree not to keep its window: otherwise Decompress, which
// starts every message afresh, would misread its messages.
func checkDeflateResponse(values []string, offered bool) (deflate, ok bool) {
	var opts []httphead.Option
	for _, v := range values {
		var parsed bool
		opts, parsed = httphead.ParseOptions([]byte(v), opts)
		if !parsed {
			return false, false
		}
	}
	if len(opts) == 0 {
		return false, true
	}
	if !offered || len(opts) != 1 || !bytes.EqualFold(opts[0].Name, wsflate.ExtensionNameBytes) {
		return false, false
	}
	var p wsflate.Parameters
	if p.Parse(opts[0]) != nil || !strictWindowBits(opts[0]) {
		return false, false
	}
	// client_max_window_bits may only answer an offer that had it; ours did not.
	if !p.ServerNoContextTakeover || p.ClientMaxWindowBits.Defined() {
		return false, false
	}
	return true, true
}

// strictWindowBits reports whether every window-bits value is digits without
// a leading zero, as RFC 7692 section 7.1.2 requires. wsflate reads the value
// with httphead.IntFromASCII, which takes any byte 0x30-0x3F for a digit, so a
// quoted "1;" would pass as 11.
func strictWindowBits(o httphead.Option) bool {
	ok := true
	o.Parameters.ForEach(func(k, v []byte) bool {
		if len(v) == 0 {
			return true
		}
		if v[0] == '0' {
			ok = false
		}
		for _, c := range v {
			if c < '0' || c > '9' {
				ok = false
			}
		}
		return ok
	})
	return ok
}
