# One entry per habit. CI (.ci/run) runs: check, test, fuzz-smoke.
GO      ?= go
MODULES := . hub/internal/jsoncmp $(wildcard interop loadtest)
# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# report "context deadline exceeded" as a failure when the time runs out while
# a worker is mid-input (golang/go#75804, fixed in Go 1.27).
# FUZZTIME_NET is for the targets that go through sockets (a few hundred
# inputs a second instead of tens of thousands).
FUZZTIME ?= 100000x
FUZZTIME_NET ?= 5000x

.PHONY: all check fmt vet test fuzz-smoke bench bench-redis echo idle

all: check test

fmt:
	gofmt -w $$(git ls-files '*.go')

check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done

# The test command of README.md: every module, race detector on, shuffled.
test:
	@for m in $(MODULES); do echo "== go test $$m"; (cd $$m && $(GO) test -race -shuffle=on -count=1 ./...) || exit 1; done
	@echo "== allocation and memory tests (exact only without -race: sync.Pool drops items at random under it, and its shadow memory inflates RSS)"
	$(GO) test -count=1 -run 'Alloc' ./frame/ ./conn/ ./hub/
	cd loadtest && $(GO) test -count=1 -run 'MemoryPerConnection' ./internal/client/

# Runs every Fuzz target briefly (seed corpus plus FUZZTIME new inputs).
fuzz-smoke:
	@for m in $(MODULES); do \
	  for pkg in $$(cd $$m && $(GO) list ./...); do \
	    for f in $$(cd $$m && $(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	      t=$(FUZZTIME); case $$f in FuzzServerInput) t=$(FUZZTIME_NET);; esac; \
	      echo "== fuzz $$pkg $$f ($$t)"; (cd $$m && $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$$t $$pkg) || exit 1; \
	    done; \
	  done; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./frame/ ./conn/ ./hub/

# The Redis figures of docs/benchmarks.md, on a redis-server of their own (needs redis-server,
# redis-benchmark; run on a quiet machine).
bench-redis:
	WSREDIS_BENCH=1 $(GO) test -count=1 -run 'TestBench' -v ./redis/

echo:
	$(GO) run ./examples/echo -addr :9001
