# visastats: `make run` runs the whole pipeline on the sample data in data/,
# `make test` runs the tests.
GO      ?= go
BIN     := bin/visastats
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/visastats/visastats/pipeline.Version=$(VERSION)

.PHONY: build run serve test test-short lint bench bench-quick fuzz iso-names clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/visastats

run: build
	./$(BIN) --config config.yaml run

serve: build
	./$(BIN) --config config.yaml serve --addr 127.0.0.1:8080 --schema docs/schema.md

# Test binaries link DuckDB's static library (88 MB), five of them: without
# DWARF (-w), and with mold when it is installed (apt-get install mold;
# .ci/run installs it), linking them takes 27 CPU-s instead of 45.
TEST_LDFLAGS := -w$(if $(shell command -v mold 2>/dev/null), -extldflags=-fuse-ld=mold)

# The tests collect garbage less often than visastats does (GOGC=400, the
# default is 100): about 4% less CPU for make test. The tests that bound a
# child's peak RSS run it with GOGC=100.
TEST_ENV := GOGC=400

test:
	$(TEST_ENV) $(GO) test -count=1 -timeout 10m -ldflags "$(TEST_LDFLAGS)" ./...

# Before a commit: every test but the full build of the shipped data, the
# killed child runs, the publish to a real S3 server, the headless browser
# and the largest hostile inputs (go test -short). CI runs make test.
test-short:
	$(TEST_ENV) $(GO) test -short -count=1 -timeout 10m -ldflags "$(TEST_LDFLAGS)" ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Benchmarks print their measurements side by side in one run; nothing
# asserts timings. The Eurostat ingest and the whole nightly run (beside
# DuckDB's read_csv and COPY floors, with peak RSS) run at 5M and 50M
# cells (minutes, and several GB of temporary disk at 50M).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 90m ./...

# The same without the 50M-cell Eurostat cases. (A '/' inside a
# parenthesised alternation would not split the pattern by level, hence
# two runs.)
bench-quick:
	$(GO) test -run '^$$' -bench '^(BenchmarkReadECWorkbook|BenchmarkExports)$$' -benchtime 1x -timeout 30m ./...
	$(GO) test -run '^$$' -bench '^(BenchmarkEurostatIngest|BenchmarkNightlyRun)$$/^5M' -benchtime 1x -timeout 30m ./pipeline

# Fuzz every parser for FUZZTIME each, seeded from the real files: every
# Fuzz function of each package in FUZZ_PKGS (go test -fuzz takes one
# package and one function at a time).
FUZZTIME ?= 30s
FUZZ_PKGS := ./sources ./sources/xls
fuzz:
	@for p in $(FUZZ_PKGS); do \
		for f in $$($(GO) test $$p -list '^Fuzz' | grep '^Fuzz'); do \
			echo "== $$p $$f"; $(GO) test $$p -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done

# Regenerate data/reference/iso3166_names.csv from Debian's iso-codes lists
# (apt-get install iso-codes); review the diff before committing it.
iso-names:
	$(GO) run ./cmd/isonames -iso-codes /usr/share/iso-codes/json -out data/reference/iso3166_names.csv

clean:
	rm -rf bin out
