package frame

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// prefixes returns the prefix lengths a fuzz target checks: all of them for
// short inputs, a sample for long ones, so each run stays fast.
func prefixes(n int) []int {
	step := max(1, n/256)
	var out []int
	for i := 0; i < n; i += step {
		out = append(out, i)
	}
	return append(out, n)
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(browserRequest), 0)
	f.Add([]byte(upgrade()), 64)
	f.Add([]byte(strings.ReplaceAll(upgrade("Sec-WebSocket-Protocol: a, b"), "\r\n", "\n")), 0)
	f.Add([]byte(upgrade("!POST /x HTTP/1.0", "-Host")), 0)
	f.Add([]byte(upgrade("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate")), 0)
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n X: folded\r\n\r\n"), 0)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		max %= 1 << 16
		want, wantN, wantErr := ParseRequest(b, max)
		limit := max
		if limit <= 0 {
			limit = DefaultMaxHeadSize
		}
		switch {
		case wantErr != nil:
			var he *HandshakeError
			// A well-formed head that is not a valid upgrade comes back parsed.
			if !errors.As(wantErr, &he) || (want == nil) != (wantN == 0) || wantN > len(b) || (want != nil && want.Method != "GET") {
				t.Fatalf("bad error result: %v %v %d", wantErr, want, wantN)
			}
			switch he.Status {
			case 400, 405, 426, 431, 505:
			default:
				t.Fatalf("status %d", he.Status)
			}
		case wantN > 0:
			if want == nil || wantN > len(b) || wantN > limit || want.Method != "GET" || len(want.Key) != 24 {
				t.Fatalf("bad result: %+v %d", want, wantN)
			}
			resp, n, err := ParseResponse(AppendAccept(nil, want, "", true, nil), want.Key, 0)
			if err != nil || n == 0 || resp.Deflate != want.Deflate {
				t.Fatalf("our 101 does not parse: %v", err)
			}
		default:
			if want != nil || len(b) >= limit {
				t.Fatalf("need more with %d bytes (max %d)", len(b), limit)
			}
		}
		// The result must not depend on how the bytes arrived.
		decided := false
		for _, i := range prefixes(len(b)) {
			req, n, err := ParseRequest(b[:i:i], max)
			if req == nil && n == 0 && err == nil {
				if decided {
					t.Fatalf("prefix %d: need more after a decision", i)
				}
				continue
			}
			decided = true
			if n != wantN || !reflect.DeepEqual(req, want) || !reflect.DeepEqual(err, wantErr) {
				t.Fatalf("prefix %d: (%v, %d, %v), want (%v, %d, %v)", i, req, n, err, want, wantN, wantErr)
			}
		}
		// Nothing in the result aliases b.
		if want != nil {
			c := bytes.Clone(b)
			req, _, _ := ParseRequest(c, max)
			clear(c)
			if !reflect.DeepEqual(req, want) {
				t.Fatal("request aliases its input")
			}
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(switching()), true, 0)
	f.Add([]byte(switching("Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover")), false, 0)
	f.Add([]byte(head("HTTP/1.1 403 Forbidden", "Content-Length: 3")+"abc"), true, 0)
	f.Add([]byte("HTTP/1.0 101\n\n"), true, 16)
	f.Fuzz(func(t *testing.T, b []byte, offered bool, max int) {
		max %= 1 << 16
		want, wantN, wantErr := ParseResponseOffer(b, rfcKey, offered, max)
		var he *HandshakeError
		switch {
		case wantErr != nil:
			if !errors.As(wantErr, &he) {
				t.Fatalf("error type %T", wantErr)
			}
			if want != nil && (want.Status != he.Status || wantN == 0) {
				t.Fatalf("status %d vs %d, n %d", want.Status, he.Status, wantN)
			}
			if want == nil && (he.Status != 0 || wantN != 0) {
				t.Fatalf("status %d n %d without a response", he.Status, wantN)
			}
		case wantN > 0:
			if want == nil || want.Status != 101 || wantN > len(b) || (want.Deflate && !offered) {
				t.Fatalf("bad result %+v", want)
			}
		default:
			if want != nil {
				t.Fatal("response with need more")
			}
		}
		decided := false
		for _, i := range prefixes(len(b)) {
			resp, n, err := ParseResponseOffer(b[:i:i], rfcKey, offered, max)
			if resp == nil && n == 0 && err == nil {
				if decided {
					t.Fatalf("prefix %d: need more after a decision", i)
				}
				continue
			}
			decided = true
			if n != wantN || !reflect.DeepEqual(resp, want) || !reflect.DeepEqual(err, wantErr) {
				t.Fatalf("prefix %d: (%v, %d, %v), want (%v, %d, %v)", i, resp, n, err, want, wantN, wantErr)
			}
		}
	})
}

