package procstat

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields.
	line := []byte("1234 (my) (srv x) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 4 0 100 200 300")
	u, s, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if u != 2500*time.Millisecond || s != 750*time.Millisecond {
		t.Fatalf("user %v sys %v", u, s)
	}
	if _, _, err := parseStat([]byte("1234 (x) S 1")); err == nil {
		t.Fatal("short stat accepted")
	}
}

func TestReadSelf(t *testing.T) {
	a, err := Read(0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if a.RSS <= 0 || b.RSS <= 0 || a.FDs < 3 {
		t.Fatalf("self: %+v", a)
	}
	if m, err := MemAvailable(); err != nil || m <= 0 {
		t.Fatalf("MemAvailable %d %v", m, err)
	}
	if !Alive(os.Getpid()) || Alive(1<<30) {
		t.Fatal("Alive")
	}
}

func TestReadKernel(t *testing.T) {
	k, err := ReadKernel()
	if err != nil {
		t.Fatal(err)
	}
	if k.MemAvailable <= 0 || k.Slab <= 0 || k.Sockets <= 0 || k.InSegs <= 0 {
		t.Fatalf("kernel: %+v", k)
	}
	if v, err := Sysctl("net.core.somaxconn"); err != nil || v == "" {
		t.Fatalf("somaxconn %q %v", v, err)
	}
}
