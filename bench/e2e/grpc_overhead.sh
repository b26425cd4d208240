#!/usr/bin/env bash
# Added latency of ringside on the gRPC paths, and streaming throughput, against calling the
# gRPC app directly on the same machine:
#
#   direct:         ringside-grpc-load ──Echo/Unary──► ringside-grpc-echo-app
#   proxied:        ringside-grpc-load ──Echo/Unary + dapr-app-id: b──► sidecar a ──h2c──►
#                   sidecar b ──► app                                  (transparent proxying)
#   InvokeService:  ringside-grpc-load ──Dapr/InvokeService{id: b}──► sidecar a ──CallLocal──►
#                   sidecar b ──AppCallback/OnInvoke──► app
#   stream:         one Echo/ClientStream of STREAM_BYTES in STREAM_MESSAGE messages, direct
#                   and proxied through a and b; MiB/s of one call
#
# Runs ROUNDS alternating rounds of each (alternating evens out a noisy shared machine) and
# prints the median p50/p99 of each path, the added latency and the ratios, then the median
# MiB/s of the streams and their ratio. Everything runs on 127.0.0.1 and stops by itself.
# Needs a Release build in build/ (bash scripts/build.sh), or BIN=<build dir>/bin.
#
# Environment: ROUNDS (5), REQUESTS per round (20000), CONNECTIONS (16; gRPC channels, each its
# own connection), BODY_SIZE (1024), SHARDS per sidecar (1), STREAM_BYTES per stream call
# (64Mi), STREAM_MESSAGE (64Ki), STREAM_CALLS per round (3), BIN (build/bin).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${BIN:-$PWD/build/bin}"
ROUNDS=${ROUNDS:-5}
REQUESTS=${REQUESTS:-20000}
CONNECTIONS=${CONNECTIONS:-16}
BODY_SIZE=${BODY_SIZE:-1024}
SHARDS=${SHARDS:-1}
STREAM_BYTES=${STREAM_BYTES:-64Mi}
STREAM_MESSAGE=${STREAM_MESSAGE:-64Ki}
STREAM_CALLS=${STREAM_CALLS:-3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ringside-bench-XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

APP=$(free_port); AH=$(free_port); AG=$(free_port); BH=$(free_port); BG=$(free_port)
export RINGSIDE_NR_SQLITE="$WORK/nr.db"
"$BIN/ringside-grpc-echo-app" --port "$APP" >"$WORK/app.log" 2>&1 & PIDS+=($!)
"$BIN/ringsided" --app-id b --app-port "$APP" --app-protocol grpc --dapr-http-port "$BH" \
  --dapr-grpc-port "$BG" --enable-metrics=false --shards "$SHARDS" >"$WORK/b.log" 2>&1 & PIDS+=($!)
"$BIN/ringsided" --app-id a --dapr-http-port "$AH" --dapr-grpc-port "$AG" \
  --enable-metrics=false --shards "$SHARDS" >"$WORK/a.log" 2>&1 & PIDS+=($!)
ready=0
for _ in $(seq 100); do  # until a has b in its table and b reaches the app
  if "$BIN/ringside-grpc-load" --target "127.0.0.1:$AG" --app-id b -n 1 --timeout 2 >/dev/null 2>&1; then
    ready=1; break
  fi
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "a cannot reach b's gRPC app; logs:" >&2
  tail -n 20 "$WORK"/*.log >&2
  exit 1
fi

load() {  # ringside-grpc-load flags -> its summary; stops the benchmark if any call failed
  local out
  if ! out=$("$BIN/ringside-grpc-load" "$@" --timeout 120 2>&1); then
    printf 'ringside-grpc-load %s failed:\n%s\n' "$*" "$out" >&2
    tail -n 20 "$WORK"/*.log >&2
    exit 1
  fi
  printf '%s\n' "$out"
}
unary() {  # flags -> "p50 p99" in microseconds
  load "$@" -n "$REQUESTS" -c "$CONNECTIONS" --body-size "$BODY_SIZE" | awk '/^latency us/ {print $4, $8}'
}
stream() {  # flags -> median MiB/s of STREAM_CALLS calls
  load "$@" --mode client-stream -n "$STREAM_CALLS" --total-bytes "$STREAM_BYTES" \
    --message-size "$STREAM_MESSAGE" | awk '/^stream MiB\/s/ {print $3}'
}
direct=(); proxied=(); invoked=(); stream_direct=(); stream_proxied=()
for _ in $(seq "$ROUNDS"); do
  direct+=("$(unary --target "127.0.0.1:$APP" --mode unary)")
  proxied+=("$(unary --target "127.0.0.1:$AG" --mode unary --app-id b)")
  invoked+=("$(unary --target "127.0.0.1:$AG" --mode invoke-service --app-id b)")
done
for _ in $(seq "$ROUNDS"); do
  stream_direct+=("$(stream --target "127.0.0.1:$APP")")
  stream_proxied+=("$(stream --target "127.0.0.1:$AG" --app-id b)")
done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
column_median() { printf '%s\n' "${@:2}" | awk -v c="$1" '{print $c}' | median; }
d50=$(column_median 1 "${direct[@]}"); d99=$(column_median 2 "${direct[@]}")
p50=$(column_median 1 "${proxied[@]}"); p99=$(column_median 2 "${proxied[@]}")
i50=$(column_median 1 "${invoked[@]}"); i99=$(column_median 2 "${invoked[@]}")
sd=$(column_median 1 "${stream_direct[@]}"); sp=$(column_median 1 "${stream_proxied[@]}")
echo "rounds $ROUNDS x $REQUESTS requests, $CONNECTIONS channels, body $BODY_SIZE B, $SHARDS shard(s) per sidecar"
printf '%-36s p50 %6s us   p99 %6s us\n' "direct (gRPC app only)" "$d50" "$d99"
printf '%-36s p50 %6s us   p99 %6s us\n' "proxied (dapr-app-id, two hops)" "$p50" "$p99"
printf '%-36s p50 %6s us   p99 %6s us\n' "InvokeService (two hops, OnInvoke)" "$i50" "$i99"
awk -v d50="$d50" -v d99="$d99" -v p50="$p50" -v p99="$p99" -v i50="$i50" -v i99="$i99" 'BEGIN {
  printf "%-36s p50 %6d us   p99 %6d us\n", "added latency, proxied", p50 - d50, p99 - d99
  printf "%-36s p50 %6d us   p99 %6d us\n", "added latency, InvokeService", i50 - d50, i99 - d99
  printf "%-36s p50 %6.2f      p99 %6.2f\n", "ratio (proxied / direct)", p50 / d50, p99 / d99
  printf "%-36s p50 %6.2f      p99 %6.2f\n", "ratio (InvokeService / direct)", i50 / d50, i99 / d99 }'
echo "client stream: $STREAM_BYTES per call in $STREAM_MESSAGE messages; median over $ROUNDS rounds of each round's median of $STREAM_CALLS calls"
printf '%-36s %8s MiB/s\n' "direct (gRPC app only)" "$sd"
printf '%-36s %8s MiB/s\n' "proxied (dapr-app-id, two hops)" "$sp"
awk -v sd="$sd" -v sp="$sp" 'BEGIN { printf "%-36s %8.2f\n", "ratio (proxied / direct)", sp / sd }'
