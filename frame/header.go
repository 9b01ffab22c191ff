package frame

import (
	"encoding/binary"
	"math/bits"

	"github.com/gobwas/ws"
)

// Header is a parsed frame header. Rsv holds the three RSV bits as bits 2..0
// (RSV1 = 0x4).
type Header struct {
	Fin    bool
	Rsv    byte
	Op     OpCode
	Masked bool
	Mask   [4]byte
	Length int64
}

// RSV1 is the bit permessage-deflate uses to mark a compressed message.
const RSV1 = 0x4

// MaxHeaderLen is the largest frame header: 2 + 8 (length) + 4 (mask).
const MaxHeaderLen = 14

// ParseHeader parses the frame header at the start of b. It returns n == 0 and
// a nil error when b is too short to hold the whole header. The only errors are
// encodings RFC 6455 forbids outright (a 64-bit length with the top bit set);
// the rules that depend on state or role are the Decoder's.
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return h, 0, nil
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&0x80 != 0
	h.Rsv = (b0 >> 4) & 0x7
	h.Op = OpCode(b0 & 0xf)
	h.Masked = b1&0x80 != 0
	if h.Length, n, err = parseLength(b); n == 0 {
		return h, 0, err
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, nil
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// parseLength reads the payload length of the header at the start of b
// (len(b) >= 2) and returns it with the header bytes it took: 2, 4 or 10.
// n == 0 with a nil error means the extended length has not arrived yet.
func parseLength(b []byte) (length int64, n int, err error) {
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return 0, 0, nil
		}
		return int64(binary.BigEndian.Uint16(b[2:])), 4, nil
	case 127:
		if len(b) < 10 {
			return 0, 0, nil
		}
		u := binary.BigEndian.Uint64(b[2:])
		if u>>63 != 0 {
			return 0, 0, protocolError(CloseProtocolError, "64-bit payload length has its most significant bit set")
		}
		return int64(u), 10, nil
	default:
		return int64(l), 2, nil
	}
}

// HeaderLen is the size of the header of a frame with that payload length.
func HeaderLen(length int64, masked bool) int {
	n := 2
	switch {
	case length > 0xffff:
		n = 10
	case length > 125:
		n = 4
	}
	if masked {
		n += 4
	}
	return n
}

// AppendHeader appends h in wire form (the shortest length encoding) to dst.
func AppendHeader(dst []byte, h Header) []byte {
	b0 := byte(h.Op) | (h.Rsv&0x7)<<4
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	switch {
	case h.Length > 0xffff:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(h.Length))
	case h.Length > 125:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, b1|byte(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// Mask XORs b in place with key, starting at offset pos of the masking key
// stream, and returns the offset to continue with for the next chunk. Masking
// and unmasking are the same operation.
//
// Long inputs go to gobwas/ws's Cipher (SSE2/AVX2 on amd64, NEON on arm64)
// with the key rotated to pos, so it runs its vector loop with no byte-wise
// head; the rest is done here a word at a time. Cipher alone spends ~25 ns on
// its byte-wise head and tail, which dominated frames under a few hundred
// bytes (most of a chat server's traffic).
func Mask(b []byte, key [4]byte, pos int) int {
	end := (pos + len(b)) & 3
	// k's byte j (little-endian) is the key byte that meets b[j], and every
	// 4 bytes after it: the key rotated to pos.
	k := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
	if len(b) >= maskVectorMin {
		n := len(b) &^ 15
		var rk [4]byte
		binary.LittleEndian.PutUint32(rk[:], k)
		ws.Cipher(b[:n], rk, 0)
		b = b[n:] // n is a multiple of 4: the rotation still holds
	}
	k64 := uint64(k)<<32 | uint64(k)
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)^k)
		b = b[4:]
	}
	for i := range b {
		b[i] ^= byte(k >> (8 * i))
	}
	return end
}

// maskVectorMin is the length from which Cipher's vector loop beats a Go loop
// of 8-byte words (measured on amd64 with AVX2).
const maskVectorMin = 64
