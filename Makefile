# Spool: a Kafka-compatible broker in one binary.
GO        ?= go
BIN       := bin/spool
PKGS      := ./...
# Process tests start many spool processes; give them room on small machines.
TEST_FLAGS ?= -count=1 -timeout 25m
FUZZTIME  ?= 20s

.PHONY: build run test unit integration fuzz clients compat lint bench clean

build:
	$(GO) build -o $(BIN) ./cmd/spool

# A single-node broker+controller on localhost:9092, data in ./spool-data.
run: build
	./$(BIN) server

# Everything CI runs: test clients, lint, unit tests with -race, process
# tests against real spool processes, a short fuzz run, the client matrix.
test: clients build lint unit integration fuzz

unit:
	$(GO) test -race $(TEST_FLAGS) $$($(GO) list ./... | grep -v /test)

# One package at a time: the process tests and the client matrix each run
# many spool processes, and together they would starve each other on a
# 2-core machine.
integration: build
	SPOOL_BIN=$(CURDIR)/$(BIN) $(GO) test -p 1 $(TEST_FLAGS) ./test/...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzRequest$$' -fuzztime $(FUZZTIME) ./protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzValidateBatch$$' -fuzztime $(FUZZTIME) ./storage/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBatch$$' -fuzztime $(FUZZTIME) ./controller/metadata/

# Installs the stock clients the matrix drives, when missing.
clients:
	./scripts/install-clients.sh

# Reruns the client matrix (test/clients) and rewrites README.md's
# compatibility section from its output.
compat: clients build
	SPOOL_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 15m -run '^TestMatrix$$' ./test/clients/ -args -update

lint:
	@fmt=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./storage/ ./broker/ ./controller/metadata/
	SPOOL_BIN=$(CURDIR)/$(BIN) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./test/bench/

clean:
	rm -rf bin spool-data
