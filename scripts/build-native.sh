#!/usr/bin/env bash
# Builds the oneDNN addon (native/build/Release/vbn_native.node) when oneDNN and the Node headers
# are present; prints one line and exits non-zero otherwise. Rebuilds only when a source changed.
set -euo pipefail
cd "$(dirname "$0")/../native"
out=build/Release/vbn_native.node
if [ -f "$out" ] && [ -z "$(find src binding.gyp -newer "$out" -print -quit)" ]; then exit 0; fi
if [ ! -f /usr/include/oneapi/dnnl/dnnl.hpp ]; then
  echo "native: oneDNN headers missing (Debian package libdnnl-dev)"; exit 1
fi
nodedir="$(npm config get nodedir 2>/dev/null || true)"
args=()
if [ -n "$nodedir" ] && [ "$nodedir" != "undefined" ] && [ -f "$nodedir/include/node/node_api.h" ]; then
  args+=("--nodedir=$nodedir")
elif [ -f /usr/include/node/node_api.h ]; then
  args+=("--nodedir=/usr")
fi
echo "setup: building the native engine (oneDNN addon)"
../node_modules/.bin/node-gyp rebuild "${args[@]}" --jobs 2 --loglevel=error >build.log 2>&1 || {
  echo "native: build failed (see native/build.log)"; tail -5 build.log; exit 1; }
rm -f build.log
