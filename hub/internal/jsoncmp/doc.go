// Package jsoncmp is a separate module that benchmarks third-party JSON libraries on the hub's
// envelopes, so that the library's own go.mod does not depend on them. Its encoding/json numbers are
// the common baseline with the hub's own benchmark (hub/json_bench_test.go); see docs/json.md.
//
//	cd hub/internal/jsoncmp && go test -run '^$' -bench . -benchmem
package jsoncmp
