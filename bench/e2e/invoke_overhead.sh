#!/usr/bin/env bash
# Added latency of ringside on the invoke path, against the physical floor on the same machine:
#
#   direct:   ringside-load ──HTTP──► ringside-echo-app
#   ringside: ringside-load ──HTTP──► sidecar a ──CallLocal/h2c──► sidecar b ──HTTP──► app
#
# Runs ROUNDS alternating rounds of each (alternating evens out a noisy shared machine) and
# prints the median p50/p99 of each path, the added latency and the ratio. Everything runs on
# 127.0.0.1 and stops by itself. Needs a Release build in build/ (bash scripts/build.sh).
#
# Environment: ROUNDS (5), REQUESTS per round (20000), CONNECTIONS (16), BODY_SIZE (1024),
# SHARDS per sidecar (1).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="$PWD/build/bin"
ROUNDS=${ROUNDS:-5}
REQUESTS=${REQUESTS:-20000}
CONNECTIONS=${CONNECTIONS:-16}
BODY_SIZE=${BODY_SIZE:-1024}
SHARDS=${SHARDS:-1}
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
"$BIN/ringside-echo-app" --port "$APP" >"$WORK/app.log" 2>&1 & PIDS+=($!)
"$BIN/ringsided" --app-id b --app-port "$APP" --dapr-http-port "$BH" --dapr-grpc-port "$BG" \
  --enable-metrics=false --shards "$SHARDS" >"$WORK/b.log" 2>&1 & PIDS+=($!)
"$BIN/ringsided" --app-id a --dapr-http-port "$AH" --dapr-grpc-port "$AG" \
  --enable-metrics=false --shards "$SHARDS" >"$WORK/a.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AH/v1.0/invoke/b/method/echo")" = 200 ] && break
  sleep 0.1
done

run() {  # url -> "p50 p99" in microseconds
  "$BIN/ringside-load" --url "$1" -n "$REQUESTS" -c "$CONNECTIONS" --body-size "$BODY_SIZE" \
    --method POST --timeout 60 | awk '/^latency us/ {print $4, $8}'
}
direct=(); sidecar=()
for r in $(seq "$ROUNDS"); do
  direct+=("$(run "http://127.0.0.1:$APP/echo")")
  sidecar+=("$(run "http://127.0.0.1:$AH/v1.0/invoke/b/method/echo")")
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
d50=$(printf '%s\n' "${direct[@]}" | awk '{print $1}' | median)
d99=$(printf '%s\n' "${direct[@]}" | awk '{print $2}' | median)
s50=$(printf '%s\n' "${sidecar[@]}" | awk '{print $1}' | median)
s99=$(printf '%s\n' "${sidecar[@]}" | awk '{print $2}' | median)
echo "rounds $ROUNDS x $REQUESTS requests, $CONNECTIONS connections, body $BODY_SIZE B, $SHARDS shard(s) per sidecar"
printf '%-28s p50 %6s us   p99 %6s us\n' "direct (app only)" "$d50" "$d99"
printf '%-28s p50 %6s us   p99 %6s us\n' "through two ringside hops" "$s50" "$s99"
awk -v d50="$d50" -v d99="$d99" -v s50="$s50" -v s99="$s99" 'BEGIN {
  printf "added latency               p50 %6d us   p99 %6d us\n", s50 - d50, s99 - d99
  printf "ratio (sidecars / direct)   p50 %6.2f      p99 %6.2f\n", s50 / d50, s99 / d99 }'
