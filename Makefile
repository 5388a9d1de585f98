# Spool: a Kafka-compatible broker in one binary.
GO        ?= go
BIN       := bin/spool
PKGS      := ./...
# Process tests start many spool processes; give them room on small machines.
TEST_FLAGS ?= -count=1 -timeout 25m
FUZZTIME  ?= 20s

.PHONY: build static release cross cross-check docker run test unit integration fuzz clients kafka-peer compat lint bench bench-scale bench-go test-tiered-long s3-server test-netns-long test-sim-long clean

# What `spool version` reports: the nearest v* tag (v0.0.0-dev before the
# first release), the commit, and the build time (SOURCE_DATE_EPOCH when
# set, for reproducible builds). The container build passes all three in,
# having no .git to ask.
VERSION ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo v0.0.0-dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u $(if $(SOURCE_DATE_EPOCH),-d @$(SOURCE_DATE_EPOCH)) +%Y-%m-%dT%H:%M:%SZ)
VERSION_LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
# Release binaries: static (no cgo), without local paths or debug tables.
RELEASE_FLAGS = -trimpath -ldflags "-s -w $(VERSION_LDFLAGS)"
# The server runs on Linux; darwin builds are the admin client.
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
IMAGE     ?= spool:$(VERSION)

build:
	$(GO) build -ldflags "$(VERSION_LDFLAGS)" -o $(BIN) ./cmd/spool

# The static binary the container image ships (see Dockerfile).
static:
	CGO_ENABLED=0 $(GO) build $(RELEASE_FLAGS) -o $(BIN) ./cmd/spool

# One binary per platform in dist/, with checksums.
release:
	@rm -rf dist && mkdir -p dist
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=dist/spool-$(VERSION)-$$os-$$arch; \
		echo "build $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build $(RELEASE_FLAGS) -o $$out ./cmd/spool || exit 1; \
	done
	cd dist && sha256sum spool-* > SHA256SUMS

# Every release platform still compiles (about two minutes on two cores
# with a cold build cache, so not part of make test; see cross-check).
cross:
	@for p in $(PLATFORMS); do \
		echo "cross-compile $$p"; \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -o /dev/null ./cmd/spool || exit 1; \
	done

# What make test compiles besides linux/amd64: darwin/arm64 crosses both
# seams at once, the build tags that keep the server Linux-only and a
# 64-bit ARM target (about 30 s with a cold cache, 1 s warm).
CHECK_PLATFORM := darwin/arm64
cross-check:
	CGO_ENABLED=0 GOOS=$(firstword $(subst /, ,$(CHECK_PLATFORM))) GOARCH=$(lastword $(subst /, ,$(CHECK_PLATFORM))) $(GO) build -o /dev/null ./cmd/spool

# The container image (needs Docker; deploy/README.md runs the 3-node
# cluster from it).
docker:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) -t $(IMAGE) .

# A single-node broker+controller on localhost:9092, data in ./spool-data.
run: build
	./$(BIN) server

# Everything CI runs: test clients, the Apache Kafka peer, lint, a
# non-Linux platform compiles, unit tests with -race, process tests against
# real spool processes, a short fuzz run, the client matrix.
test: clients kafka-peer build lint cross-check unit integration fuzz

unit: s3-server
	$(GO) test -race $(TEST_FLAGS) $$($(GO) list ./... | grep -v /test)

# One package at a time: the process tests and the client matrix each run
# many spool processes, and together they would starve each other on a
# 2-core machine.
integration: build kafka-peer s3-server
	SPOOL_BIN=$(CURDIR)/$(BIN) $(GO) test -p 1 $(TEST_FLAGS) ./test/...

# Tiered storage's long mode: 1 GiB through the remote tier with a
# one-minute object-store outage (a few minutes).
test-tiered-long: build s3-server
	SPOOL_BIN=$(CURDIR)/$(BIN) SPOOL_TIERED_LONG=1 $(GO) test -count=1 -run '^TestTieredLong$$' -v -timeout 30m ./test/

# Network partitions' long mode: 100 faults (isolated leader, isolated
# active controller, one-way cut, flapping link, in turn) against a cluster
# in network namespaces, about 40 minutes; needs root. `make test` runs one
# of each.
test-netns-long: build
	SPOOL_BIN=$(CURDIR)/$(BIN) SPOOL_NETNS_FAULTS=100 $(GO) test -count=1 -run '^TestNetworkPartitionsLoseNoAcknowledgedRecord$$' -v -timeout 150m ./test/

# The metadata quorum's deterministic simulation, long mode: 100000 seeds
# (17 minutes on a loaded two-core machine). `make unit` runs 1000.
test-sim-long:
	SPOOL_SIM_SEEDS=100000 $(GO) test -count=1 -run '^TestSimulatedMetadataQuorum$$' -v -timeout 60m ./controller/

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzRequest$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzBatch$$' -fuzztime $(FUZZTIME) ./record/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBatch$$' -fuzztime $(FUZZTIME) ./controller/metadata/
	$(GO) test -run '^$$' -fuzz '^FuzzValidateEntry$$' -fuzztime $(FUZZTIME) ./controller/

# Builds the S3-compatible server the tiered-storage tests start
# (versitygw, pinned, from its Go module) into bin/, when missing.
s3-server:
	./scripts/install-s3-server.sh

# Installs the stock clients the matrix drives, when missing.
clients:
	./scripts/install-clients.sh

# Fetches the Apache Kafka peer (broker, tools, Streams, Java client) from
# Maven Central into test/peers/kafka/lib, when missing.
kafka-peer:
	./test/peers/kafka/fetch.sh

# Reruns the client matrix (test/clients) and rewrites README.md's
# compatibility section from its output.
compat: clients kafka-peer build
	SPOOL_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 15m -run '^TestMatrix$$' ./test/clients/ -args -update

lint:
	@fmt=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# The performance table (test/bench): spool against Apache Kafka
# (test/peers/kafka) and franz-go's kfake in memory and on disk, next to
# the machine's own limits, plus the data
# path's allocations. BENCH selects a subset (a -bench pattern, e.g.
# BENCH=Matrix/1node/1KiB); a full run rewrites the tables in
# docs/PERFORMANCE.md. BENCH_CELL is each matrix cell's measured time (10s per cell
# does not fit 20 minutes on two cores).
BENCH_CELL ?= 1500ms
BENCH_WARM ?= 500ms
bench: build kafka-peer s3-server
	SPOOL_BIN=$(CURDIR)/$(BIN) BENCH_CELL=$(BENCH_CELL) BENCH_WARM=$(BENCH_WARM) $(GO) test -run '^$$' -bench '$(or $(BENCH),.)' -benchtime 1x -timeout 75m ./test/bench/ $(if $(BENCH),,-args -update)

# Partition scale: 100,000 partitions on one node, metadata for 1,000,000
# on three controllers, controlled shutdown of a broker leading 10,000.
bench-scale: build
	SPOOL_BIN=$(CURDIR)/$(BIN) SPOOL_BENCH_SCALE=1 $(GO) test -run '^$$' -bench '^BenchmarkScale' -benchtime 1x -timeout 120m ./test/bench/ -args -update

# Every Go micro-benchmark, for benchstat comparisons.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./storage/ ./broker/ ./controller/metadata/

clean:
	rm -rf bin dist spool-data
