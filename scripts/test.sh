#!/usr/bin/env bash
# The test command (README, CI). On a fresh Debian 12 machine it installs what is missing, then:
#   1. Release build (build/): every unit and end-to-end test; every benchmark once (bench/smoke.sh).
#   2. ASan+UBSan build (build-asan/): every unit test and the end-to-end suite again (one shard
#      per sidecar; stage 1 runs the suite with one and with two), so the
#      parsers, codecs, I/O layer and the sidecar itself run under the sanitizers.
#   3. TSan build (build-tsan/): the snapshot publication/reclamation churn, the control loop and
#      the DNS client's thread, the consul resolver's worker thread and the sync subscriber.
#   4. libFuzzer build (build-fuzz/, clang): every fuzz target for a bounded run.
# Set RINGSIDE_QUICK=1 to run only stage 1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs="$(nproc)"

echo "== stage 1: Release build, unit + e2e tests ($(date -u +%H:%M:%S))"
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2
# Every benchmark once, briefly (bench/smoke.sh, ~1.5 min): fails when one breaks, never on timing.
timeout 300 bash bench/smoke.sh
[ "${RINGSIDE_QUICK:-0}" = 1 ] && exit 0

echo "== stage 2: ASan+UBSan build, unit + e2e tests ($(date -u +%H:%M:%S))"
# The sanitizer presets compile at -O1 -g1 (line tables: enough for sanitizer stack traces): a
# sanitized TU at -O2 -g took about twice as long to compile, and the ASan build is the largest
# single cost of a CI run on a fresh clone.
cmake --preset asan >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2 -E '^shards2[.]'

echo "== stage 3: TSan build, snapshot churn and control-plane loop ($(date -u +%H:%M:%S))"
# Debian's gRPC and Abseil are not TSan-instrumented: their internals are suppressed (see the file).
tsan_options="halt_on_error=1 suppressions=$PWD/tools/sanitizers/tsan.supp"
cmake --preset tsan >/dev/null
cmake --build build-tsan -j"$jobs" --target controlplane_snapshot_test controlplane_loop_test \
  dns_host_resolver_test dns_resolvers_test consul_resolver_double_test external_resolver_test
TSAN_OPTIONS="$tsan_options" build-tsan/bin/controlplane_snapshot_test
TSAN_OPTIONS="$tsan_options" build-tsan/bin/controlplane_loop_test
# The DNS client's thread against callers and resolvers (real dnsmasq).
TSAN_OPTIONS="$tsan_options" build-tsan/bin/dns_host_resolver_test
TSAN_OPTIONS="$tsan_options" build-tsan/bin/dns_resolvers_test
TSAN_OPTIONS="$tsan_options" build-tsan/bin/consul_resolver_double_test  # resolver worker vs control thread
# The sync subscriber's gRPC thread feeding the control thread (publish_external).
TSAN_OPTIONS="$tsan_options" build-tsan/bin/external_resolver_test

echo "== stage 4: libFuzzer targets (bounded runs) ($(date -u +%H:%M:%S))"
cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j"$jobs"
ctest --test-dir build-fuzz --output-on-failure -j2
