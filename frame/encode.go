package frame

import (
	"encoding/binary"
	"math/rand/v2"
)

// AppendFrame appends one whole frame to dst. rsv holds the RSV bits as in
// Header.Rsv (RSV1 for the first frame of a compressed message). When mask is
// not nil, as a client's frames must be, the payload is copied masked with
// *mask and payload itself is left as it was. It does not allocate when dst
// has room for HeaderLen plus the payload.
//
// AppendFrame does not police the rules the Decoder enforces (a control frame
// must be final and at most 125 bytes); the caller builds what it sends.
func AppendFrame(dst []byte, fin bool, op OpCode, rsv byte, payload []byte, mask *[4]byte) []byte {
	h := Header{Fin: fin, Rsv: rsv, Op: op, Length: int64(len(payload))}
	if mask != nil {
		h.Masked, h.Mask = true, *mask
	}
	dst = AppendHeader(dst, h)
	start := len(dst)
	dst = append(dst, payload...)
	if mask != nil {
		Mask(dst[start:], *mask, 0)
	}
	return dst
}

// NewMask returns a masking key for one client frame. RFC 6455 section 5.3
// asks for keys a proxy cannot predict; math/rand/v2's global source is
// ChaCha8 seeded from the OS per process, unpredictable enough for that, and
// unlike crypto/rand it is cheap enough to call per frame.
func NewMask() [4]byte {
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], rand.Uint32())
	return m
}
