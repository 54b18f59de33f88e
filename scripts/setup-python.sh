#!/usr/bin/env bash
# Prepares the project's Python environment (.venv/, git-ignored) for `vbn check` on Python
# implementations and the tests that use real frameworks; safe to run again (reuses the environment
# while the stamp file lists the same requirements). Without a reachable package index it says so in
# one line and exits 0: the Python tests then skip (unless VBN_REQUIRE_PYTHON=1).
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned, so that a clean clone tests against the same peers (torch's CPU build: 2.13.0+cpu).
REQUIREMENTS="numpy==2.4.6 torch==2.13.0 tensorflow-cpu==2.21.0 jax[cpu]==0.10.2 onnx==1.23.1 onnxruntime==1.30.0"
VENV=.venv
STAMP=$VENV/.vbn-requirements

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQUIREMENTS" ]; then
  exit 0
fi
PYTHON=${VBN_SETUP_PYTHON:-python3}
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "setup-python: no $PYTHON on PATH; skipping the Python environment"
  exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-python: creating $VENV"
  "$PYTHON" -m venv "$VENV" || {
    echo "setup-python: could not create $VENV; skipping the Python environment"
    rm -rf "$VENV"
    exit 0
  }
fi
echo "setup-python: installing $REQUIREMENTS into $VENV"
# shellcheck disable=SC2086 # the requirement list is split on purpose
if "$VENV/bin/pip" install --quiet --retries 0 --disable-pip-version-check $REQUIREMENTS >"$VENV/pip.log" 2>&1; then
  echo "$REQUIREMENTS" >"$STAMP"
else
  echo "setup-python: pip could not install the requirements (no reachable package index?); Python tests will skip; see $VENV/pip.log"
fi
exit 0
