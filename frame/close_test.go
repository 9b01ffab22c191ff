package frame

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseClose(t *testing.T) {
	tests := []struct {
		name   string
		p      string
		code   CloseCode
		reason string
		err    error
	}{
		{name: "empty", p: "", code: CloseNoStatus},
		{name: "code only", p: "\x03\xe8", code: CloseNormal},
		{name: "code and reason", p: "\x03\xe9bye", code: CloseGoingAway, reason: "bye"},
		{name: "private code", p: "\x0f\x9f", code: 3999},
		{name: "1 byte", p: "\x03", err: ErrProtocol},
		{name: "code 0", p: "\x00\x00", err: ErrProtocol},
		{name: "code 999", p: "\x03\xe7", err: ErrProtocol},
		{name: "code 1004", p: "\x03\xec", err: ErrProtocol},
		{name: "code 1005", p: "\x03\xed", err: ErrProtocol},
		{name: "code 1006", p: "\x03\xee", err: ErrProtocol},
		{name: "code 1015", p: "\x03\xf7", err: ErrProtocol},
		{name: "code 2999", p: "\x0b\xb7", err: ErrProtocol},
		{name: "code 5000", p: "\x13\x88", err: ErrProtocol},
		{name: "reason not UTF-8", p: "\x03\xe8\xce\xba\xe1\xbd", err: ErrInvalidPayload},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := ParseClose([]byte(tc.p))
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if code != tc.code || reason != tc.reason {
				t.Fatalf("(%v, %q), want (%v, %q)", code, reason, tc.code, tc.reason)
			}
		})
	}
}

func TestValidCloseCode(t *testing.T) {
	for c := CloseCode(0); c < 6000; c++ {
		want := (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999)
		if ValidCloseCode(c) != want {
			t.Fatalf("ValidCloseCode(%d) = %v", c, !want)
		}
	}
}

func TestAppendClose(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes: the cut must not split a rune
	tests := []struct {
		name   string
		code   CloseCode
		reason string
		want   string
	}{
		{name: "no status", code: CloseNoStatus, reason: "ignored", want: ""},
		{name: "abnormal never sent", code: CloseAbnormal, want: ""},
		{name: "normal", code: CloseNormal, want: "\x03\xe8"},
		{name: "with reason", code: CloseGoingAway, reason: "restart", want: "\x03\xe9restart"},
		{name: "truncated on a rune boundary", code: 4000, reason: long, want: "\x0f\xa0" + long[:122]},
		{name: "exactly 123", code: 4000, reason: strings.Repeat("a", 123), want: "\x0f\xa0" + strings.Repeat("a", 123)},
		{name: "invalid UTF-8 repaired", code: 4000, reason: "a\xffb", want: "\x0f\xa0a\uFFFDb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendClose([]byte("x"), tc.code, tc.reason)
			if string(got) != "x"+tc.want {
				t.Fatalf("got %q, want %q", got, "x"+tc.want)
			}
			p := got[1:]
			if len(p) > 125 || !utf8.Valid(p[min(2, len(p)):]) {
				t.Fatalf("payload not sendable: %q", p)
			}
			if _, _, err := ParseClose(p); err != nil {
				t.Fatalf("does not parse back: %v", err)
			}
		})
	}
}

func TestProtocolError(t *testing.T) {
	err := error(&ProtocolError{Code: CloseMessageTooBig, Reason: "too big"})
	wrapped := errors.Join(errors.New("read"), err)
	if !errors.Is(wrapped, ErrMessageTooBig) || errors.Is(wrapped, ErrProtocol) {
		t.Fatal("errors.Is through a wrap")
	}
	if CloseCodeOf(wrapped) != CloseMessageTooBig || CloseCodeOf(errors.New("x")) != CloseInternalError {
		t.Fatal("CloseCodeOf")
	}
	if got := err.Error(); got != "frame: too big (close code 1009)" {
		t.Fatalf("Error() = %q", got)
	}
	if got := ErrProtocol.Error(); got != "frame: protocol error (close code 1002)" {
		t.Fatalf("Error() = %q", got)
	}
}
