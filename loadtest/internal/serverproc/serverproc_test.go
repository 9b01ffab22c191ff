package serverproc

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestRepoRootAndFreeAddr(t *testing.T) {
	wd, _ := os.Getwd()
	root, err := RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "conn")); err != nil {
		t.Fatalf("root %s has no conn/", root)
	}
	a, err := FreeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	if ap, err := netip.ParseAddrPort(a); err != nil || !ap.Addr().IsLoopback() || ap.Port() == 0 {
		t.Fatalf("%q is not a loopback address with a port", a)
	}
}

func TestBuildMissingPackage(t *testing.T) {
	_, err := Build(context.Background(), t.TempDir(), t.TempDir(), "x", "./nosuch")
	if !errors.Is(err, ErrNoPackage) {
		t.Fatalf("err = %v", err)
	}
}
