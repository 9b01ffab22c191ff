package frame

import (
	"bytes"
	"testing"
)

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		name    string
		fin     bool
		op      OpCode
		rsv     byte
		payload []byte
		mask    *[4]byte
		want    []byte
	}{
		// RFC 6455 section 5.7.
		{name: "unmasked text", fin: true, op: OpText, payload: []byte("Hello"), want: []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{name: "masked text", fin: true, op: OpText, payload: []byte("Hello"), mask: &[4]byte{0x37, 0xfa, 0x21, 0x3d}, want: []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{name: "first fragment", op: OpText, payload: []byte("Hel"), want: []byte{0x01, 0x03, 0x48, 0x65, 0x6c}},
		{name: "last fragment", fin: true, op: OpContinuation, payload: []byte("lo"), want: []byte{0x80, 0x02, 0x6c, 0x6f}},
		{name: "compressed", fin: true, op: OpBinary, rsv: RSV1, want: []byte{0xc2, 0x00}},
		{name: "256 bytes", fin: true, op: OpBinary, payload: make([]byte, 256), want: append([]byte{0x82, 0x7e, 0x01, 0x00}, make([]byte, 256)...)},
		{name: "64 KiB", fin: true, op: OpBinary, payload: make([]byte, 65536), want: append([]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}, make([]byte, 65536)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := bytes.Clone(tc.payload)
			got := AppendFrame(nil, tc.fin, tc.op, tc.rsv, tc.payload, tc.mask)
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("got % x, want % x", got[:min(len(got), 16)], tc.want[:min(len(tc.want), 16)])
			}
			if !bytes.Equal(tc.payload, orig) {
				t.Fatal("payload modified")
			}
		})
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, length := range []int64{0, 1, 125, 126, 65535, 65536, 1 << 40} {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, Rsv: RSV1, Op: OpBinary, Masked: masked, Mask: [4]byte{1, 2, 3, 4}, Length: length}
			if !masked {
				h.Mask = [4]byte{}
			}
			b := AppendHeader(nil, h)
			if len(b) != HeaderLen(length, masked) {
				t.Fatalf("len %d, HeaderLen %d", len(b), HeaderLen(length, masked))
			}
			for i := range len(b) {
				if _, n, err := ParseHeader(b[:i]); n != 0 || err != nil {
					t.Fatalf("prefix %d: n %d err %v", i, n, err)
				}
			}
			got, n, err := ParseHeader(b)
			if err != nil || n != len(b) || got != h {
				t.Fatalf("got %+v n %d err %v, want %+v", got, n, err, h)
			}
		}
	}
}

func TestMaskChunked(t *testing.T) {
	key := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	plain := make([]byte, 1000)
	for i := range plain {
		plain[i] = byte(i * 7)
	}
	want := bytes.Clone(plain)
	for i := range want {
		want[i] ^= key[i%4]
	}
	for _, chunk := range []int{1, 3, 5, 16, 17, 64, 333} {
		got := bytes.Clone(plain)
		pos := 0
		for i := 0; i < len(got); i += chunk {
			pos = Mask(got[i:min(i+chunk, len(got))], key, pos)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("chunk %d: wrong", chunk)
		}
	}
}

func TestNewMask(t *testing.T) {
	seen := map[[4]byte]bool{}
	for range 100 {
		seen[NewMask()] = true
	}
	if len(seen) < 95 {
		t.Fatalf("only %d distinct masks in 100", len(seen))
	}
}

func TestAppendFrameAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	payload := make([]byte, 128)
	mask := NewMask()
	if n := testing.AllocsPerRun(100, func() { AppendFrame(buf[:0], true, OpText, 0, payload, &mask) }); n != 0 {
		t.Fatalf("AppendFrame allocates %v times", n)
	}
}

// TestMaskAgainstNaive covers every length around the word and vector
// thresholds at every key offset.
func TestMaskAgainstNaive(t *testing.T) {
	key := [4]byte{0x01, 0x20, 0x03, 0x40}
	for n := range 300 {
		for pos := range 8 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(i)
			}
			want := bytes.Clone(b)
			for i := range want {
				want[i] ^= key[(pos+i)%4]
			}
			if end := Mask(b, key, pos); end != (pos+n)%4 || !bytes.Equal(b, want) {
				t.Fatalf("n %d pos %d: end %d, bytes equal %v", n, pos, end, bytes.Equal(b, want))
			}
		}
	}
}
