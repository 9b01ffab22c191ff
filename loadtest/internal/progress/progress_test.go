package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSilentWhenNotATerminal(t *testing.T) {
	var b bytes.Buffer
	if l := New(&b, time.Millisecond); l != nil {
		t.Fatal("a buffer is not a terminal")
	}
	var l *Line
	l.Set(func() string { return "x" }) // nil Line: no-op
	l.Stop()
}

func TestDrawsAndErases(t *testing.T) {
	var b syncBuf
	l := NewForced(&b, 5*time.Millisecond)
	l.Set(func() string { return "conns 10/20" })
	time.Sleep(30 * time.Millisecond)
	l.Stop()
	out := b.String()
	if !strings.Contains(out, "\r\x1b[2Kconns 10/20") || !strings.HasSuffix(out, "\r\x1b[2K") {
		t.Fatalf("output %q", out)
	}
}
