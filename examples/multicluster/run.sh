#!/usr/bin/env bash
# The multi-cluster demo (docs/multicluster.md): three clusters of two hosts each, in network
# namespaces on this machine (topology.sh), every host with a ringsided in front of an echo app
# that answers with its host and cluster; east and west keep their registry in etcd, south in
# one SQLite file its two hosts share; each cluster runs a ringside-sync peered with the other
# two. Callers in east (one per cluster strategy) then make a few calls each to app `b` and the
# script shows which instances answered; finally every `b` of east is killed and the
# local-first caller's calls move to the other clusters.
#
#   sudo examples/multicluster/run.sh          (root: it creates network namespaces)
#
# Environment: MC_CALLS (calls per strategy, default 12), RINGSIDE_BIN (default build/bin),
# MC_KEEP=1 to keep everything running until Enter is pressed (then it cleans up).
# Everything it starts is stopped, and the namespaces removed, on exit, Ctrl-C or failure.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${RINGSIDE_BIN:-$ROOT/build/bin}
CALLS=${MC_CALLS:-12}
TOKEN=demo-token
CLUSTERS=(east west south)

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (it creates network namespaces)" >&2; exit 1; }
for b in ringsided ringside-echo-app ringside-sync; do
  [ -x "$BIN/$b" ] || { echo "run.sh: $BIN/$b is missing (build first: scripts/build.sh)" >&2; exit 1; }
done
for tool in etcd etcdctl curl ip; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed (scripts/install-deps.sh)" >&2; exit 1; }
done

PREFIX="mcd$(($$ % 100000))"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ringside-multicluster-XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  bash "$HERE/topology.sh" down "$PREFIX"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

addr() { bash "$HERE/topology.sh" addr "$1" "$2"; }
# spawn <cluster><n> <log name> <command...>: runs it in that host's namespace, in the background.
# (`ip netns exec` execs the command, so $! is the program's own pid.)
spawn() {
  local host=$1 log=$2
  shift 2
  ip netns exec "$PREFIX-$host" "$@" >"$WORK/$log.log" 2>&1 &
  PIDS+=($!)
  eval "PID_${log//-/_}=$!"
}
in_host() { local host=$1; shift; ip netns exec "$PREFIX-$host" "$@"; }
# wait_for <host> <what> <log> <command...>: retries the command (in that host) for up to 20 s.
wait_for() {
  local host=$1 what=$2 log=$3
  shift 3
  for _ in $(seq 200); do
    if in_host "$host" "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "run.sh: $what not ready after 20 s; last log lines:" >&2
  tail -n 30 "$WORK/$log.log" >&2 || true
  exit 1
}

# The registry of a cluster, as a nameResolution block (indent = $2).
name_resolution() {
  local c=$1 i=$2
  if [ "$c" = south ]; then
    printf '%snameResolution:\n%s  component: sqlite\n%s  configuration: {connectionString: %s, updateInterval: 3s, timeout: 1s}\n' \
      "$i" "$i" "$i" "$WORK/south-registry.db"
  else
    printf '%snameResolution:\n%s  component: etcd\n%s  configuration: {endpoints: ["%s:2379"], leaseTTL: 2s}\n' \
      "$i" "$i" "$i" "$(addr "$c" 1)"
  fi
}

echo "== network: three clusters x two hosts in namespaces $PREFIX-* (topology.sh)"
bash "$HERE/topology.sh" up "$PREFIX"
for c in "${CLUSTERS[@]}"; do echo "   $c: $(addr "$c" 1), $(addr "$c" 2)"; done

echo "== registries: etcd in east1 and west1, SQLite for south"
for c in east west; do
  url="http://$(addr "$c" 1):2379"
  spawn "${c}1" "etcd-$c" etcd --name "$c" --data-dir "$WORK/etcd-$c" --listen-client-urls "$url" \
    --advertise-client-urls "$url" --listen-peer-urls http://127.0.0.1:2380 \
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster "$c=http://127.0.0.1:2380" --log-level warn
  wait_for "${c}1" "etcd of $c" "etcd-$c" env ETCDCTL_API=3 etcdctl --endpoints="$(addr "$c" 1):2379" endpoint health
done

echo "== synchronizers: one ringside-sync per cluster on host 1, peered with the other two"
for c in "${CLUSTERS[@]}"; do
  {
    printf 'cluster: %s\nlisten: 0.0.0.0:50070\nmetricsPort: 9170\nsubscriberToken: %s\n' "$c" "$TOKEN"
    printf 'heartbeatInterval: 1s\nexportTtl: 3s\n'
    name_resolution "$c" ""
    echo "peers:"
    for p in "${CLUSTERS[@]}"; do
      [ "$p" = "$c" ] && continue
      printf '  - {cluster: %s, addresses: ["%s:50070"], token: %s}\n' "$p" "$(addr "$p" 1)" "$TOKEN"
    done
  } >"$WORK/sync-$c.yaml"
  spawn "${c}1" "sync-$c" "$BIN/ringside-sync" --config "$WORK/sync-$c.yaml"
