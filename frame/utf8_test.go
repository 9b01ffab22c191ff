package frame

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var utf8Cases = []struct {
	name string
	s    string
}{
	{"empty", ""},
	{"ASCII", "hello, world"},
	{"long ASCII", strings.Repeat("0123456789abcdef", 10) + "x"},
	{"two-byte", "κόσμε"},
	{"three-byte", "€✓語"},
	{"four-byte", "𝄞😀"},
	{"max code point", "\U0010ffff"},
	{"ASCII then multi-byte after a word", "abcdefghijκ"},
	{"above max", "\xf4\x90\x80\x80"},
	{"F5 lead", "\xf5\x80\x80\x80"},
	{"surrogate low", "\xed\xa0\x80"},
	{"surrogate high", "\xed\xbf\xbf"},
	{"last before surrogates", "\xed\x9f\xbf"},
	{"overlong 2-byte", "\xc0\xaf"},
	{"overlong C1", "\xc1\xbf"},
	{"overlong 3-byte", "\xe0\x80\xaf"},
	{"overlong 4-byte", "\xf0\x80\x80\xaf"},
	{"lone continuation", "a\x80b"},
	{"truncated 2-byte", "a\xce"},
	{"truncated 3-byte", "\xe2\x82"},
	{"truncated 4-byte", "\xf0\x9f\x98"},
	{"lead after lead", "\xe2\xe2\x82\xac"},
	{"FF", "\xff"},
	{"invalid after long ASCII", strings.Repeat("a", 17) + "\xff"},
}

func TestUTF8AgreesWithStdlib(t *testing.T) {
	for _, tc := range utf8Cases {
		t.Run(tc.name, func(t *testing.T) {
			want := utf8.ValidString(tc.s)
			var u UTF8
			if got := u.Feed([]byte(tc.s)) && u.Complete(); got != want {
				t.Fatalf("whole: %v, want %v", got, want)
			}
			// Byte by byte, and split at every point.
			u.Reset()
			ok := true
			for i := range len(tc.s) {
				ok = u.Feed([]byte{tc.s[i]}) && ok
			}
			if got := ok && u.Complete(); got != want {
				t.Fatalf("byte by byte: %v, want %v", got, want)
			}
			for i := range len(tc.s) + 1 {
				u.Reset()
				got := u.Feed([]byte(tc.s[:i])) && u.Feed([]byte(tc.s[i:])) && u.Complete()
				if got != want {
					t.Fatalf("split at %d: %v, want %v", i, got, want)
				}
			}
		})
	}
}

// TestUTF8FailsEarly checks that Feed fails on the piece that makes the text
// impossible, not later, and not before.
func TestUTF8FailsEarly(t *testing.T) {
	tests := []struct {
		name   string
		pieces []string
		failAt int // index of the piece Feed must fail on; -1: none
	}{
		{"surrogate prefix", []string{"ok", "\xed\xa0", "\x80"}, 1},
		{"above max prefix", []string{"\xf4", "\x90"}, 1},
		{"overlong prefix", []string{"\xe0", "\x9f"}, 1},
		{"bad lead", []string{"abc", "\xc0"}, 1},
		{"incomplete is fine until the end", []string{"\xf0\x9f", "\x98", "\x80"}, -1},
		{"stays failed", []string{"\xff", "a"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var u UTF8
			for i, p := range tc.pieces {
				ok := u.Feed([]byte(p))
				if wantOK := tc.failAt < 0 || i < tc.failAt; ok != wantOK {
					t.Fatalf("piece %d: Feed = %v, want %v", i, ok, wantOK)
				}
			}
		})
	}
}

func TestUTF8Complete(t *testing.T) {
	var u UTF8
	if !u.Complete() {
		t.Fatal("zero value not complete")
	}
	u.Feed([]byte("\xe2\x82"))
	if u.Complete() {
		t.Fatal("complete mid-rune")
	}
	u.Feed([]byte("\xac"))
	if !u.Complete() {
		t.Fatal("not complete after the rune")
	}
}

// isValidPrefix reports whether some completion of at most 3 bytes makes p
// valid. Continuation bytes only need trying at the edges of the ranges the
// lead bytes allow.
func isValidPrefix(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	edges := []byte{0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf}
	var try func(s []byte, left int) bool
	try = func(s []byte, left int) bool {
		if utf8.Valid(s) {
			return true
		}
		if left == 0 {
			return false
		}
		for _, c := range edges {
			if try(append(s[:len(s):len(s)], c), left-1) {
				return true
			}
		}
		return false
	}
	return try(p, 3)
}
