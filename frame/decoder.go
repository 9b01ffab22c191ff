package frame

// Decoder reads the frames of one connection's incoming byte stream and
// enforces RFC 6455's framing rules, including those that span frames
// (fragmentation, UTF-8 of text messages, message size). It does not
// reassemble: each fragment is returned as it completes, so the caller keeps
// a message buffer only while a message is open.
//
// The zero value is a server-side decoder with no size limit and no
// extension. A Decoder holds state between calls and belongs to whoever reads
// the connection; it is not safe for concurrent use. After Next returns an
// error the connection must be failed; call Reset before any reuse.
type Decoder struct {
	// Client is set on the client side: the server's frames must not be
	// masked. Otherwise (server side) every frame must be masked.
	Client bool

	// MaxMessageSize limits a message's payload, summed over its fragments,
	// in wire bytes (compressed bytes for a compressed message: the inflated
	// size is Decompress's limit). It is checked from each frame's header, so
	// an oversize message fails with 1009 before its payload arrives.
	// 0 means no limit.
	MaxMessageSize int64

	// Deflate is set when permessage-deflate was negotiated: RSV1 is then
	// allowed on the first frame of a data message and marks it compressed.
	Deflate bool

	op         OpCode // opcode of the open fragmented message
	open       bool   // a fragmented message is open (its final frame has not come)
	compressed bool   // the current message is compressed
	size       int64  // payload bytes of the open message so far
	text       UTF8   // UTF-8 state of the current uncompressed text message
	checked    int    // payload bytes of the incomplete frame ahead that Partial unmasked and checked
}

// Frame is one decoded frame.
type Frame struct {
	Header

	// Payload is the frame's payload, unmasked in place: it aliases the
	// bytes given to Next and is valid as long as they are.
	Payload []byte

	// Compressed is set on every fragment of a data message whose first frame
	// had RSV1 (permessage-deflate): the payloads, concatenated, are for
	// Decompress. The Decoder cannot check the UTF-8 of a compressed text
	// message; the caller checks it after decompressing.
	Compressed bool
}

// Next decodes the frame at the start of b.
//
// n == 0 && err == nil: b does not hold the whole frame yet; b is unmodified
// (but for what Partial did) and the decoder's state unchanged, so call again
// with more bytes, starting at the same frame. A header
// that breaks a rule fails as soon as the bytes that show it have arrived
// (two bytes for most rules, the extended length for the size limit), without
// waiting for the payload.
//
// n > 0: f is the frame, its payload unmasked in place in b[:n], and the
// decoder's state has advanced past it.
//
// err != nil: a *ProtocolError carrying the close code to fail the connection
// with: 1002 for framing violations (masking, RSV bits, reserved opcodes,
// control frames fragmented or over 125 bytes, continuation without a message,
// a new message inside an open one, a 1-byte close payload or a close code
// that may not be sent), 1007 for a text message or close reason that is not
// UTF-8, 1009 for a message over MaxMessageSize.
//
// Next does not allocate unless it fails.
func (d *Decoder) Next(b []byte) (f Frame, n int, err error) {
	if len(b) < 2 {
		return f, 0, nil
	}
	b0, b1 := b[0], b[1]
	h := Header{
		Fin:    b0&0x80 != 0,
		Rsv:    (b0 >> 4) & 7,
		Op:     OpCode(b0 & 0xf),
		Masked: b1&0x80 != 0,
	}
	len7 := b1 & 0x7f
	if err := d.checkBits(h, len7); err != nil {
		return f, 0, err
	}

	if h.Length, n, err = parseLength(b); n == 0 {
		return f, 0, err
	}
	if d.MaxMessageSize > 0 && !IsControl(h.Op) {
		var before int64
		if h.Op == OpContinuation {
			before = d.size
		}
		if h.Length > d.MaxMessageSize-before {
			return f, 0, protocolError(CloseMessageTooBig, "message too big")
		}
	}
	if h.Masked {
		if len(b) < n+4 {
			return f, 0, nil
		}
		h.Mask = [4]byte(b[n : n+4])
		n += 4
	}
	if h.Length > int64(len(b)-n) {
		return f, 0, nil
	}

	p := b[n : n+int(h.Length)]
	n += len(p)
	pre := d.checked // Partial already unmasked and checked p[:pre]
	d.checked = 0
	if h.Masked {
		Mask(p[pre:], h.Mask, pre)
	}
	f = Frame{Header: h, Payload: p}
	if IsControl(h.Op) {
		if h.Op == OpClose {
			if err := checkClose(p); err != nil {
				return Frame{}, 0, err
			}
		}
		return f, n, nil
	}
	if h.Op != OpContinuation {
		d.op = h.Op
		d.compressed = h.Rsv&RSV1 != 0
		d.size = 0
		if pre == 0 {
			d.text.Reset()
		}
	}
	d.size += h.Length
	d.open = !h.Fin
	f.Compressed = d.compressed
	if d.op == OpText && !d.compressed {
		if !d.text.Feed(p[pre:]) || (h.Fin && !d.text.Complete()) {
			return Frame{}, 0, protocolError(CloseInvalidPayload, "text message is not UTF-8")
		}
	}
	return f, n, nil
}

