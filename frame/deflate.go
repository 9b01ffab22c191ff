package frame

import (
	"bytes"
	"compress/flate"
	"io"
	"sync"
)

// permessage-deflate (RFC 7692) without context takeover: every message is
// compressed and decompressed on its own, so no per-connection window is kept
// (32 KiB per direction per connection would defeat the idle-memory budget).

var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// Compress appends the permessage-deflate payload of msg to dst: raw DEFLATE
// with the final empty block's 0x00 0x00 0xff 0xff tail removed.
func Compress(dst, msg []byte) []byte {
	buf := bytes.NewBuffer(dst)
	w := flateWriters.Get().(*flate.Writer)
	w.Reset(buf)
	_, _ = w.Write(msg)
	_ = w.Flush()
	flateWriters.Put(w)
	out := buf.Bytes()
	return bytes.TrimSuffix(out, deflateTail)
}

var flateReaders = sync.Pool{New: func() any { return flate.NewReader(nil) }}

// Decompress appends the message that the permessage-deflate payload p stands
// for to dst. A message longer than limit (when limit > 0) fails with
// ErrMessageTooBig before more than limit+1 bytes are produced; corrupt data
// fails with ErrInvalidPayload.
func Decompress(dst, p []byte, limit int64) ([]byte, error) {
	r := flateReaders.Get().(io.ReadCloser)
	defer flateReaders.Put(r)
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader(deflateTail))
	if err := r.(flate.Resetter).Reset(src, nil); err != nil {
		return dst, protocolError(CloseInvalidPayload, "bad compressed data")
	}
	buf := bytes.NewBuffer(dst)
	var rd io.Reader = r
	if limit > 0 {
		rd = io.LimitReader(r, limit+1-int64(len(dst)))
	}
	n, err := buf.ReadFrom(rd)
	_ = n
	if err != nil && err != io.ErrUnexpectedEOF {
		return dst, protocolError(CloseInvalidPayload, "bad compressed data")
	}
	out := buf.Bytes()
	if limit > 0 && int64(len(out)) > limit {
		return dst, protocolError(CloseMessageTooBig, "message too big")
	}
	return out, nil
}

func (p *Prepared) deflate() {
	if !IsData(p.op) {
		p.deflated = p.plain
		return
	}
	c := Compress(nil, p.Payload())
	h := Header{Fin: true, Rsv: RSV1, Op: p.op, Length: int64(len(c))}
	b := make([]byte, 0, HeaderLen(h.Length, false)+len(c))
	b = AppendHeader(b, h)
	p.deflated = append(b, c...)
}
