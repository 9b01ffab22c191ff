package frame

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

func BenchmarkParseHeader(b *testing.B) {
	h := AppendHeader(nil, Header{Fin: true, Op: OpText, Masked: true, Mask: testMask, Length: 1000})
	b.ReportAllocs()
	for b.Loop() {
		if _, n, err := ParseHeader(h); n != len(h) || err != nil {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkDecoderNext decodes a client's masked text frame. The frame is
// copied back each time since Next unmasks in place; the copy is part of the
// measured time.
func BenchmarkDecoderNext(b *testing.B) {
	for _, size := range []int{128, 4096} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			frame := fr{fin: true, op: OpText, payload: strings.Repeat(`{"a":"b"}`, size/9+1)[:size]}.bytes()
			buf := make([]byte, len(frame))
			var d Decoder
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, frame)
				if _, n, err := d.Next(buf); n != len(buf) || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
}

func BenchmarkMask(b *testing.B) {
	for _, size := range []int{16, 128, 1 << 10, 16 << 10} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			p := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				Mask(p, testMask, 1)
			}
		})
	}
}

func BenchmarkUTF8(b *testing.B) {
	for name, s := range map[string]string{"ascii": strings.Repeat("hello wor", 114), "greek": strings.Repeat("κόσμε", 100)} {
		b.Run(name, func(b *testing.B) {
			p := []byte(s)
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				var u UTF8
				if !u.Feed(p) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

func BenchmarkParseRequest(b *testing.B) {
	raw := []byte(browserRequest)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, n, err := ParseRequest(raw, 0); n != len(raw) || err != nil {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkAppendAccept(b *testing.B) {
	req, _, _ := ParseRequest([]byte(browserRequest), 0)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendAccept(buf[:0], req, "", true, nil)
	}
}

func BenchmarkNewPrepared(b *testing.B) {
	payload := bytes.Repeat([]byte(`{"event":"message","channel":"lobby","data":"hello"}`), 4)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		NewPrepared(OpText, payload)
	}
}

func BenchmarkCompress(b *testing.B) {
	for _, size := range []int{128, 4096} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			msg := []byte(strings.Repeat(`{"event":"message","channel":"lobby","data":"hello"}`, size/50+1)[:size])
			dst := make([]byte, 0, 2*size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				dst = Compress(dst[:0], msg)
			}
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	msg := []byte(strings.Repeat(`{"event":"message","channel":"lobby","data":"hello"}`, 80))
	c := Compress(nil, msg)
	dst := make([]byte, 0, 2*len(msg))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = Decompress(dst[:0], c, 0)
	}
}
