# pkce-wasm. `make demo` runs the demo; `make test` runs every test. Both install what is missing.
GO        ?= go
WASM_ENV   = GOOS=js GOARCH=wasm
GOFLAGS_WASM = -trimpath -ldflags="-s -w"
GOROOT_WASM := $(shell $(GO) env GOROOT)/lib/wasm
DIST       = js/dist
WASM_SRC   = $(shell find wasm -name '*.go' -not -name '*_test.go') go.mod go.sum

.PHONY: all build bundle server demo deps test test-go test-wasm test-e2e size vet clean
all: build
build: bundle server

bundle: $(DIST)/pkce.wasm $(DIST)/wasm_exec.js $(DIST)/pkce-wasm.js $(DIST)/pkce-wasm.d.ts

$(DIST)/pkce.wasm: $(WASM_SRC)
	@mkdir -p $(DIST)
	$(WASM_ENV) $(GO) build $(GOFLAGS_WASM) -o $@ ./wasm/cmd/pkce-wasm

$(DIST)/wasm_exec.js: $(GOROOT_WASM)/wasm_exec.js
	@mkdir -p $(DIST)
	cp $< $@

$(DIST)/%: js/src/%
	@mkdir -p $(DIST)
	cp $< $@

server:
	$(GO) build -o bin/devserver ./server

deps:
	@bash .ci/deps.sh

demo: build
	./bin/devserver

vet:
	$(GO) vet ./...
	$(WASM_ENV) $(GO) vet ./wasm/...

# Every test: native (race detector), WASM boundary under Node, bundle size, e2e in Chromium.
test: deps vet test-go test-wasm size test-e2e

test-go:
	$(GO) test -race -count=1 ./...

test-wasm:
	$(WASM_ENV) $(GO) test -count=1 -exec="$(GOROOT_WASM)/go_js_wasm_exec" ./wasm/...

test-e2e: build
	cd js && node --test --test-concurrency=1 test/*.test.mjs

size: bundle
	@bash .ci/size.sh $(DIST)

clean:
	rm -rf $(DIST) bin
