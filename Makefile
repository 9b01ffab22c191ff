# One entry per habit. CI (.ci/run) runs: check, test, fuzz-smoke.
GO      ?= go
MODULES := . $(wildcard interop loadtest)
FUZZTIME ?= 5s

.PHONY: all check fmt vet test fuzz-smoke bench echo idle

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
	$(GO) test -count=1 -run 'Alloc' ./frame/ ./hub/
	cd loadtest && $(GO) test -count=1 -run 'MemoryPerConnection' ./internal/client/

# Runs every Fuzz target briefly (seed corpus plus FUZZTIME of new inputs).
fuzz-smoke:
	@for m in $(MODULES); do \
	  for pkg in $$(cd $$m && $(GO) list ./...); do \
	    for f in $$(cd $$m && $(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	      echo "== fuzz $$pkg $$f"; (cd $$m && $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg) || exit 1; \
	    done; \
	  done; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./frame/ ./conn/ ./hub/

echo:
	$(GO) run ./examples/echo -addr :9001
