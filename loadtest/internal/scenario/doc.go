// Package scenario runs the load tests: it decides how many client
// processes a run needs, starts them (agents), drives them through the
// scenario's steps, reads the server's /proc entries between steps, and
// merges everything into one report.Result.
//
// Each scenario measures a window and says which (Result.Window): CPU is the
// difference of two readings around it, memory per connection the growth
// between a warm mark (the first tenth of the connections) and the end of
// the connect phase, latencies come from HDR histograms merged across
// processes. A run that loses a worker stops and says so; a figure it could
// not take is null, never zero.
package scenario
