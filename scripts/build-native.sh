#!/usr/bin/env bash
# Builds the oneDNN addon (native/build/Release/vbn_native.node) for this machine when a C++
# compiler, oneDNN 2.x headers and the Node headers are present; otherwise prints one line saying
# what is missing and exits 1 (vbn then runs on wasm or cpu). Rebuilds only when a source changed.
# The build uses -march=native: it is made where it runs and never packed (package.json "files").
# On x86-64 it leaves AVX-512 out of the base (-mno-avx512f, native/binding.gyp) and chooses its
# AVX-512 kernels at run time (native/src/isa.h), so a build also runs on a CPU without AVX-512.
set -euo pipefail
cd "$(dirname "$0")/../native"
out=build/Release/vbn_native.node
if [ -f "$out" ] && [ -z "$(find src binding.gyp -newer "$out" -print -quit)" ]; then exit 0; fi

# oneDNN's version, from the headers the compiler finds (its own search path, CPATH, and
# pkg-config's flags where oneDNN ships a dnnl.pc). The addon uses the 2.x API (op descriptors).
cxx="${CXX:-c++}"
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "native: no C++ compiler ($cxx; Debian package g++)"; exit 1
fi
read -r -a flags <<<"$(pkg-config --cflags dnnl 2>/dev/null || true)"
version="$(printf '#include <oneapi/dnnl/dnnl_version.h>\nDNNL_VERSION_MAJOR DNNL_VERSION_MINOR\n' |
  "$cxx" -E -P -x c++ "${flags[@]}" - 2>/dev/null | tail -n 1 || true)"
read -r major minor <<<"$version" || true
if ! [[ "${major:-}" =~ ^[0-9]+$ ]]; then
  echo "native: oneDNN headers missing (Debian package libdnnl-dev)"; exit 1
fi
if [ "$major" != 2 ]; then
  echo "native: oneDNN $major.x found, 2.x needed"; exit 1
fi

nodedir="$(npm config get nodedir 2>/dev/null || true)"
args=()
if [ -n "$nodedir" ] && [ "$nodedir" != "undefined" ] && [ -f "$nodedir/include/node/node_api.h" ]; then
  args+=("--nodedir=$nodedir")
elif [ -f /usr/include/node/node_api.h ]; then
  args+=("--nodedir=/usr")
fi
echo "setup: building the native engine (oneDNN $major.$minor addon)"
../node_modules/.bin/node-gyp rebuild "${args[@]}" --jobs 2 --loglevel=error >build.log 2>&1 || {
  echo "native: build failed (see native/build.log)"; tail -5 build.log; exit 1; }
rm -f build.log
