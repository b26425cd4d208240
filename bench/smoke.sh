#!/usr/bin/env bash
# CI smoke run of every benchmark (scripts/test.sh stage 1): each runs once, briefly, and must
# finish and print its figures; a benchmark that crashes, hangs, fails a request or prints no
# figures fails CI. Timing is never checked (2 shared vCPUs: the figures are noise at this size).
#   1. every micro-benchmark executable declared under bench/ (add_executable): each benchmark
#      function once, with its first arguments, minimal time;
#   2. bench/e2e/*.sh with a few hundred requests (sidecars with 2 shards, the other CI suites
#      mostly run 1);
#   3. bash bench/compare --quick (every contender, HTTP and gRPC) with --json, checked.
# Needs a Release build in build/ (scripts/build.sh). About 1.5 minutes on a 2-vCPU VM.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/build/bin"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ringside-bench-smoke-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "bench smoke: FAILED: $*" >&2; exit 1; }
step() { echo "-- bench smoke: $* ($(date -u +%H:%M:%S))"; }

# 1. Micro-benchmarks (Google Benchmark 1.7: --benchmark_min_time is seconds per benchmark).
mapfile -t micro < <(sed -n 's/^ *add_executable(\([A-Za-z0-9_-]*\).*/\1/p' bench/*/CMakeLists.txt | sort)
[ ${#micro[@]} -gt 0 ] || fail "no add_executable found under bench/*/CMakeLists.txt"
for b in "${micro[@]}"; do
  step "$b"
  [ -x "$BIN/$b" ] || fail "$BIN/$b is not built"
  # Each benchmark function once, with its first arguments: all of bench_lb's cases take
  # 1.5 minutes here (every case builds a 100,000-instance table).
  filter=$("$BIN/$b" --benchmark_list_tests | python3 -c 'import re, sys
first = {}
for name in sys.stdin.read().split():
    first.setdefault(name.split("/")[0], name)
print("^(" + "|".join(re.escape(n) for n in first.values()) + ")$")')
  timeout 120 "$BIN/$b" --benchmark_filter="$filter" --benchmark_min_time=0.001 --benchmark_format=json \
    >"$WORK/$b.json" 2>"$WORK/$b.err" \
    || { rc=$?; cat "$WORK/$b.err" >&2; fail "$b exited $rc"; }
  # Every benchmark listed, none with error_occurred (SkipWithError), at least one.
  rows=$(python3 -c 'import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
bad = [r["name"] + ": " + r.get("error_message", "") for r in runs if r.get("error_occurred")]
print("\n".join(bad), file=sys.stderr)
print(len(runs) if runs and not bad else 0)' "$WORK/$b.json") || rows=0
  [ "$rows" -gt 0 ] || { cat "$WORK/$b.err" >&2; fail "$b reported no benchmark or an error"; }
  echo "   $rows benchmarks ran"
done

# 2. The end-to-end scripts, a few hundred requests each; their figures must be numbers.
expect() {  # file regex what
  grep -Eq "$2" "$1" || { cat "$1" >&2; fail "$3: no line matching /$2/"; }
}
step "bench/e2e/invoke_overhead.sh"
ROUNDS=1 REQUESTS=300 CONNECTIONS=4 SHARDS=2 timeout 120 bash bench/e2e/invoke_overhead.sh >"$WORK/invoke.txt" 2>&1 \
  || { rc=$?; cat "$WORK/invoke.txt" >&2; fail "invoke_overhead.sh exited $rc"; }
expect "$WORK/invoke.txt" '^through two ringside hops +p50 +[0-9]+ us +p99 +[0-9]+ us' invoke_overhead.sh
step "bench/e2e/grpc_overhead.sh"
BIN="$BIN" ROUNDS=1 REQUESTS=300 CONNECTIONS=4 SHARDS=2 STREAM_BYTES=1Mi STREAM_CALLS=1 \
  timeout 120 bash bench/e2e/grpc_overhead.sh >"$WORK/grpc.txt" 2>&1 \
  || { rc=$?; cat "$WORK/grpc.txt" >&2; fail "grpc_overhead.sh exited $rc"; }
expect "$WORK/grpc.txt" '^proxied \(dapr-app-id, two hops\) +p50 +[0-9]+ us' grpc_overhead.sh
expect "$WORK/grpc.txt" '^proxied \(dapr-app-id, two hops\) +[0-9.]+ MiB/s' grpc_overhead.sh
step "bench/e2e/cpu_per_request.sh"
N=500 C=4 SHARDS=2 timeout 120 bash bench/e2e/cpu_per_request.sh "$BIN" >"$WORK/cpu.txt" 2>&1 \
  || { rc=$?; cat "$WORK/cpu.txt" >&2; fail "cpu_per_request.sh exited $rc"; }
expect "$WORK/cpu.txt" 'cpu/request a [0-9.]+ us, b [0-9.]+ us' cpu_per_request.sh
step "bench/e2e/mtls_overhead.sh"
ROUNDS=1 REQUESTS=400 CONNECTIONS=4 HS_SECONDS=1 timeout 120 bash bench/e2e/mtls_overhead.sh >"$WORK/mtls.txt" 2>&1 \
  || { rc=$?; cat "$WORK/mtls.txt" >&2; fail "mtls_overhead.sh exited $rc"; }
expect "$WORK/mtls.txt" '^mtls +p50 +[0-9]+ us +p99 +[0-9]+ us +[0-9]+ req/s' mtls_overhead.sh
expect "$WORK/mtls.txt" '^handshakes: [0-9]+ full mTLS handshakes.*callee cpu [0-9]+ us per handshake' mtls_overhead.sh

# 3. bench/compare --quick: every contender answered and every figure is there.
step "bench/compare --quick"
RINGSIDE_COMPARE_NO_BUILD=1 timeout 180 bash bench/compare --quick --json "$WORK/compare.json" >"$WORK/compare.txt" 2>&1 \
  || { rc=$?; cat "$WORK/compare.txt" >&2; fail "bench/compare --quick exited $rc"; }
cat "$WORK/compare.txt"
python3 bench/compare_tool/check_results.py "$WORK/compare.json" || fail "bench/compare --quick: incomplete results"
step "done"
