#!/usr/bin/env bash
# Installs what Tessera and its tests need on a fresh machine (Node + npm present):
# npm dependencies (including the pinned Node 26 from the npm `node` package), and Debian's
# redis-server / redis-tools (the oracle and redis-cli) when absent and running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.setup-stamp ] || [ package-lock.json -nt node_modules/.setup-stamp ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  # tap compiles its plugin set at build time; .taprc drops the ts-node plugin (Node 26 strips
  # types itself), which only takes effect after a rebuild.
  PATH="$PWD/node_modules/.bin:$PATH" tap build >/dev/null
  touch node_modules/.setup-stamp
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1 || ! command -v redis-benchmark >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: apt-get install redis-server redis-tools"
    # Keep the package from starting its own redis on 6379 (it would take Tessera's port).
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq redis-server redis-tools >/dev/null 2>&1 || {
      apt-get update -qq >/dev/null && apt-get install -y -qq redis-server redis-tools >/dev/null
    }
    rm -f /usr/sbin/policy-rc.d
  else
    echo "setup: redis-server/redis-tools missing and not root: tests that need them will be skipped" >&2
  fi
fi
