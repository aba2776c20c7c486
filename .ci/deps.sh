#!/usr/bin/env bash
# Installs what a fresh machine lacks for `make test` / `make demo`: npm dev dependencies (npm ci),
# and Debian's chromium and brotli (apt-get, when running as root). Idempotent and quiet when done.
set -euo pipefail
cd "$(dirname "$0")/.."
need_apt=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v brotli >/dev/null 2>&1 || need_apt+=(brotli)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "deps: installing ${need_apt[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "deps: missing ${need_apt[*]}. Install them, e.g.: sudo apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
fi
command -v node >/dev/null 2>&1 || { echo "deps: Node.js 20+ is required (node not found)" >&2; exit 1; }
# npm ci only when node_modules is missing or older than the lock file.
if [ ! -d js/node_modules ] || [ js/package-lock.json -nt js/node_modules/.package-lock.json ]; then
  echo "deps: npm ci (js/)"
  # npm ci refuses a lock file without every platform's optional packages (rollup ships one per
  # platform); a registry that serves only some of them cannot give a lock that lists all. Then
  # install from the same lock with npm install, which skips unavailable optional packages.
  if ! (cd js && npm ci --no-audit --no-fund --loglevel=error 2>/tmp/pkce-wasm-npm-ci.log); then
    echo "deps: npm ci refused the lock file ($(grep -m1 -o 'Missing: [^ ]*' /tmp/pkce-wasm-npm-ci.log || echo 'see npm log')); using npm install --no-save"
    (cd js && npm install --no-save --no-audit --no-fund --loglevel=error)
  fi
fi
