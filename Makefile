# pkce-wasm. `make demo` runs the demo; `make test` runs every test. Both install what is missing.
GO        ?= go
WASM_ENV   = GOOS=js GOARCH=wasm
# -gcflags=all=-l: no inlining. The client is I/O-bound; inlining costs 83 KB brotli (9%).
GOFLAGS_WASM = -trimpath -gcflags=all=-l -ldflags="-s -w"
export GOFLAGS_WASM
GOROOT_WASM := $(shell $(GO) env GOROOT)/lib/wasm
DIST       = js/dist
WASM_SRC   = $(shell find wasm -name '*.go' -not -name '*_test.go') go.mod go.sum

.PHONY: all build bundle server demo deps test test-go test-wasm test-e2e size vet clean fuzz fuzz-short
all: build
build: bundle server

bundle: $(DIST)/pkce.wasm $(DIST)/wasm_exec.js $(DIST)/pkce-wasm.js $(DIST)/pkce-wasm.worker.js $(DIST)/pkce-wasm.d.ts

$(DIST)/pkce.wasm: $(WASM_SRC)
	@mkdir -p $(DIST)
	$(WASM_ENV) $(GO) build $(GOFLAGS_WASM) -o $@ ./wasm/cmd/pkce-wasm

$(DIST)/wasm_exec.js: $(GOROOT_WASM)/wasm_exec.js
	@mkdir -p $(DIST)
	cp $< $@

$(DIST)/%: js/src/%
	@mkdir -p $(DIST)
	cp $< $@

# React binding (pkce-wasm/react): plain ESM beside the loader, copied as is.
bundle: $(DIST)/react.js $(DIST)/react.d.ts

# Classic-script build (window.PkceWasm) for a plain <script src=".../pkce-wasm.iife.js">.
bundle: $(DIST)/pkce-wasm.iife.js $(DIST)/pkce-wasm.iife.d.ts
$(DIST)/pkce-wasm.iife.js: js/scripts/build-iife.mjs js/src/pkce-wasm.js $(DIST)/wasm_exec.js
	node js/scripts/build-iife.mjs js/src/pkce-wasm.js $(DIST)/wasm_exec.js $@

# The worker, self-contained (no imports), for bundlers, the npm package and the script include.
$(DIST)/pkce-wasm.worker.js: js/scripts/build-iife.mjs js/src/pkce-wasm.js js/src/pkce-wasm.worker.js $(DIST)/wasm_exec.js
	node js/scripts/build-iife.mjs js/src/pkce-wasm.js $(DIST)/wasm_exec.js $@ --worker js/src/pkce-wasm.worker.js

# Precompressed variants the dev server negotiates (server/static.go); not in the npm package.
# Written under a temporary name first: a half-written variant must never look fresh.
PRECOMPRESSED = $(foreach f,pkce.wasm wasm_exec.js pkce-wasm.js pkce-wasm.worker.js pkce-wasm.iife.js,$(DIST)/$(f).br $(DIST)/$(f).gz)
bundle: $(PRECOMPRESSED)
$(DIST)/%.gz: $(DIST)/%
	gzip -9 -n -c $< > $@.tmp && mv $@.tmp $@
$(DIST)/%.br: $(DIST)/%
	@if command -v brotli >/dev/null 2>&1; then \
	  echo "brotli -q 11 $<"; brotli -q 11 -c $< > $@.tmp && mv $@.tmp $@; \
	else echo "bundle: brotli not found, $@ skipped (the dev server serves gzip or identity)"; fi

server:
	$(GO) build -o bin/devserver ./server

deps:
	@bash .ci/deps.sh

demo: deps build
	./bin/devserver

vet:
	$(GO) vet ./...
	$(WASM_ENV) $(GO) vet ./wasm/...

# Every test: native (race detector), WASM boundary under Node, bundle size, e2e in the browsers.
test: deps vet test-go fuzz-short test-wasm size test-e2e

test-go:
	$(GO) test -race -count=1 ./...

