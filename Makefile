# gpu-watchdog. `make demo` and `make test` are the two commands a newcomer runs.
GO       ?= go
BIN      ?= bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.revision=$(REVISION)
# The agent needs cgo (go-nvml loads libnvidia-ml.so.1 at run time); the
# aggregator is pure Go.
AGENT_ENV := CGO_ENABLED=1 CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations"

.PHONY: all build demo test test-deps lint templ-check fmt bench clean package docs loadtest

all: build

build:
	$(AGENT_ENV) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/gpuwd-agent ./cmd/gpuwd-agent
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/gpuwd ./cmd/gpuwd

# Debian packages of both programs: dist/gpuwd_<ver>_amd64.deb and
# dist/gpuwd-agent_<ver>_amd64.deb (see packaging/package.sh for <ver>).
package: build
	BIN_DIR=$(BIN) VERSION='$(VERSION)' ./packaging/package.sh

# The README's flag reference from the programs' flag sets (a test fails
# when it is stale).
docs:
	$(AGENT_ENV) $(GO) run ./internal/flagdoc/gen -readme README.md

# Simulated GPU nodes on loopback until Ctrl-C.
demo: build
	@BIN=$(BIN) ./packaging/demo.sh

# Everything: lint, then every test with the race detector. Installs the
# programs the tests run against (see test-deps) when it can.
test: test-deps lint
	$(AGENT_ENV) $(GO) test -race -count=1 -timeout 20m ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s

# --- fuzz: native Go fuzzing of the parsers that take outside input ---
# Each target in FUZZ_TARGETS (package:FuzzName) runs for FUZZTIME, one
# after another; `make test` runs them briefly. Plain `go test` already runs
# their seed corpora (f.Add and testdata/fuzz/). Longer: make fuzz
# FUZZTIME=10m; one worker each on a shared machine: GOFLAGS=-parallel=1.
FUZZTIME ?= 10s
FUZZ_TARGETS := \
	./aggregator/scrape:FuzzScrape ./aggregator/scrape:FuzzLayoutMatchesTextparse \
	./aggregator/api:FuzzParams ./aggregator/discovery:FuzzRegister ./aggregator/discovery:FuzzFileSD \
	./aggregator/target:FuzzFromURL ./aggregator/config:FuzzParse ./alerts/route:FuzzParse ./alerts/rules:FuzzParse \
	./alerts/userrules:FuzzValidateMarshal ./aggregator/chunk:FuzzDecode ./aggregator/chunk:FuzzRoundTrip \
	./slurm/parse:FuzzNodes ./slurm/parse:FuzzJobs ./slurm/parse:FuzzJobGPUs ./slurm/parse:FuzzNodeJobs \
	./slurm/parse:FuzzRecord ./slurm/parse:FuzzRecords ./slurm/parse:FuzzPartitions ./slurm/parse:FuzzJobDetails \
	./slurm/parse:FuzzSdiag ./slurm/parse:FuzzHostlist ./slurm/parse:FuzzGRES
.PHONY: fuzz
fuzz:
	@log=$$(mktemp); trap 'rm -f "$$log" "$$log.rc"' EXIT; \
	for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $${t#*:} in $${t%%:*} for $(FUZZTIME)"; \
	  { $(AGENT_ENV) $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) "$${t%%:*}" 2>&1; \
	    echo $$? > "$$log.rc"; } | tee "$$log"; \
	  [ "$$(cat "$$log.rc")" = 0 ] && continue; \
	  if grep -q 'Failing input written' "$$log" || ! grep -qx '    context deadline exceeded' "$$log"; then exit 1; fi; \
	  echo "fuzz: not a failure: go's coordinator misreports the end of -fuzztime (golang/go#75804; fixed in Go 1.27)"; \
	done
# --- end fuzz ---

# Real programs the tests use. Installed from Debian when missing and this
# is root with apt; otherwise the tests that need them skip (fail under CI=true).
# Slurm's packages must not start their services when installed (the tests
# run their own daemons): a temporary policy-rc.d says so where none exists.
TEST_PROGRAMS := promtool:prometheus prometheus:prometheus \
	prometheus-alertmanager:prometheus-alertmanager amtool:prometheus-alertmanager chromium:chromium \
	slurmctld:slurmctld slurmd:slurmd sinfo:slurm-client munged:munge \
	shellcheck:shellcheck dpkg-deb:dpkg objdump:binutils debootstrap:debootstrap