done
for c in "${CLUSTERS[@]}"; do
  wait_for "${c}1" "ringside-sync of $c" "sync-$c" curl -sf --max-time 1 http://127.0.0.1:9170/healthz
done

# A sidecar Configuration for cluster $1 with default strategy $2.
sidecar_config() {
  local c=$1 s=$2 f="$WORK/config-$1-$2.yaml"
  {
    printf 'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: ringside}\nspec:\n'
    name_resolution "$c" "  "
    printf '  ringside:\n    multiCluster:\n      cluster: %s\n      synchronizers: ["%s:50070"]\n' "$c" "$(addr "$c" 1)"
    printf '      token: %s\n      strategy: %s\n' "$TOKEN" "$s"
  } >"$f"
  echo "$f"
}

echo "== hosts: an echo app (named <cluster>-h<n>) and a ringsided with app id b on each"
for c in "${CLUSTERS[@]}"; do
  for n in 1 2; do
    spawn "$c$n" "app-$c$n" "$BIN/ringside-echo-app" --port 8080 --name "$c-h$n"
    spawn "$c$n" "b-$c$n" env DAPR_HOST_IP="$(addr "$c" "$n")" "$BIN/ringsided" --app-id b --app-port 8080 \
      --dapr-http-port 3500 --dapr-grpc-port 50001 --dapr-internal-grpc-port 50002 --metrics-port 9090 \
      --config "$(sidecar_config "$c" local-first)"
  done
done
for c in "${CLUSTERS[@]}"; do
  for n in 1 2; do
    wait_for "$c$n" "sidecar b in $c$n" "b-$c$n" curl -sf --max-time 1 http://127.0.0.1:3500/v1.0/healthz
  done
done

echo "== callers in east1: app id a-<strategy>, one per cluster strategy"
STRATEGIES=(local-first external-first local-only external-only broadcast)
port=3601
for s in "${STRATEGIES[@]}"; do
  spawn east1 "a-$s" env DAPR_HOST_IP="$(addr east 1)" "$BIN/ringsided" --app-id "a-$s" --dapr-http-port "$port" \
    --dapr-grpc-port $((port + 47000)) --dapr-internal-grpc-port $((port + 47100)) --metrics-port $((port + 5000)) \
    --config "$(sidecar_config east "$s")"
  wait_for east1 "caller a-$s" "a-$s" curl -sf --max-time 1 "http://127.0.0.1:$port/v1.0/healthz"
  port=$((port + 1))
done
caller_port() { local i=0; for s in "${STRATEGIES[@]}"; do [ "$s" = "$1" ] && { echo $((3601 + i)); return; }; i=$((i + 1)); done; }
# Until the external-only caller reaches b, the synchronizers have not exchanged tables yet.
wait_for east1 "the first cross-cluster call" "a-external-only" \
  curl -sf --max-time 2 -X POST "http://127.0.0.1:$(caller_port external-only)/v1.0/invoke/b/method/whoami"

# show <strategy>: CALLS calls through that caller; prints how many each instance answered.
show() {
  local s=$1 p
  p=$(caller_port "$s")
  printf '\n-- %s: %d calls from east1 (POST /v1.0/invoke/b/method/whoami)\n' "$s" "$CALLS"
  for _ in $(seq "$CALLS"); do
    in_host east1 curl -s --max-time 5 -X POST "http://127.0.0.1:$p/v1.0/invoke/b/method/whoami" || echo "(failed)"
    echo
  done | sort | uniq -c | sed 's/^/   /'
}
for s in local-first external-first local-only external-only; do show "$s"; done
printf '\n-- broadcast: one call, every instance of every cluster receives it; one answer comes back\n'
in_host east1 curl -s -D - --max-time 5 -X POST \
  "http://127.0.0.1:$(caller_port broadcast)/v1.0/invoke/b/method/whoami" | grep -i -E '^ringside-broadcast|^[a-z]+-h[12]' | sed 's/^/   /'
echo
printf '   requests each app has served so far: '
for c in "${CLUSTERS[@]}"; do for n in 1 2; do printf '%s-h%s=%s ' "$c" "$n" "$(in_host "$c$n" curl -s http://127.0.0.1:8080/served)"; done; done
echo

printf '\n== failover: both b sidecars of east killed; local-first now answers from the other clusters\n'
kill -KILL "$PID_b_east1" "$PID_b_east2"
show local-first
show local-only

if [ "${MC_KEEP:-0}" = 1 ]; then
  echo
  echo "Everything keeps running (logs in $WORK). Try: ip netns exec $PREFIX-west1 curl -X POST http://127.0.0.1:3500/v1.0/invoke/b/method/whoami"
  read -r -p "Press Enter to stop and clean up. " _
fi
