package abuse

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/surge-ws/ws/frame"
	"github.com/surge-ws/ws/internal/leakcheck"
	"github.com/surge-ws/ws/loadtest/internal/report"
	"github.com/surge-ws/ws/loadtest/internal/serverproc"
)

// TestMain fails the package when goroutines outlive its tests.
func TestMain(m *testing.M) {
	leakcheck.Main(m, 5*time.Second, leakcheck.Library...)
}

// testSizes run every case in about a minute (the two handshake-timeout
// cases take 10 s each: the server's HandshakeTimeout), whatever -short
// says: this suite is the issue "No client can stall the server".
var testSizes = Sizes{
	Flood: 2000, Repeat: 10, Channels: 1000, StormClients: 10, StormPerClient: 100,
	Names: 20, Protocol: len(violations), Slowloris: 300, HalfOpen: 200,
	NoRead: 3, Readers: 2, Publish: 400, PublishSize: 16 << 10,
	Churn: 200, ChurnConc: 8, Panics: 100, Blockers: 2, BlockMsgs: 300,
	Trickle: 500 * time.Millisecond, Hold: 15 * time.Second,
}

// TestEveryCase runs every hostile case against freshly built servers
// (examples/chat, and loadtest/peers/hostile for the handler cases) and
// checks, per case, that the probe beside the offenders never waited more
// than 2 s for an answer, that the offenders got the expected answer, and
// that the server's descriptors and goroutines came back to their baseline.
func TestEveryCase(t *testing.T) {
	wd, _ := os.Getwd()
	root, err := serverproc.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var log strings.Builder
	res, err := Run(ctx, Options{
		Root: root, Sizes: testSizes, Liveness: 2 * time.Second, Timeout: 5 * time.Second,
		ReturnWithin: 10 * time.Second, CaseTime: 30 * time.Second, MaxTime: 4 * time.Minute, Log: &log,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	if len(res.Abuse.Cases) != len(Cases) {
		t.Fatalf("%d of %d cases ran:\n%s", len(res.Abuse.Cases), len(Cases), log.String())
	}
	var table strings.Builder
	_ = report.WriteAbuseTable(&table, res.Abuse)
	t.Logf("\n%s", table.String())
	for _, c := range res.Abuse.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.ProbeStallMs == nil || *c.ProbeStallMs > 2000 {
				t.Errorf("the probe went %v ms without an answer (bound 2000 ms)", deref(c.ProbeStallMs))
			}
			if c.ProbeAnswered == 0 {
				t.Errorf("the probe got no answer at all (%d asked)", c.ProbeSent)
			}
			if c.ReturnedS == nil {
				t.Errorf("descriptors %v → %v, goroutines %v → %v: not back to baseline within 10 s",
					derefInt(c.FDsBefore), derefInt(c.FDsAfter), deref(c.GoroutinesBefore), deref(c.GoroutinesAfter))
			}
			// Every failure of the case fails the test: liveness, the
			// offender's answer, the return to baseline and the memory bound.
			if len(c.Failures) > 0 || c.Verdict != "ok" {
				t.Errorf("verdict %s: %s; the offenders got: %s", c.Verdict, strings.Join(c.Failures, "; "), c.GotSummary(-1))
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return "n/a"
	}
	return *p
}

func derefInt(p *int) any {
	if p == nil {
		return "n/a"
	}
	return *p
}

func TestSelectCases(t *testing.T) {
	cs, err := selectCases([]string{"flood-*", "churn"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != len(floodEvents)+1 || cs[0].Name != "flood-subscribe" || cs[len(cs)-1].Name != "churn" {
		t.Fatalf("got %d cases: %v", len(cs), cs)
	}
	if _, err := selectCases([]string{"nosuch"}); err == nil {
		t.Fatal("an unknown case was accepted")
	}
	seen := map[string]bool{}
	for _, c := range Cases {
		if seen[c.Name] || c.run == nil || c.What == "" || c.Expect == "" || servers[c.Server] == "" {
			t.Errorf("case %q: duplicate, or without run, what, expect or a known server", c.Name)
		}
		seen[c.Name] = true
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct{ payload, want string }{
		{`{"id":"1","event":"subscribe","ok":true}`, "reply ok"},
		{`{"id":"1","event":"subscribe","ok":false,"code":403,"message":"too many channels (limit 128)"}`, "reply error 403 too many channels (limit 128)"},
		{`{"event":"error","data":{"code":400,"message":"malformed message: expected a key at offset 1"}}`, "error push 400 malformed message: expected a key"},
		{`{"channel":"room","event":"chat.message","data":1}`, "push chat.message"},
		{`not json`, "message that is not a JSON object"},
	} {
		f := textFrame(tc.payload)
		if got := classify(f); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.payload, got, tc.want)
		}
	}
}

func textFrame(p string) frame.Frame {
	return frame.Frame{Header: frame.Header{Fin: true, Op: frame.OpText}, Payload: []byte(p)}
}
