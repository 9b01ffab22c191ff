package frame

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

func deflatePayloads() map[string][]byte {
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 100_000)
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	return map[string][]byte{
		"empty":  {},
		"short":  []byte("Hello"),
		"json":   []byte(`{"event":"message","channel":"lobby","data":{"text":"hi there","n":42}}`),
		"repeat": bytes.Repeat([]byte("abcabcabc"), 50_000),
		"random": random,
	}
}

func TestDeflateRoundTrip(t *testing.T) {
	for name, msg := range deflatePayloads() {
		t.Run(name, func(t *testing.T) {
			c := Compress([]byte("hdr"), msg)
			if string(c[:3]) != "hdr" {
				t.Fatal("Compress lost dst")
			}
			if bytes.HasSuffix(c, []byte(syncTail)) && len(msg) > 0 {
				t.Fatal("tail not stripped")
			}
			got, err := Decompress([]byte("pre"), c[3:], int64(len(msg)))
			if err != nil {
				t.Fatal(err)
			}
			if string(got[:3]) != "pre" || !bytes.Equal(got[3:], msg) {
				t.Fatalf("round trip: %d bytes, want %d", len(got)-3, len(msg))
			}
		})
	}
}

// TestDecompressRFC7692 decodes the examples of RFC 7692 section 7.2.3.
func TestDecompressRFC7692(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
	}{
		{"compressed", []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}},
		{"no compression block", []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}},
		{"BFINAL set", []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}},
		{"two blocks", []byte{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decompress(nil, tc.p, 0)
			if err != nil || string(got) != "Hello" {
				t.Fatalf("%q %v", got, err)
			}
		})
	}
}

func TestDecompressLimit(t *testing.T) {
	msg := bytes.Repeat([]byte("x"), 10_000)
	c := Compress(nil, msg)
	tests := []struct {
		name  string
		dst   []byte
		limit int64
		err   error
	}{
		{name: "no limit", limit: 0},
		{name: "exactly the limit", limit: 10_000},
		{name: "one over", limit: 9_999, err: ErrMessageTooBig},
		{name: "tiny limit", limit: 1, err: ErrMessageTooBig},
		{name: "dst does not count", dst: make([]byte, 20_000), limit: 10_000},
		{name: "dst does not count, over", dst: make([]byte, 20_000), limit: 9_999, err: ErrMessageTooBig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decompress(tc.dst, c, tc.limit)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				if len(got) != len(tc.dst) {
					t.Fatalf("on error len %d, want dst's %d", len(got), len(tc.dst))
				}
				if CloseCodeOf(err) != CloseMessageTooBig {
					t.Fatalf("close code %v", CloseCodeOf(err))
				}
				return
			}
			if !bytes.Equal(got[len(tc.dst):], msg) {
				t.Fatal("wrong output")
			}
		})
	}
}

// TestDecompressBomb checks that the limit stops inflation early: a few KiB
// standing for a GiB must fail without allocating anywhere near that.
func TestDecompressBomb(t *testing.T) {
	c := Compress(nil, make([]byte, 16<<20))
	got, err := Decompress(nil, c, 1<<20)
	if !errors.Is(err, ErrMessageTooBig) || cap(got) > 4<<20 {
		t.Fatalf("err %v cap %d", err, cap(got))
	}
}

func TestDecompressInvalid(t *testing.T) {
	good := Compress(nil, []byte(strings.Repeat("hello world ", 100)))
	tests := []struct {
		name string
		p    []byte
	}{
		{"reserved block type", []byte{0x07, 0x00}},
		{"bad stored length", []byte{0x00, 0x05, 0x00, 0x00, 0x00}},
		{"truncated", good[:len(good)/2]},
		{"garbage", []byte("this is not deflate at all")},
		{"distance too far", []byte{0x63, 0x00, 0x42, 0x00, 0x00}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decompress([]byte("keep"), tc.p, 1<<20)
			if !errors.Is(err, ErrInvalidPayload) || string(got) != "keep" {
				t.Fatalf("%q %v", got, err)
			}
		})
	}
	// The pooled reader is not left broken by a failure.
	if got, err := Decompress(nil, good, 0); err != nil || len(got) != 1200 {
		t.Fatalf("after failures: %d %v", len(got), err)
	}
}

func TestDecompressEmpty(t *testing.T) {
	for _, p := range [][]byte{nil, {0x00}} {
		got, err := Decompress(nil, p, 10)
		if err != nil || len(got) != 0 {
			t.Fatalf("% x: %q %v", p, got, err)
		}
	}
}

func TestPrepared(t *testing.T) {
	for name, msg := range deflatePayloads() {
		t.Run(name, func(t *testing.T) {
			op := OpText
			if name == "random" {
				op = OpBinary
			}
			p := NewPrepared(op, msg)
			d := Decoder{Client: true, Deflate: true}
			f, n, err := d.Next(bytes.Clone(p.Bytes(false)))
			if err != nil || n != p.Len() || f.Compressed || !bytes.Equal(f.Payload, msg) {
				t.Fatalf("plain: n %d err %v", n, err)
			}
			wire := p.Bytes(true)
			if len(msg) < CompressMin {
				// Too short to gain: sent plain even on a deflate connection.
				if &wire[0] != &p.Bytes(false)[0] {
					t.Fatal("a short message was compressed")
				}
				return
			}
			f, n, err = d.Next(bytes.Clone(wire))
			if err != nil || n != len(wire) || !f.Compressed || f.Op != op || !f.Fin {
				t.Fatalf("compressed: n %d/%d err %v compressed %v", n, len(wire), err, f.Compressed)
			}
			got, err := Decompress(nil, f.Payload, 0)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("decompressed %d bytes, err %v", len(got), err)
			}
			if &p.Bytes(true)[0] != &wire[0] {
				t.Fatal("compressed form made twice")
			}
		})
	}
}

func TestPreparedControl(t *testing.T) {
	p := NewPrepared(OpPing, []byte("hi"))
	if !bytes.Equal(p.Bytes(true), p.Bytes(false)) || p.Op() != OpPing || string(p.Payload()) != "hi" {
		t.Fatal("control frames are never compressed")
	}
}

func TestPreparedConcurrent(t *testing.T) {
	p := NewPrepared(OpBinary, bytes.Repeat([]byte("abc"), 1000))
	var wg sync.WaitGroup
	out := make([][]byte, 8)
	for i := range out {
		wg.Go(func() { out[i] = p.Bytes(i%2 == 0) })
	}
	wg.Wait()
	for i := 2; i < len(out); i++ {
		if !bytes.Equal(out[i], out[i%2]) {
			t.Fatal("different bytes")
		}
	}
}

func TestDeflateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	msg := []byte(strings.Repeat(`{"event":"message","data":"hello"}`, 20))
	c := Compress(nil, msg)
	dst := make([]byte, 0, 4096)
	Compress(dst, msg) // warm the pools
	Decompress(dst, c, 0)
	if n := testing.AllocsPerRun(100, func() { Compress(dst[:0], msg) }); n != 0 {
		t.Errorf("Compress allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { Decompress(dst[:0], c, 0) }); n != 0 {
		t.Errorf("Decompress allocates %v times", n)
	}
}