test-deps:
	@missing=""; for p in $(TEST_PROGRAMS); do \
	  PATH="$$PATH:/usr/sbin:/sbin" command -v $${p%%:*} >/dev/null 2>&1 || missing="$$missing $${p#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing test dependencies:$$missing"; \
	    policy=""; if [ ! -e /usr/sbin/policy-rc.d ]; then policy=1; \
	      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	    status=$$?; [ -z "$$policy" ] || rm -f /usr/sbin/policy-rc.d; exit $$status; \
	  else echo "warning: missing test programs (install:$$missing); tests that need them will skip"; fi; \
	fi

lint: templ-check
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@# stdmethods is off: chunkenc.Iterator's Seek(int64) ValueType is not io.Seeker.
	$(AGENT_ENV) $(GO) vet -stdmethods=false ./...
	$(AGENT_ENV) $(GO) tool staticcheck ./...
	@# Known vulnerabilities reachable from our code (govulncheck, pinned in
	@# go.mod). It needs the Go vulnerability database: vuln.go.dev, or a copy
	@# named by GOVULNDB (file:///path). Where neither can be reached it says so
	@# and goes on, unless VULNCHECK=required.
	@out=$$($(AGENT_ENV) $(GO) tool govulncheck -db "$${GOVULNDB:-https://vuln.go.dev}" ./... 2>&1); status=$$?; \
	if [ $$status = 0 ]; then echo "govulncheck: no known vulnerabilities"; \
	elif [ $$status = 1 ] && [ "$${VULNCHECK:-}" != required ] && \
	  printf '%s' "$$out" | grep -q 'fetching vulnerabilities'; then \
	  echo "warning: govulncheck skipped: the vulnerability database cannot be reached:"; printf '%s\n' "$$out" | tail -1; \
	else printf '%s\n' "$$out"; exit 1; fi

# The generated *_templ.go are committed; this fails when they are not
# what the .templ files generate (and leaves them regenerated).
templ-check:
	@before=$$(find . -name '*_templ.go' -not -path './.git/*' | sort | xargs -r sha256sum); \
	$(GO) tool templ generate -log-level error >/dev/null || exit 1; \
	after=$$(find . -name '*_templ.go' -not -path './.git/*' | sort | xargs -r sha256sum); \
	if [ "$$before" != "$$after" ]; then echo "generated templ code was not current (now regenerated; commit it):"; \
	  printf '%s\n%s\n' "$$before" "$$after" | sort | uniq -u | awk '{print $$2}' | sort -u; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

# Benchmarks (see BENCHMARKS.md for the figures and the machine).
bench:
	$(AGENT_ENV) $(GO) test -run '^$$' -bench . -benchmem -count 6 ./agent/...
	GPUWD_FOOTPRINT_SECONDS=$${GPUWD_FOOTPRINT_SECONDS:-60} $(AGENT_ENV) $(GO) test -run '^$$' -bench BenchmarkAgentProcess -benchtime 1x -count 1 ./cmd/gpuwd-agent/
	@# gpuwd (aggregator): ingestion, disk and query vs a real Prometheus (promtool and prometheus on PATH).
	$(GO) test -run '^$$' -bench BenchmarkAppend -benchtime 32000x -count 3 ./aggregator/store/
	$(GO) test -run '^$$' -bench BenchmarkCompactionStall -benchtime 1x -count 3 ./aggregator/store/
	$(GO) test -run '^$$' -bench BenchmarkDiskBytesPerSample -benchtime 1x -count 1 -timeout 30m ./aggregator/store/
	$(GO) test -run '^$$' -bench BenchmarkQueryRange -benchtime 5x -count 1 -timeout 30m ./aggregator/store/
	GPUWD_COMPARE_SECONDS=$${GPUWD_COMPARE_SECONDS:-60} $(AGENT_ENV) $(GO) test -run '^$$' -bench BenchmarkIngestCPU -benchtime 1x -count 3 -timeout 30m ./cmd/gpuwd/
	@# Slurm: a collection cycle from recorded output, and a worker's start to IDLE on a real head (root).
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./slurm/collector/
	$(AGENT_ENV) $(GO) test -run '^$$' -bench BenchmarkWorkerJoin -benchtime 10x -count 3 ./slurm/
	@# Alerts: the default rule pack over 1,000 8-GPU nodes; a GPU passing a threshold until the webhook arrives.
	$(GO) test -run '^$$' -bench BenchmarkRulePack -benchtime 5x -count 3 -timeout 30m ./aggregator/
	$(AGENT_ENV) $(GO) test -run '^$$' -bench BenchmarkAlertLatency -benchtime 16x -count 1 ./cmd/gpuwd/
	@# Dashboard: page render time and size over 100 8-GPU nodes with 24 h of history; SVG charts.
	$(GO) test -run '^$$' -bench BenchmarkDashboard -benchtime 40x -timeout 30m ./aggregator/
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./web/chart/
	@# Provisioning: a local pod (namespaces, real Slurm; root) from the dashboard's launch to its Slurm node idle.
	$(AGENT_ENV) $(GO) test -run '^$$' -bench BenchmarkLaunchToSlurmIdle -benchtime 3x -count 3 ./aggregator/
	@# Packaging: a worker pod from docker run to serving, registered and its Slurm node idle (root, Docker).
	$(AGENT_ENV) $(GO) test ./packaging/imagetest/ -run '^$$' -bench BenchmarkPodBootToUseful -benchtime 3x -count 3 -timeout 30m

