#!/usr/bin/env bash
# Demo: two ringside sidecars and an echo app on this host, no configuration needed.
#
#   ringside-load ──HTTP──► sidecar a ──gRPC──► sidecar b ──HTTP──► ringside-echo-app
#
# Installs dependencies, builds Release into build/, starts the three processes on free ports
# (sharing a registry file in a temp dir, so the demo never sees other sidecars), waits until a
# can reach b, runs a few thousand invocations through a and prints the summary. Everything it
# started is stopped on exit, also on Ctrl-C or failure.
#
# Environment: DEMO_REQUESTS (default 5000), DEMO_CONNECTIONS (16), DEMO_BODY_SIZE (1024),
# DEMO_SKIP_BUILD=1 to use an existing build/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/build/bin"
REQUESTS=${DEMO_REQUESTS:-5000}
CONNECTIONS=${DEMO_CONNECTIONS:-16}
BODY_SIZE=${DEMO_BODY_SIZE:-1024}

if [ "${DEMO_SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/install-deps.sh
  bash scripts/build.sh
fi
for b in ringsided ringside-echo-app ringside-load; do
  [ -x "$BIN/$b" ] || { echo "demo: $BIN/$b is missing (build failed?)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ringside-demo-XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port that is free right now (the kernel picks it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || shuf -i 20000-45000 -n 1
}

# Waits (bounded) until `curl` on URL gives HTTP status CODE; on failure shows LOG.
wait_for() {
  local url=$1 code=$2 what=$3 log=$4 method=${5:-GET}
  for _ in $(seq 150); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' -X "$method" --max-time 2 "$url" || true)" = "$code" ]; then
      return 0
    fi
    sleep 0.1
  done
  echo "demo: $what not ready after 15 s; last log lines:" >&2
  tail -n 30 "$log" >&2 || true
  exit 1
}

APP_PORT=$(free_port)
A_HTTP=$(free_port); A_GRPC=$(free_port); A_INTERNAL=$(free_port); A_METRICS=$(free_port)
B_HTTP=$(free_port); B_GRPC=$(free_port); B_INTERNAL=$(free_port); B_METRICS=$(free_port)
export RINGSIDE_NR_SQLITE="$WORK/nr.db"

echo "demo: echo app on :$APP_PORT, sidecar b on :$B_HTTP, sidecar a on :$A_HTTP (logs in $WORK)"
"$BIN/ringside-echo-app" --port "$APP_PORT" >"$WORK/app.log" 2>&1 &
PIDS+=($!)
"$BIN/ringsided" --app-id b --app-port "$APP_PORT" --app-protocol http \
  --dapr-http-port "$B_HTTP" --dapr-grpc-port "$B_GRPC" --dapr-internal-grpc-port "$B_INTERNAL" \
  --metrics-port "$B_METRICS" >"$WORK/b.log" 2>&1 &
PIDS+=($!)
"$BIN/ringsided" --app-id a \
  --dapr-http-port "$A_HTTP" --dapr-grpc-port "$A_GRPC" --dapr-internal-grpc-port "$A_INTERNAL" \
  --metrics-port "$A_METRICS" >"$WORK/a.log" 2>&1 &
PIDS+=($!)

wait_for "http://127.0.0.1:$B_HTTP/v1.0/healthz" 204 "sidecar b" "$WORK/b.log"
wait_for "http://127.0.0.1:$A_HTTP/v1.0/healthz" 204 "sidecar a" "$WORK/a.log"
wait_for "http://127.0.0.1:$A_HTTP/v1.0/invoke/b/method/echo" 200 "a -> b invocation" "$WORK/a.log" POST

echo "demo: one call:"
curl -s -i -X POST -H 'Content-Type: text/plain' --data 'hello through two sidecars' \
  "http://127.0.0.1:$A_HTTP/v1.0/invoke/b/method/echo?demo=1"
echo
echo "demo: $REQUESTS invocations, $CONNECTIONS connections, $BODY_SIZE-byte bodies:"
"$BIN/ringside-load" --url "http://127.0.0.1:$A_HTTP/v1.0/invoke/b/method/echo" \
  -n "$REQUESTS" -c "$CONNECTIONS" --body-size "$BODY_SIZE" --timeout 120
