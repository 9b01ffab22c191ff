package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestAbuseTables(t *testing.T) {
	fds0, fds1 := 15, 16
	a := &Abuse{ProbeEveryMs: 15, LivenessMs: 2000, Failed: 1, Cases: []AbuseCase{
		{Name: "flood-echo", Got: map[string]int64{"reply ok": 24, "close 1008 receive buffer full": 1},
			ProbeP50Ms: F(0.4), ProbeP99Ms: F(0.66), ProbeMaxMs: F(3.4), ProbeStallMs: F(3.4),
			FDsBefore: &fds0, FDsAfter: &fds1, GoroutinesBefore: F(13), GoroutinesAfter: F(13),
			RSSBefore: I(9 << 20), RSSPeak: I(13 << 20), RSSAfter: I(12 << 20), Verdict: "ok"},
		{Name: "close-then-hangup", Got: map[string]int64{"reply ok": 1, "handshake: still open at the deadline": 1},
			ProbeUnanswered: 686, ProbeStallMs: F(11289), Verdict: "FAIL",
			Failures: []string{"the probe waited 11.29 s for an answer (bound 2.0 s)"}},
	}}
	var b bytes.Buffer
	if err := WriteAbuseTable(&b, a); err != nil {
		t.Fatal(err)
	}
	md := AbuseMarkdown(a)
	for _, want := range []string{
		"flood-echo", "0.400 ms / 0.660 ms / 3.40 ms", "reply ok ×24; close 1008 receive buffer full ×1", "15 → 16", "9.0 MiB / 13.0 MiB / 12.0 MiB",
		"(686 unanswered, 11289 ms)", "close-then-hangup: FAILED: the probe waited 11.29 s", "1 of 2 cases failed",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	for _, want := range []string{"| flood-echo | 0.400 ms / 0.660 ms / 3.40 ms |", "- close-then-hangup: **failed**: the probe waited"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
