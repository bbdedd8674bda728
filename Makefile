# visastats: `make run` runs the whole pipeline on the sample data in data/,
# `make test` runs the tests.
GO      ?= go
BIN     := bin/visastats
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/visastats/visastats/pipeline.Version=$(VERSION)

.PHONY: build run test lint bench fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/visastats

run: build
	./$(BIN) --config config.yaml run

test:
	$(GO) test -count=1 ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Benchmarks print their measurements side by side; nothing asserts timings.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

# Short fuzzing of every parser, seeded from the real files.
fuzz:
	$(GO) test ./sources -run '^$$' -fuzz FuzzECSchengenRows -fuzztime 30s

clean:
	rm -rf bin out
