#!/usr/bin/env bash
# End-to-end accessibility tests (axe-core in headless Chromium) against the built binary.
# Builds nothing: run `cargo build -p server` first (or set KREISHAUS_BIN). Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v chromium >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
export CHROMIUM_BIN="${CHROMIUM_BIN:-$(command -v chromium)}"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
fi

npm ci --no-audit --no-fund

exec node --test --test-reporter=spec
