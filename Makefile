# varde's developer entry points. `make demo` and `make test` are the two
# commands a fresh machine needs; everything else is for contributors.
GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
FUZZTIME  ?= 4s
TESTFLAGS ?=

.PHONY: all build test test-unit deps demo bench bench-vip fuzz fuzz-smoke lint clean policies deb

all: build

# CGO_ENABLED=0 as the Debian package: the switch to the configured user
# (global user/group) must change every thread, which cgo forbids.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/varde ./cmd/varde
	$(GO) build -trimpath -o $(BIN)/demo-backend ./cmd/demo-backend

# deps installs the external programs tests compare with or talk to
# (haproxy, keepalived, rsyslog, wrk, nginx, promtool, chromium) when missing.
deps:
	@.ci/install-deps

# The whole suite: dependencies, vet, race-enabled tests (unit, integration
# against real haproxy/keepalived/rsyslog, network-namespace VRRP labs), then
# a short run of every fuzz target.
test: deps
	$(GO) mod download
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) test -race -count=1 -timeout 15m $(TESTFLAGS) ./...
	# The engine again with its goroutine lane (what runs off Linux).
	VARDE_LOOPS=0 $(GO) test -race -count=1 -timeout 5m $(TESTFLAGS) ./core/proxy/ ./core/admin/
	@$(MAKE) --no-print-directory fuzz-smoke

# deb builds $(BIN)/varde_VERSION_amd64.deb with dpkg-deb alone
# (docs/packaging.md); `make test` builds and installs one in a throwaway
# root (packaging/deb_test.go).
deb:
	@VERSION=$(VERSION) GO=$(GO) packaging/mkdeb $(BIN)

# policies builds the WASM example policies from their Go sources
# (policies/wasm/*, GOOS=wasip1 reactor modules) into policies/NAME.wasm.
WASM_POLICIES := canary leastconn
policies:
	@for p in $(WASM_POLICIES); do \
		(cd policies/wasm && GOOS=wasip1 GOARCH=wasm $(GO) build -trimpath -buildmode=c-shared -o ../$$p.wasm ./$$p) || exit 1; \
		echo "policies/$$p.wasm"; \
	done

test-unit:
	$(GO) test -short -count=1 ./...

# Runs varde in the foreground on the bundled quick-start example with two
# demo backends on loopback; Ctrl-C stops everything it started.
demo: build
	@examples/quickstart/demo.sh $(BIN)

# Whole-system benchmarks: varde against HAProxy on this machine, plus the
# Go micro-benchmarks of the hot paths.
bench: build
	@.ci/install-deps bench
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./core/... ./plugins/... ./logpipe/... ./vip/...
	$(GO) run ./cmd/varde-bench -varde $(BIN)/varde

bench-vip: build
	@.ci/install-deps
	$(GO) test -count=1 -run '^TestBenchFailover' -v -timeout 20m ./vip/lab/ -args -bench-failover

# fuzz runs every fuzz target for FUZZTIME each (make fuzz FUZZTIME=5m for a real session).
fuzz:
	@.ci/fuzz-all $(FUZZTIME)

fuzz-smoke:
	@.ci/fuzz-all 3s

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

clean:
	rm -rf $(BIN)
