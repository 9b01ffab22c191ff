package frame

import "sync"

// CompressMin is the smallest payload worth compressing: below it the
// deflate block overhead outweighs the gain, and permessage-deflate lets any
// message go out plain.
const CompressMin = 64

// Prepared is a server message encoded once into wire bytes that any number of
// connections can write without copying: a publish to 10,000 subscribers
// encodes (and compresses) once. A Prepared is immutable after NewPrepared and
// safe for concurrent use by any number of goroutines; the compressed form is
// made on first use, once.
//
// Prepared frames are unmasked, so they are for server-to-client traffic only;
// a client must mask every frame with a fresh key.
type Prepared struct {
	op    OpCode
	hdr   int    // header length in plain
	plain []byte // header + payload

	deflateOnce sync.Once
	deflated    []byte // header (RSV1) + compressed payload
}

// NewPrepared encodes one unfragmented message. payload is copied, so the caller
// may reuse it at once.
func NewPrepared(op OpCode, payload []byte) *Prepared {
	h := Header{Fin: true, Op: op, Length: int64(len(payload))}
	b := make([]byte, 0, HeaderLen(h.Length, false)+len(payload))
	b = AppendHeader(b, h)
	b = append(b, payload...)
	return &Prepared{op: op, hdr: len(b) - len(payload), plain: b}
}

// Op returns the message's opcode.
func (p *Prepared) Op() OpCode { return p.op }

// Len returns the size of the uncompressed wire form.
func (p *Prepared) Len() int { return len(p.plain) }

// Payload returns the message payload. The bytes are shared: do not modify them.
func (p *Prepared) Payload() []byte { return p.plain[p.hdr:] }

// Bytes returns the wire form to write to a connection: the permessage-deflate
// form (compressed once, on first call) when compressed is true and the message
// is a data message, the plain form otherwise. The bytes are shared and must not
// be modified.
func (p *Prepared) Bytes(compressed bool) []byte {
	if !compressed || IsControl(p.op) || len(p.plain)-p.hdr < CompressMin {
		return p.plain
	}
	p.deflateOnce.Do(p.deflate)
	return p.deflated
}