func FuzzDecoder(f *testing.F) {
	f.Add(mixedStream()[:300], uint16(1), false, false, int64(0))
	f.Add(stream(fr{op: OpText, payload: "κ\xcf"}, fr{fin: true, op: OpPing}, fr{fin: true, op: OpContinuation, payload: "\x8c"}), uint16(3), false, false, int64(4))
	f.Add(stream(fr{fin: true, rsv: 4, op: OpBinary, payload: "x"}, fr{fin: true, op: OpClose, payload: "\x03\xe8ok"}), uint16(2), false, true, int64(0))
	f.Add([]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x88, 0x00}, uint16(5), true, false, int64(10))
	f.Add([]byte{0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, uint16(4), true, false, int64(0))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint16, client, deflate bool, maxSize int64) {
		cfg := Decoder{Client: client, Deflate: deflate, MaxMessageSize: max(maxSize, 0)}
		d1 := cfg
		want, wantErr, wantLeft := decodeChunks(&d1, bytes.Clone(b), len(b))
		d2 := cfg
		got, err, left := decodeChunks(&d2, bytes.Clone(b), int(chunk%64)+1, int(chunk>>6)+1)
		// After an error the bytes left depend on where the chunk ended.
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(err, wantErr) || (err == nil && left != wantLeft) {
			t.Fatalf("chunked (%d frames, %v, %d) != one-shot (%d frames, %v, %d)", len(got), err, left, len(want), wantErr, wantLeft)
		}
		if wantErr != nil {
			var pe *ProtocolError
			if !errors.As(wantErr, &pe) || len(pe.Reason) > MaxCloseReason {
				t.Fatalf("error %v", wantErr)
			}
		}
		// What the decoder let through keeps the rules: reassemble and check.
		var msg []byte
		var op OpCode
		for _, f := range want {
			if IsControl(f.Op) {
				if _, _, err := ParseClose([]byte(f.Payload)); f.Op == OpClose && err != nil {
					t.Fatalf("decoder passed a bad close payload: %v", err)
				}
				continue
			}
			if f.Op != OpContinuation {
				msg, op = msg[:0], f.Op
			}
			msg = append(msg, f.Payload...)
			if cfg.MaxMessageSize > 0 && int64(len(msg)) > cfg.MaxMessageSize {
				t.Fatalf("message of %d bytes passed limit %d", len(msg), cfg.MaxMessageSize)
			}
			if f.Fin && op == OpText && !f.Compressed && !utf8.Valid(msg) {
				t.Fatalf("decoder passed invalid text %q", msg)
			}
		}
	})
}

func FuzzUTF8(f *testing.F) {
	for _, tc := range utf8Cases {
		f.Add([]byte(tc.s), uint8(1), uint8(3))
	}
	f.Fuzz(func(t *testing.T, b []byte, s1, s2 uint8) {
		want := utf8.Valid(b)
		var u UTF8
		if got := u.Feed(b) && u.Complete(); got != want {
			t.Fatalf("whole %q: %v, want %v", b, got, want)
		}
		// In three pieces: Feed must fail exactly when the text so far can
		// no longer be completed into valid UTF-8.
		i := min(int(s1), len(b))
		j := min(i+int(s2), len(b))
		u.Reset()
		start := 0
		for _, end := range []int{i, j, len(b)} {
			if ok := u.Feed(b[start:end]); ok != isValidPrefix(b[:end]) {
				t.Fatalf("after %q: Feed = %v", b[:end], ok)
			}
			start = end
		}
		if got := u.Complete(); got != want {
			t.Fatalf("pieces: Complete = %v, want %v", got, want)
		}
	})
}

func FuzzDecompress(f *testing.F) {
	f.Add(Compress(nil, []byte("hello hello hello")), int64(0))
	f.Add([]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, int64(5))
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, int64(4))
	f.Add([]byte("garbage"), int64(100))
	f.Fuzz(func(t *testing.T, p []byte, limit int64) {
		limit %= 1 << 20
		out, err := Decompress([]byte("x"), p, limit)
		if err != nil {
			if string(out) != "x" || !(errors.Is(err, ErrInvalidPayload) || errors.Is(err, ErrMessageTooBig)) {
				t.Fatalf("error result %q %v", out, err)
			}
			if errors.Is(err, ErrMessageTooBig) && limit <= 0 {
				t.Fatal("too big without a limit")
			}
			return
		}
		msg := out[1:]
		if limit > 0 && int64(len(msg)) > limit {
			t.Fatalf("%d bytes over limit %d", len(msg), limit)
		}
		if len(msg) > 1<<16 {
			return // bombs are for the limit tests; keep the fuzzer fast
		}
		// The limit is exact: the same output at len(msg), too big below.
		if again, err := Decompress(nil, p, int64(len(msg))); len(msg) > 0 && (err != nil || !bytes.Equal(again, msg)) {
			t.Fatalf("at its own size: %v", err)
		}
		if len(msg) > 1 {
			if _, err := Decompress(nil, p, int64(len(msg)-1)); !errors.Is(err, ErrMessageTooBig) {
				t.Fatalf("one under its size: %v", err)
			}
		}
		if back, err := Decompress(nil, Compress(nil, msg), 0); err != nil || !bytes.Equal(back, msg) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
