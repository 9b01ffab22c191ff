// Package jsoncmp is a separate module that benchmarks third-party JSON libraries on the hub's
// envelopes, so that the library's own go.mod does not depend on them. Its encoding/json numbers are
// the common baseline with the hub's own benchmark (hub/json_bench_test.go); see docs/json.md. It is in
// go.work and in the Makefile's MODULES, so make check and make test vet it and run its tests (the
// check that each library decodes the samples as encoding/json does).
//
//	cd hub/internal/jsoncmp && go test -run '^$' -bench . -benchmem
package jsoncmp
