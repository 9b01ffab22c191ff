package frame

import (
	"compress/flate"
	"io"
	"sync"
)

// permessage-deflate (RFC 7692) without context takeover: every message is
// compressed and decompressed on its own, so no per-connection window is kept
// (32 KiB per direction per connection would defeat the idle-memory budget).
// The flate state (hundreds of KiB for a writer, 32 KiB+ for a reader) lives
// in pools and is borrowed for one message at a time.

// syncTail ends every compressed message on the wire before the sender strips
// it (RFC 7692 section 7.2.1): the LEN/NLEN of an empty stored block.
const syncTail = "\x00\x00\xff\xff"

// inflateTail is what Decompress feeds after the payload: syncTail restores
// the stripped bytes, and an empty final stored block (BFINAL=1) lets the
// reader end with io.EOF exactly when the message ended on a block boundary,
// so a truncated message shows up as an error instead of silently short
// output. A message that ends with its own BFINAL block stops the reader
// before these bytes (RFC 7692 section 7.2.3.4 allows such messages).
const inflateTail = syncTail + "\x01\x00\x00\xff\xff"

type deflater struct {
	w   *flate.Writer
	out appendWriter
}

// appendWriter lets flate write straight into the caller's slice.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

var deflaters = sync.Pool{New: func() any {
	d := new(deflater)
	d.w, _ = flate.NewWriter(&d.out, flate.BestSpeed) // the level is valid: no error
	return d
}}

// Compress appends the permessage-deflate payload of msg to dst: raw DEFLATE
// with the final empty block's 0x00 0x00 0xff 0xff tail removed. Each call
// starts with an empty window (no context takeover). It allocates only to
// grow dst.
func Compress(dst, msg []byte) []byte {
	d := deflaters.Get().(*deflater)
	d.out.b = dst
	d.w.Reset(&d.out)
	_, _ = d.w.Write(msg) // appendWriter never fails, so neither does flate
	_ = d.w.Flush()
	out := d.out.b
	d.out.b = nil // do not keep the caller's memory alive in the pool
	deflaters.Put(d)
	// Flush always ends with an empty stored block, so the tail is there.
	return out[:len(out)-len(syncTail)]
}

type inflater struct {
	r   io.ReadCloser // from flate.NewReader; also a flate.Resetter
	src tailReader
}

// tailReader reads p and then inflateTail. It implements io.ByteReader so
// that flate reads it directly instead of wrapping it in a 4 KiB bufio.Reader
// per message.
type tailReader struct {
	p    []byte
	tail string
}

func (t *tailReader) reset(p []byte) { t.p, t.tail = p, inflateTail }

func (t *tailReader) Read(b []byte) (int, error) {
	if len(t.p) > 0 {
		n := copy(b, t.p)
		t.p = t.p[n:]
		return n, nil
	}
	if t.tail == "" {
		return 0, io.EOF
	}
	n := copy(b, t.tail)
	t.tail = t.tail[n:]
	return n, nil
}

func (t *tailReader) ReadByte() (byte, error) {
	if len(t.p) > 0 {
		c := t.p[0]
		t.p = t.p[1:]
		return c, nil
	}
	if t.tail == "" {
		return 0, io.EOF
	}
	c := t.tail[0]
	t.tail = t.tail[1:]
	return c, nil
}

var inflaters = sync.Pool{New: func() any {
	inf := new(inflater)
	inf.r = flate.NewReader(&inf.src)
	return inf
}}

// Decompress appends the message that the permessage-deflate payload p (the
// concatenated payloads of a compressed message's frames) stands for to dst.
// A message longer than limit bytes (when limit > 0; dst's existing bytes do
// not count) fails with ErrMessageTooBig once limit+1 bytes have come out,
// so a small payload cannot inflate into a huge allocation. Corrupt or
// truncated data fails with ErrInvalidPayload. On error dst is returned with
// its original length (bytes past it may have been written).
//
// An empty payload is an empty message: DEFLATE needs at least one byte, but
// some senders drop the lone 0x00 an empty message compresses to.
func Decompress(dst, p []byte, limit int64) ([]byte, error) {
	if len(p) == 0 {
		return dst, nil
	}
	inf := inflaters.Get().(*inflater)
	inf.src.reset(p)
	_ = inf.r.(flate.Resetter).Reset(&inf.src, nil) // never fails
	start := len(dst)
	var err error
	for {
		if len(dst) == cap(dst) {
			// Grow as output actually comes out; the first guess covers
			// typical text ratios without reallocating.
			grow := int64(max(2*len(p), 512))
			if limit > 0 {
				grow = min(grow, limit+1-int64(len(dst)-start))
			}
			dst = append(dst, make([]byte, grow)...)[:len(dst)]
		}
		room := dst[len(dst):cap(dst)]
		if limit > 0 {
			if left := limit + 1 - int64(len(dst)-start); int64(len(room)) > left {
				room = room[:left]
			}
		}
		var n int
		n, err = inf.r.Read(room)
		dst = dst[:len(dst)+n]
		if limit > 0 && int64(len(dst)-start) > limit {
			err = protocolError(CloseMessageTooBig, "message too big")
			break
		}
		if err == io.EOF {
			err = nil
			break
		}
		if err != nil {
			err = protocolError(CloseInvalidPayload, "bad compressed data")
			break
		}
	}
	inf.src.reset(nil)
	inflaters.Put(inf)
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

func (p *Prepared) deflate() {
	if !IsData(p.op) {
		p.deflated = p.plain
		return
	}
	// Compress after room for the longest header, then write the header,
	// whose length depends on the compressed size, right before the payload:
	// one allocation (plus growth) instead of two and a copy.
	const room = MaxHeaderLen - 4 // server frames are not masked
	payload := p.Payload()
	b := Compress(make([]byte, room, room+len(payload)/2+16), payload)
	h := Header{Fin: true, Rsv: RSV1, Op: p.op, Length: int64(len(b) - room)}
	at := room - HeaderLen(h.Length, false)
	AppendHeader(b[at:at], h)
	p.deflated = b[at:]
}
