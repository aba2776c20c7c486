#!/usr/bin/env bash
# Installs what a fresh machine lacks for `make test` / `make demo`: npm dev dependencies (npm ci),
# brotli and the browsers of the e2e suite from Debian (apt-get, when running as root): chromium,
# firefox-esr, and for WebKit webkit2gtk-driver (WebKitWebDriver + MiniBrowser) with xvfb (xvfb-run).
# BROWSERS (comma list, default chromium,firefox,webkit) limits the browsers installed to the ones
# that will run. Idempotent and quiet when done. No browser is downloaded from anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."
need_apt=()
browsers=",${BROWSERS:-chromium,firefox,webkit},"
browsers=${browsers// /}
for b in ${browsers//,/ }; do
  case "$b" in
    chromium|firefox|webkit) ;;
    *) echo "deps: unknown browser '$b' in BROWSERS (known: chromium, firefox, webkit)" >&2; exit 1 ;;
  esac
done
# The Chromium-only test files (those on js/test/playwright-harness.mjs) run only when BROWSERS names chromium.
if [[ $browsers == *,chromium,* ]]; then
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need_apt+=(chromium)
fi
if [[ $browsers == *,firefox,* ]]; then
  command -v firefox-esr >/dev/null 2>&1 || [ -x /usr/bin/firefox-esr ] || need_apt+=(firefox-esr)
fi
if [[ $browsers == *,webkit,* ]]; then
  command -v WebKitWebDriver >/dev/null 2>&1 || need_apt+=(webkit2gtk-driver)
  command -v xvfb-run >/dev/null 2>&1 || need_apt+=(xvfb)
fi
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
