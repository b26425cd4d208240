#!/usr/bin/env bash
# The test command (README, CI): installs dependencies, builds Release into build/, runs every
# test registered with CTest (unit and e2e; fuzz and sanitizer builds are added here later).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2
