package compare

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/loadtest/internal/report"
)

func TestReplaceBetweenMarkers(t *testing.T) {
	doc := "# Benchmarks\n\nintro\n\n" + BeginMarker + "\nold table\n" + EndMarker + "\n\nafter\n"
	out, err := Replace([]byte(doc), "new table\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\nintro\n\n" + BeginMarker + "\nnew table\n" + EndMarker + "\n\nafter\n"
	if string(out) != want {
		t.Fatalf("got %q", out)
	}
	out, err = Replace([]byte("# B\n"), "t")
	if err != nil || string(out) != "# B\n\n"+BeginMarker+"\nt\n"+EndMarker+"\n" {
		t.Fatalf("append: %q %v", out, err)
	}
	if _, err := Replace([]byte(EndMarker+BeginMarker), "t"); err == nil {
		t.Fatal("accepted markers out of order")
	}
}

func TestUpdateFileCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	if err := UpdateFile(path, "one"); err != nil {
		t.Fatal(err)
	}
	if err := UpdateFile(path, "two"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if strings.Count(string(b), BeginMarker) != 1 || !strings.Contains(string(b), "two") || strings.Contains(string(b), "one\n") {
		t.Fatalf("file:\n%s", b)
	}
}

func TestSection(t *testing.T) {
	res := func(sc string) *report.Result {
		r := &report.Result{Scenario: sc, P50Ms: report.F(1), P99Ms: report.F(2)}
		switch sc {
		case "idle":
			r.ServerRSSPerConn = report.F(3 * 1024)
		case "fanout":
			r.ServerCPUPerDeliveryUs, r.ServerUserCPUPerDeliveryUs = report.F(8), report.F(1.5)
			r.Deliveries, r.DeliveriesExpected = 100, 100
		case "echo":
			r.ServerCPUPerRoundTripUs, r.ServerUserCPUPerRoundTripUs = report.F(12), report.F(4)
			r.Deliveries, r.DeliveriesExpected = 50, 60
		}
		return r
	}
	outs := []Outcome{
		{Peer: KnownPeers["surge"], Err: errors.New("surge: ./examples/chat package does not exist")},
		{Peer: KnownPeers["gorilla"], Results: map[string]*report.Result{"idle": res("idle"), "fanout": res("fanout"), "echo": res("echo")}},
	}
	s := Section(outs, Options{Command: "loadtest compare -n 100"}, "test machine", time.Unix(0, 0))
	for _, want := range []string{
		"| surge | not run: surge: ./examples/chat package does not exist",
		"| gorilla | 3.00 KiB | 8.00 µs (1.50) | 1.00 / 2.00 ms | 12.00 µs (4.00) | 1.00 / 2.00 ms | 150 of 160 |",
		"loadtest compare -n 100", "test machine", "1970-01-01",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("section lacks %q:\n%s", want, s)
		}
	}
}

func TestRepoRoot(t *testing.T) {
	wd, _ := os.Getwd()
	root, err := RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "conn")); err != nil {
		t.Fatalf("root %s has no conn/", root)
	}
}
