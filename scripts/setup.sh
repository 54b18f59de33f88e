#!/usr/bin/env bash
# Prepares everything vbn needs on a fresh Debian machine; safe to run again (skips what is done).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: fonts for plot text, oneDNN for the native engine. Optional: without them
# plots have no text and `--backend auto` falls back to wasm.
want=()
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || want+=(fonts-dejavu-core)
dpkg -s libdnnl-dev >/dev/null 2>&1 || want+=(libdnnl-dev)
if ((${#want[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages: ${want[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null) \
      || echo "setup: could not install ${want[*]}; continuing without them"
  else
    echo "setup: missing Debian packages ${want[*]} (run as root to install them); continuing without them"
  fi
fi

# Chromium for the browser tests (test/browser*.test.ts; playwright-core drives /usr/bin/chromium,
# never a downloaded browser). Optional: without it those tests skip unless VBN_REQUIRE_BROWSER=1.
if ! dpkg -s chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian package chromium (browser tests)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "setup: could not install chromium; browser tests will skip"
  else
    echo "setup: missing Debian package chromium (run as root to install it); browser tests will skip"
  fi
fi

# npm packages, exactly as locked.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# TypeScript -> dist/, and the `vbn web` page bundle -> dist/web/page, when any source changed.
if [ ! -f dist/.built ] || [ -n "$(find src tsconfig.json package.json -newer dist/.built -print -quit)" ]; then
  echo "setup: building dist/"
  rm -rf dist
  npx tsc -p tsconfig.json
  node scripts/build-web.mjs
  touch dist/.built
fi

# The native engine (oneDNN addon), when its sources and the library are present.
if [ -f native/binding.gyp ]; then
  # build-native.sh says in one line why it did not build; `--backend auto` then falls back to wasm.
  bash scripts/build-native.sh || true
fi
