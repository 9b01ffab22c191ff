// Package hist records latencies in HDR histograms and moves them between
// processes: a worker encodes its histogram into a Snapshot (the compact,
// base64 V2 encoding of HdrHistogram), the coordinator decodes and merges
// them, and percentiles of the merged histogram are exact to three
// significant digits whatever the number of workers. Averaging per-worker
// percentiles, the usual shortcut, would be wrong.
//
// Values are recorded in microseconds from 1 µs to 10 minutes; larger values
// are clamped to the top and counted (Clamped), never dropped.
package hist
