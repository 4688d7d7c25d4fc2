#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine (as root): installs
# every dependency (apt-get, npm), builds goscope, runs unit, end-to-end,
# fuzz and sanitizer stages. Prints one summary line:
#   goscope tests: N passed, M failed, K skipped
# Extra arguments go to tests/run.sh (--quick, --only PATTERN).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
make -j"$(nproc)"
exec tests/run.sh "$@"
