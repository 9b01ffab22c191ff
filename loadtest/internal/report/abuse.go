package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Abuse is the abuse scenario's outcome: one row per hostile case.
type Abuse struct {
	ProbeEveryMs float64     `json:"probe_every_ms"`
	LivenessMs   float64     `json:"liveness_ms"` // the longest wait for an answer a case may cause
	Cases        []AbuseCase `json:"cases"`
	Failed       int         `json:"failed"` // cases whose verdict is not ok
}

// AbuseCase is one hostile case: what the offenders did and got, what the
// probe beside them saw, and the server before and after.
type AbuseCase struct {
	Name   string `json:"name"`
	What   string `json:"what"`
	Expect string `json:"expect"`
	Server string `json:"server"` // the server it ran on (chat, hostile, or the -url)

	Offenders int64   `json:"offenders"` // connections the offenders opened or tried
	Sent      int64   `json:"sent"`      // messages, frames or bytes they sent (see what)
	ElapsedS  float64 `json:"elapsed_s"` // the hostile phase
	// Got counts what the offenders got, by kind ("close 1008 send buffer
	// full", "reply error 429 ...", "http 503", "reset by the server", ...).
	Got map[string]int64 `json:"got"`

	ProbeSent       int64    `json:"probe_sent"`
	ProbeAnswered   int64    `json:"probe_answered"`
	ProbeUnanswered int64    `json:"probe_unanswered"`
	ProbeP50Ms      *float64 `json:"probe_p50_ms"`
	ProbeP99Ms      *float64 `json:"probe_p99_ms"`
	ProbeMaxMs      *float64 `json:"probe_max_ms"`
	// ProbeStallMs is the longest the probe waited for an answer, counting
	// questions never answered.
	ProbeStallMs *float64 `json:"probe_stall_ms"`
	ProbeEnded   string   `json:"probe_ended,omitempty"` // the server ended the probe's connection: how

	FDsBefore        *int     `json:"fds_before"`
	FDsAfter         *int     `json:"fds_after"`
	GoroutinesBefore *float64 `json:"goroutines_before"`
	GoroutinesAfter  *float64 `json:"goroutines_after"`
	RSSBefore        *int64   `json:"rss_before"`
	RSSPeak          *int64   `json:"rss_peak"`
	RSSAfter         *int64   `json:"rss_after"`
	// ReturnedS is how long after the hostile phase descriptors and
	// goroutines were back at their baseline (null: not within the bound).
	ReturnedS *float64 `json:"returned_s"`

	// Failures say why the verdict is not ok; Notes are what else was seen.
	Failures []string `json:"failures,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	Verdict  string   `json:"verdict"` // "ok", "FAIL", "skipped" (the -url server lacks a handler) or "not run" (no server)
}

// GotSummary is what the offenders got, most frequent first.
func (c *AbuseCase) GotSummary(limit int) string {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range c.Got {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].v != all[j].v {
			return all[i].v > all[j].v
		}
		return all[i].k < all[j].k
	})
	var parts []string
	for i, x := range all {
		if i == limit {
			parts = append(parts, fmt.Sprintf("(+%d more)", len(all)-limit))
			break
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", x.k, x.v))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

// abuseColumns are the table's columns.
var abuseColumns = []string{"case", "probe p50 / p99 / max", "offender got", "fds", "goroutines", "RSS before / peak / after", "verdict"}

func (c *AbuseCase) cells(gotLimit int) []string {
	probe := fmt.Sprintf("%s / %s / %s", msStr(c.ProbeP50Ms), msStr(c.ProbeP99Ms), msStr(c.ProbeMaxMs))
	if c.ProbeUnanswered > 0 && c.ProbeStallMs != nil {
		probe += fmt.Sprintf(" (%d unanswered, %s)", c.ProbeUnanswered, msStr(c.ProbeStallMs))
	}
	fds, gor, rss := "n/a", "n/a", "n/a"
	if c.FDsBefore != nil && c.FDsAfter != nil {
		fds = fmt.Sprintf("%d → %d", *c.FDsBefore, *c.FDsAfter)
	}
	if c.GoroutinesBefore != nil && c.GoroutinesAfter != nil {
		gor = fmt.Sprintf("%.0f → %.0f", *c.GoroutinesBefore, *c.GoroutinesAfter)
	}
	if c.RSSBefore != nil && c.RSSAfter != nil {
		peak := "n/a"
		if c.RSSPeak != nil {
			peak = bytesStr(float64(*c.RSSPeak))
		}
		rss = fmt.Sprintf("%s / %s / %s", bytesStr(float64(*c.RSSBefore)), peak, bytesStr(float64(*c.RSSAfter)))
	}
	return []string{c.Name, probe, c.GotSummary(gotLimit), fds, gor, rss, c.Verdict}
}

// WriteAbuseTable writes the cases as an aligned text table, then each
// case's failures and notes.
func WriteAbuseTable(w io.Writer, a *Abuse) error {
	rows := [][]string{abuseColumns}
	for i := range a.Cases {
		rows = append(rows, a.Cases[i].cells(3))
	}
	width := make([]int, len(abuseColumns))
	for _, r := range rows {
		for i, s := range r {
			width[i] = max(width[i], len([]rune(s)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(" ")
		for i, s := range r {
			fmt.Fprintf(&b, " %s%s", s, strings.Repeat(" ", width[i]-len([]rune(s))))
			if i < len(r)-1 {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	for _, c := range a.Cases {
		for _, f := range c.Failures {
			fmt.Fprintf(&b, "  %s: FAILED: %s\n", c.Name, f)
		}
		for _, n := range c.Notes {
			fmt.Fprintf(&b, "  %s: %s\n", c.Name, n)
		}
	}
	fmt.Fprintf(&b, "  probe: a ping frame or an echo request every %.0f ms; a case fails if it waits over %.0f ms for an answer\n", a.ProbeEveryMs, a.LivenessMs)
	fmt.Fprintf(&b, "  %d of %d cases failed\n", a.Failed, len(a.Cases))
	_, err := io.WriteString(w, b.String())
	return err
}

// AbuseMarkdown is the cases as a Markdown table (every kind the offenders
// got), with the failures below.
func AbuseMarkdown(a *Abuse) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(abuseColumns, " | ") + " |\n|")
	b.WriteString(strings.Repeat("---|", len(abuseColumns)) + "\n")
	for i := range a.Cases {
		cells := a.Cases[i].cells(-1)
		for j := range cells {
			cells[j] = mdEscape(cells[j])
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	var extra []string
	for _, c := range a.Cases {
		for _, f := range c.Failures {
			extra = append(extra, fmt.Sprintf("- %s: **failed**: %s", c.Name, mdEscape(f)))
		}
		for _, n := range c.Notes {
			extra = append(extra, fmt.Sprintf("- %s: %s", c.Name, mdEscape(n)))
		}
	}
	if len(extra) > 0 {
		b.WriteString("\n" + strings.Join(extra, "\n") + "\n")
	}
	return b.String()
}