# Native fuzzing of the parsers, FUZZTIME per target: wasm/core's (fuzz_test.go, and the readers
# against encoding/json in legacyjson_test.go), and dir:Target for another package's.
FUZZTIME ?= 30s
FUZZ_TARGETS = FuzzParseJWT FuzzParseTokenResponse FuzzParseCallback FuzzParseMetadata FuzzParseJWKS FuzzParseWWWAuthenticate \
  FuzzReadersMatchEncodingJSON wasm/internal/strictjson:FuzzStrictJSON wasm/internal/strictjson:FuzzAppendString \
  wasm/internal/sha256:FuzzSum256
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  case $$t in *:*) pkg=./$${t%%:*}/; t=$${t#*:};; *) pkg=./wasm/core/;; esac; \
	  echo "$(GO) test -run=^\$$ -fuzz=^$$t\$$ -fuzztime=$(FUZZTIME) $$pkg"; \
	  $(GO) test -run=^$$ -fuzz=^$$t$$ -fuzztime=$(FUZZTIME) $$pkg; \
	done

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s

test-wasm:
	# The core is tested natively (test-go); here the JS boundary runs under Node.
	$(WASM_ENV) $(GO) test -count=1 -exec="$(GOROOT_WASM)/go_js_wasm_exec" ./wasm/jsbridge/

# Browser tests (js/test) in Debian's Chromium, Firefox ESR and WebKitGTK (MiniBrowser under Xvfb):
# BROWSERS=chromium (comma list) runs a subset; the default is all three. The files on
# playwright-harness.mjs need what only a Chromium driver offers (network events, request
# interception, CDP) and run in Chromium only: misbehave, package (the tarball and Vite builds),
# gowasm, dpop, dpop-interop, isolation-cdp (the worker killed). The injected-script suite
# (isolation) and the <script> include (iife) run in all three, as e2e, lifecycle and demo do.
BROWSERS ?= chromium,firefox,webkit
export BROWSERS
test-e2e: deps build
	cd js && node --test --test-concurrency=1 test/*.test.mjs

size: bundle
	@bash .ci/size.sh $(DIST)

clean:
	rm -rf $(DIST) bin

# Go-WASM demo (demo/go/main.go, page demo/go/ at /go/): a Go program on wasm/pkce, which links
# net/http and golang.org/x/oauth2. Not part of the JS bundle; `make size` does not measure it.
.PHONY: demo-go
build: demo-go
demo-go: $(DIST)/demo-go.wasm $(DIST)/wasm_exec.js
$(DIST)/demo-go.wasm: $(WASM_SRC) demo/go/main.go
	@mkdir -p $(DIST)
	$(WASM_ENV) $(GO) build $(GOFLAGS_WASM) -o $@ ./demo/go

# Benchmark, not part of `make test`: pkce-wasm beside a hello-world Go WASM, native fetch and
# oidc-client-ts (and oauth4webapi) against the dev server (js/bench/bench.mjs): Chromium's full
# table, then start-up, callback and wrapped-fetch figures with a column per browser.
# BENCH_BROWSERS (comma list of chromium, firefox, webkit; default all three) for a quick loop;
# the DPoP proof cost (dpop.test.mjs) runs with Chromium only.
.PHONY: bench size-breakdown
BENCH_N ?= 15
bench: deps bundle server
	cd js && BENCH_N=$(BENCH_N) node bench/bench.mjs
	@case ",$${BENCH_BROWSERS:-chromium}," in \
	  *,chromium,*) echo 'cd js && BENCH_DPOP=1 node --test --test-concurrency=1 --test-name-pattern="cost figures" test/dpop.test.mjs'; \
	    cd js && BENCH_DPOP=1 node --test --test-concurrency=1 --test-name-pattern="cost figures" test/dpop.test.mjs;; \
	  *) echo "bench: the DPoP proof cost is measured in Chromium only (BENCH_BROWSERS=$$BENCH_BROWSERS): skipped";; \
	esac

# pkce.wasm's bytes per Go package, module and function, beside the hello-world floor.
size-breakdown:
	$(GO) run ./wasm/internal/wasmsize -base ./wasm/internal/hello ./wasm/cmd/pkce-wasm
