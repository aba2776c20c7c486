#!/usr/bin/env bash
# make size: raw, gzip -9 and brotli -q 11 bytes of what a page downloads for pkce-wasm (wasm, the
# loader with wasm_exec.js, and the self-contained worker script),
# beside a hello-world Go WASM built with the same flags in the same run. Fails when the brotli
# ratio exceeds SIZE_MAX_RATIO (default 1.97: what the bundle reached once JSON went through
# wasm/internal/strictjson instead of encoding/json and SHA-256 through wasm/internal/sha256 instead
# of crypto/sha256, 1.96 (775,938 B), plus ~4 KB; it was 2.26 before, with the worker, DPoP and the
# fast fetch path).
set -euo pipefail
dist=${1:-js/dist}
max=${SIZE_MAX_RATIO:-1.97}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The floor is built exactly like the bundle (Makefile's GOFLAGS_WASM).
flags=${GOFLAGS_WASM:--trimpath -gcflags=all=-l -ldflags=-s\ -w}
eval "GOOS=js GOARCH=wasm go build $flags -o \"\$tmp/hello.wasm\" ./wasm/internal/hello"
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$tmp/hello_exec.js"

measure() { # files... -> "raw gzip brotli"
  local raw=0 gz=0 br=0 f
  for f in "$@"; do
    raw=$((raw + $(wc -c <"$f")))
    gz=$((gz + $(gzip -9 -c "$f" | wc -c)))
    br=$((br + $(brotli -q 11 -c "$f" | wc -c)))
  done
  echo "$raw $gz $br"
}
read -r hr hg hb < <(measure "$tmp/hello.wasm" "$tmp/hello_exec.js")
read -r pr pg pb < <(measure "$dist/pkce.wasm" "$dist/wasm_exec.js" "$dist/pkce-wasm.js" "$dist/pkce-wasm.worker.js")
read -r wr wg wb < <(measure "$dist/pkce.wasm")
printf '%-34s %10s %10s %10s\n' "bytes" "raw" "gzip -9" "brotli -q11"
printf '%-34s %10d %10d %10d\n' "hello-world Go WASM + wasm_exec.js" "$hr" "$hg" "$hb"
printf '%-34s %10d %10d %10d\n' "pkce-wasm: pkce.wasm" "$wr" "$wg" "$wb"
printf '%-34s %10d %10d %10d\n' "pkce-wasm: wasm+exec+loader+worker" "$pr" "$pg" "$pb"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-34s %10s %10s %10s\n' "ratio pkce-wasm / hello" "$(ratio "$pr" "$hr")" "$(ratio "$pg" "$hg")" "$(ratio "$pb" "$hb")"
if awk -v r="$(ratio "$pb" "$hb")" -v m="$max" 'BEGIN { exit !(r > m) }'; then
  echo "size: FAIL: brotli ratio $(ratio "$pb" "$hb") exceeds $max" >&2
  exit 1
fi
echo "size: ok (brotli ratio $(ratio "$pb" "$hb") <= $max)"
