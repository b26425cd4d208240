#!/usr/bin/env bash
# CPU time per forwarded request of the two sidecars (utime + stime from /proc/<pid>/stat),
# client ──HTTP──► sidecar a ──CallLocal/h2c──► sidecar b ──HTTP──► echo app, after a warm-up:
# the figure that shows whether a change added work on the request path, independent of how
# busy the (shared) machine is. Everything runs on 127.0.0.1 and stops by itself.
#
# Usage: bench/e2e/cpu_per_request.sh [BIN dir] (default build/bin). Environment: N requests
# (60000), C connections (16), BODY_SIZE (1024), SHARDS per sidecar (1).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-$PWD/build/bin}; N=${N:-60000}; C=${C:-16}; BODY_SIZE=${BODY_SIZE:-1024}; SHARDS=${SHARDS:-1}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ringside-bench-XXXXXX"); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM $p 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait $p 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
fp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
APP=$(fp); AH=$(fp); AG=$(fp); BH=$(fp); BG=$(fp)
export RINGSIDE_NR_SQLITE="$WORK/nr.db"
"$BIN/ringside-echo-app" --port $APP >/dev/null 2>&1 & PIDS+=($!)
"$BIN/ringsided" --app-id b --app-port $APP --dapr-http-port $BH --dapr-grpc-port $BG --enable-metrics=false --shards "$SHARDS" >/dev/null 2>&1 & B=$!; PIDS+=($B)
"$BIN/ringsided" --app-id a --dapr-http-port $AH --dapr-grpc-port $AG --enable-metrics=false --shards "$SHARDS" >/dev/null 2>&1 & A=$!; PIDS+=($A)
for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$AH/v1.0/invoke/b/method/echo)" = 200 ] && break; sleep 0.1; done
"$BIN/ringside-load" --url http://127.0.0.1:$AH/v1.0/invoke/b/method/echo -n 5000 -c $C --body-size "$BODY_SIZE" --method POST >/dev/null
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
a0=$(ticks $A); b0=$(ticks $B)
"$BIN/ringside-load" --url http://127.0.0.1:$AH/v1.0/invoke/b/method/echo -n $N -c $C --body-size "$BODY_SIZE" --method POST | grep -E '^requests|^latency' | tr '\n' ' '
a1=$(ticks $A); b1=$(ticks $B)
hz=$(getconf CLK_TCK)
awk -v a=$((a1-a0)) -v b=$((b1-b0)) -v n=$N -v hz=$hz 'BEGIN { printf " cpu/request a %.1f us, b %.1f us, a+b %.1f us\n", a/hz/n*1e6, b/hz/n*1e6, (a+b)/hz/n*1e6 }'
