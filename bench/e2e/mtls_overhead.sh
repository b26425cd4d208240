#!/usr/bin/env bash
# What mTLS between the sidecars costs (issue 10), against the plaintext (h2c) internal hop, on
# the same machine and in the same run:
#
#   plain: ringside-load ──HTTP──► sidecar a ──CallLocal/h2c──► sidecar b ──HTTP──► echo app
#   mtls:  ringside-load ──HTTP──► sidecar a ──CallLocal/TLS──► sidecar b ──HTTP──► echo app
#
# Per request: p50/p99 at one outstanding request, requests/s at CONNECTIONS, and CPU per
# request of a+b (utime+stime from /proc), ROUNDS alternating rounds, medians. Per handshake:
# `openssl s_time -new` opening full mutual-TLS handshakes to b's internal port for HS_SECONDS,
# and b's CPU per handshake, against plain TCP connections to the plaintext b (a Python loop).
# Certificates are made here with the openssl command (P-256, as Dapr's Sentry issues).
# Everything runs on 127.0.0.1 and stops by itself. Needs a Release build (bash scripts/build.sh).
#
# Environment: ROUNDS (3), REQUESTS per round (20000), CONNECTIONS (16), BODY_SIZE (1024),
# SHARDS per sidecar (1), HS_SECONDS (5).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="$PWD/build/bin"
ROUNDS=${ROUNDS:-3}; REQUESTS=${REQUESTS:-20000}; CONNECTIONS=${CONNECTIONS:-16}
BODY_SIZE=${BODY_SIZE:-1024}; SHARDS=${SHARDS:-1}; HS_SECONDS=${HS_SECONDS:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ringside-bench-XXXXXX"); PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# Certificates: one CA, SVIDs for a and b.
ossl() { openssl "$@" >>"$WORK/openssl.log" 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.pem" -days 1 -subj /CN=bench-ca
for app in a b; do
  printf 'subjectAltName=URI:spiffe://public/ns/default/%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$app" >"$WORK/$app.ext"
  ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/$app.key" -out "$WORK/$app.csr" -subj "/CN=$app"
  ossl x509 -req -in "$WORK/$app.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial -days 1 -extfile "$WORK/$app.ext" -out "$WORK/$app.pem"
done
tls_args() { echo --enable-mtls --tls-cert-file "$WORK/$1.pem" --tls-key-file "$WORK/$1.key" --tls-trust-anchors-file "$WORK/ca.pem"; }

APP=$(free_port)
"$BIN/ringside-echo-app" --port "$APP" >"$WORK/app.log" 2>&1 & PIDS+=($!)
declare -A AH BI A B
for mode in plain mtls; do  # one a→b pair per mode, each with its own registry
  AH[$mode]=$(free_port); BI[$mode]=$(free_port)
  extra_a=""; extra_b=""
  if [ "$mode" = mtls ]; then extra_a=$(tls_args a); extra_b=$(tls_args b); fi
  # shellcheck disable=SC2086
  RINGSIDE_NR_SQLITE="$WORK/$mode.db" "$BIN/ringsided" --app-id b --app-port "$APP" --dapr-http-port "$(free_port)" \
    --dapr-grpc-port "$(free_port)" --dapr-internal-grpc-port "${BI[$mode]}" --enable-metrics=false --shards "$SHARDS" \
    $extra_b >"$WORK/b-$mode.log" 2>&1 & B[$mode]=$!; PIDS+=($!)
  # shellcheck disable=SC2086
  RINGSIDE_NR_SQLITE="$WORK/$mode.db" "$BIN/ringsided" --app-id a --dapr-http-port "${AH[$mode]}" --dapr-grpc-port "$(free_port)" \
    --enable-metrics=false --shards "$SHARDS" $extra_a >"$WORK/a-$mode.log" 2>&1 & A[$mode]=$!; PIDS+=($!)
done
for mode in plain mtls; do
  ok=""
  for _ in $(seq 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:${AH[$mode]}/v1.0/invoke/b/method/echo")" = 200 ] && { ok=1; break; }
    sleep 0.1
  done
  [ -n "$ok" ] || { cat "$WORK/a-$mode.log" "$WORK/b-$mode.log" >&2; echo "mtls_overhead: $mode pair never answered" >&2; exit 1; }
  "$BIN/ringside-load" --url "http://127.0.0.1:${AH[$mode]}/v1.0/invoke/b/method/echo" -n 2000 -c "$CONNECTIONS" \
    --body-size "$BODY_SIZE" --method POST >/dev/null  # warm-up
done

# One round of one mode: "p50 p99 rps cpu_us_per_request"
round() {
  local mode=$1 url="http://127.0.0.1:${AH[$1]}/v1.0/invoke/b/method/echo" lat sat a0 b0 a1 b1
  lat=$("$BIN/ringside-load" --url "$url" -n $((REQUESTS / 4)) -c 1 --body-size "$BODY_SIZE" --method POST --timeout 60 |
        awk '/^latency us/ {print $4, $8}')
  a0=$(ticks "${A[$mode]}"); b0=$(ticks "${B[$mode]}")
  sat=$("$BIN/ringside-load" --url "$url" -n "$REQUESTS" -c "$CONNECTIONS" --body-size "$BODY_SIZE" --method POST --timeout 60 |
        awk '/^throughput/ {print $2}')
  a1=$(ticks "${A[$mode]}"); b1=$(ticks "${B[$mode]}")
  awk -v l="$lat" -v s="$sat" -v c=$((a1 - a0 + b1 - b0)) -v n="$REQUESTS" -v hz="$HZ" \
    'BEGIN { printf "%s %s %.1f\n", l, s, c / hz / n * 1e6 }'
}
declare -A R
for r in $(seq "$ROUNDS"); do
  for mode in plain mtls; do R[$mode]+="$(round $mode)"$'\n'; done
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { printf '%s' "${R[$1]}" | awk -v k="$2" 'NF {print $k}' | median; }

echo "rounds $ROUNDS x $REQUESTS requests (latency: $((REQUESTS / 4)) at 1 outstanding), $CONNECTIONS connections, body $BODY_SIZE B, $SHARDS shard(s) per sidecar"
for mode in plain mtls; do
  printf '%-6s p50 %6s us   p99 %6s us   %8s req/s at %s connections   cpu/request a+b %6s us\n' \
    "$mode" "$(col $mode 1)" "$(col $mode 2)" "$(col $mode 3)" "$CONNECTIONS" "$(col $mode 4)"
done
awk -v p50="$(col plain 1)" -v t50="$(col mtls 1)" -v p99="$(col plain 2)" -v t99="$(col mtls 2)" \
    -v prps="$(col plain 3)" -v trps="$(col mtls 3)" -v pc="$(col plain 4)" -v tc="$(col mtls 4)" 'BEGIN {
  printf "mtls added per request: p50 %+d us, p99 %+d us, cpu a+b %+.1f us (%.2fx), throughput %.2fx of plaintext\n",
         t50 - p50, t99 - p99, tc - pc, (pc > 0 ? tc / pc : 0), (prps > 0 ? trps / prps : 0) }'

# Handshakes: full mutual-TLS handshakes to b's internal port, against plain TCP connections.
b0=$(ticks "${B[mtls]}")
hs=$(openssl s_time -connect "127.0.0.1:${BI[mtls]}" -new -cert "$WORK/a.pem" -key "$WORK/a.key" -CAfile "$WORK/ca.pem" \
       -time "$HS_SECONDS" 2>/dev/null | awk '/connections in .* real seconds/ {print $1; exit}')
b1=$(ticks "${B[mtls]}")
p0=$(ticks "${B[plain]}")
plain_conns=$(python3 - "${BI[plain]}" "$HS_SECONDS" <<'PY'
import socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
n, end = 0, time.monotonic() + secs
while time.monotonic() < end:
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(64)  # the server's SETTINGS: the connection was accepted and served
    s.close()
    n += 1
print(n)
PY
)
p1=$(ticks "${B[plain]}")
[ -n "$hs" ] && [ "$hs" -gt 0 ] || { echo "mtls_overhead: openssl s_time made no handshake" >&2; exit 1; }
awk -v n="$hs" -v c=$((b1 - b0)) -v pn="$plain_conns" -v pc=$((p1 - p0)) -v hz="$HZ" -v s="$HS_SECONDS" 'BEGIN {
  printf "handshakes: %d full mTLS handshakes in %ds (%.0f/s with the client on the same host); callee cpu %.0f us per handshake, against %.0f us per plaintext connection (%d connections)\n",
         n, s, n / s, c / hz / n * 1e6, (pn > 0 ? pc / hz / pn * 1e6 : 0), pn }'