# Load: AGENTS simulated agents × GPUS GPUs (in one process, on loopback)
# against the real gpuwd serve for DURATION while USERS people query it
# and open its pages; prints the report (see
# BENCHMARKS.md) and fails when a scrape, query or page failed. Bounded:
# at most 1,000 agents × 8 GPUs and 30 minutes.
AGENTS   ?= 1000
GPUS     ?= 8
DURATION ?= 5m
USERS    ?= 1
loadtest: build
	$(AGENT_ENV) $(GO) run ./cmd/gpuwd-loadtest --gpuwd $(BIN)/gpuwd --agents $(AGENTS) --gpus $(GPUS) --duration $(DURATION) --users $(USERS)

# Fault injection against the real programs (internal/chaos; see its doc.go):
# kill -9 mid-ingest, a full disk, flapping agents, NVML errors, a killed
# slurmctld, a chat outage, RunPod API faults, clock jumps. Each scenario
# logs one "chaos: <scenario>: <what held>" line; they end as a table. The
# disk-full and Slurm scenarios need root (and Slurm) and skip without them,
# except under CI=true, where they fail. GPUWD_CHAOS_SEED replays a run.
.PHONY: chaos
chaos:
	@log=$$(mktemp); trap 'rm -f "$$log" "$$log.rc"' EXIT; \
	{ $(AGENT_ENV) $(GO) test -race -count=1 -v -timeout 20m -run '^TestChaos' ./internal/chaos/ 2>&1; echo $$? > "$$log.rc"; } | tee "$$log"; \
	echo; echo "| scenario | test | result | time | what held |"; echo "|---|---|---|---|---|"; \
	awk '/^=== RUN +TestChaos/ { t = $$3 } \
	  /^    [^ ]+\.go:[0-9]+: / && t != "" { m = $$0; sub(/^    [^ ]+\.go:[0-9]+: /, "", m); \
	    if (m ~ /^chaos: /) sum[t] = substr(m, 8); else if (first[t] == "" && m !~ /^seed /) first[t] = m } \
	  /^--- (PASS|FAIL|SKIP): TestChaos/ { n++; name[n] = $$3; r = $$2; sub(/:$$/, "", r); res[$$3] = r; d = $$4; gsub(/[()]/, "", d); dur[$$3] = d } \
	  END { for (i = 1; i <= n; i++) { k = name[i]; s = sum[k]; sc = s; sub(/: .*/, "", sc); w = s; sub(/^[^:]*: /, "", w); \
	    if (s == "") { sc = "–"; w = first[k] } \
	    gsub(/\|/, "\\|", w); printf "| %s | %s | %s | %s | %s |\n", sc, k, res[k], dur[k], w } }' "$$log"; \
	exit $$(cat "$$log.rc")

clean:
	rm -rf $(BIN)