// Partial checks the part of an incomplete text frame that has arrived, so
// that a text message fails with 1007 as soon as its bytes cannot be UTF-8
// (RFC 6455 section 8.1: "fail fast"), not only when the frame completes. b
// starts at the frame Next just declined (n == 0) and holds what has arrived
// of it; the payload bytes not seen before are unmasked in place and fed to
// the message's UTF-8 state, which Next then continues from. Keep b's bytes
// as they are for the following Next: they are unmasked now.
//
// Other frames (binary, control, compressed text) and a frame whose header is
// not complete yet are left alone. Partial does not allocate unless it fails.
func (d *Decoder) Partial(b []byte) error {
	if len(b) < 2 {
		return nil
	}
	op, rsv := OpCode(b[0]&0xf), (b[0]>>4)&7
	text := op == OpText && rsv&RSV1 == 0 ||
		op == OpContinuation && d.open && d.op == OpText && !d.compressed
	if !text {
		return nil
	}
	length, n, _ := parseLength(b)
	if n == 0 {
		return nil
	}
	masked := b[1]&0x80 != 0
	var key [4]byte
	if masked {
		if len(b) < n+4 {
			return nil
		}
		key = [4]byte(b[n : n+4])
		n += 4
	}
	avail := int(min(int64(len(b)-n), length))
	if avail <= d.checked {
		return nil
	}
	if d.checked == 0 && op == OpText {
		d.text.Reset() // a new message starts with this frame
	}
	p := b[n+d.checked : n+avail]
	if masked {
		Mask(p, key, d.checked)
	}
	d.checked = avail
	if !d.text.Feed(p) {
		return protocolError(CloseInvalidPayload, "text message is not UTF-8")
	}
	return nil
}

// checkBits applies the rules that the first two bytes of a frame decide.
func (d *Decoder) checkBits(h Header, len7 byte) error {
	if h.Rsv&^RSV1 != 0 {
		return protocolError(CloseProtocolError, "RSV2 or RSV3 set without a negotiated extension")
	}
	if h.Rsv&RSV1 != 0 && !(d.Deflate && (h.Op == OpText || h.Op == OpBinary)) {
		return protocolError(CloseProtocolError, "RSV1 set outside the first frame of a compressed message")
	}
	switch h.Op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
	default:
		return protocolError(CloseProtocolError, "reserved opcode")
	}
	if h.Masked == d.Client {
		if d.Client {
			return protocolError(CloseProtocolError, "masked frame from the server")
		}
		return protocolError(CloseProtocolError, "unmasked frame from the client")
	}
	if IsControl(h.Op) {
		if !h.Fin {
			return protocolError(CloseProtocolError, "fragmented control frame")
		}
		if len7 > 125 {
			return protocolError(CloseProtocolError, "control frame payload over 125 bytes")
		}
		return nil
	}
	if h.Op == OpContinuation && !d.open {
		return protocolError(CloseProtocolError, "continuation frame without a message")
	}
	if h.Op != OpContinuation && d.open {
		return protocolError(CloseProtocolError, "new data message inside a fragmented one")
	}
	return nil
}

// InMessage reports whether a fragmented message is open: its first frame has
// been returned and its final frame has not.
func (d *Decoder) InMessage() bool { return d.open }

// Reset forgets any open message, keeping the configuration fields.
func (d *Decoder) Reset() {
	d.op, d.open, d.compressed, d.size, d.checked = 0, false, false, 0, 0
	d.text.Reset()
}
