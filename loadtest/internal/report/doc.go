// Package report presents results: the final table on a terminal, the -json
// document (Result itself), a Markdown report with plots (latency
// distributions and memory per connection, drawn with gonum/plot), and the
// comparison table that `loadtest compare` keeps in docs/benchmarks.md
// between markers.
//
// Every figure shown is one the run measured; a figure it could not measure
// is shown as "n/a" with the reason, never as zero.
package report
