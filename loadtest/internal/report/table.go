package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteTable writes the final table of a result.
func WriteTable(w io.Writer, r *Result) error {
	if r.Cluster != nil {
		return WriteClusterTable(w, r)
	}
	title := fmt.Sprintf("%s  %s", r.Scenario, r.URL)
	if r.Server != "" {
		title = fmt.Sprintf("%s  [%s]  %s", r.Scenario, r.Server, r.URL)
	}
	what := "connections"
	if r.Churn != nil {
		what = "cycles planned"
	}
	if r.Abuse != nil {
		if _, err := fmt.Fprintf(w, "%s  (%d cases, %.1f s)\n", title, len(r.Abuse.Cases), r.Elapsed); err != nil {
			return err
		}
		if err := WriteAbuseTable(w, r.Abuse); err != nil {
			return err
		}
		for _, n := range r.Notes {
			if _, err := fmt.Fprintf(w, "  note: %s\n", n); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := fmt.Fprintf(w, "%s  (%d %s, %.1f s)\n", title, r.N, what, r.Elapsed); err != nil {
		return err
	}
	rows := Rows(r)
	width := 0
	for _, row := range rows {
		width = max(width, len(row.Label))
	}
	for _, row := range rows {
		if _, err := fmt.Fprintf(w, "  %-*s  %s\n", width, row.Label, row.Value); err != nil {
			return err
		}
	}
	return nil
}

// mdEscape keeps a value from breaking a Markdown table cell.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
