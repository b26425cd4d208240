#!/usr/bin/env bash
# The three-cluster lab of examples/multicluster/run.sh and tests/e2e/multicluster: six host
# network namespaces (two per cluster) and a router namespace holding one bridge per cluster.
# RFC 5737 documentation addresses only; the namespaces have no link to the machine's own
# network, so nothing leaves them.
#
#   cluster  subnet              gateway (router)   host 1          host 2
#   east     198.51.100.0/26     198.51.100.1       198.51.100.11   198.51.100.12
#   west     198.51.100.64/26    198.51.100.65      198.51.100.75   198.51.100.76
#   south    203.0.113.0/24      203.0.113.1        203.0.113.11    203.0.113.12
#
#   topology.sh up   <prefix>   creates <prefix>-rt and <prefix>-<cluster><n> (e.g. mc42-east1)
#   topology.sh down <prefix>   deletes them (ignores what is already gone)
#   topology.sh addr <cluster> <n>   prints a host's address (for scripts)
# Needs root (ip netns). Exits non-zero naming the failing command when something cannot be
# created, after removing what it made: tests must fail, not skip, without namespaces.
set -euo pipefail
clusters=(east west south)

gateway() { case $1 in east) echo 198.51.100.1/26 ;; west) echo 198.51.100.65/26 ;; south) echo 203.0.113.1/24 ;; esac; }
addr() {
  case $1 in
    east) echo "198.51.100.$((10 + $2))" ;;
    west) echo "198.51.100.$((74 + $2))" ;;
    south) echo "203.0.113.$((10 + $2))" ;;
    *) echo "topology: unknown cluster $1" >&2; return 2 ;;
  esac
}
prefix_len() { case $1 in east|west) echo 26 ;; south) echo 24 ;; esac; }

cmd=${1:-}
if [ "$cmd" = addr ]; then addr "$2" "$3"; exit 0; fi
prefix=${2:-}
[ -n "$prefix" ] || { echo "usage: $0 up|down <prefix> | addr <cluster> <n>" >&2; exit 2; }
# veth names are at most 15 characters: <prefix>v<c><n> must fit.
[ ${#prefix} -le 10 ] || { echo "topology: prefix longer than 10 characters (veth names)" >&2; exit 2; }
rt="${prefix}-rt"

down() {
  for c in "${clusters[@]}"; do
    for n in 1 2; do ip netns del "${prefix}-${c}${n}" 2>/dev/null || true; done
  done
  ip netns del "$rt" 2>/dev/null || true
}

if [ "$cmd" = down ]; then down; exit 0; fi
[ "$cmd" = up ] || { echo "usage: $0 up|down <prefix> | addr <cluster> <n>" >&2; exit 2; }

trap 'echo "topology: failed: $BASH_COMMAND" >&2; down' ERR
ip netns add "$rt"
ip -n "$rt" link set lo up
# The router forwards between the three cluster bridges (and nowhere else: it has no other link).
ip netns exec "$rt" sysctl -qw net.ipv4.ip_forward=1
for c in "${clusters[@]}"; do
  br="br-$c"
  ip -n "$rt" link add "$br" type bridge
  ip -n "$rt" addr add "$(gateway "$c")" dev "$br"
  ip -n "$rt" link set "$br" up
  gw=$(gateway "$c"); gw=${gw%/*}
  for n in 1 2; do
    ns="${prefix}-${c}${n}"
    v="${prefix}v${c:0:1}${n}" p="${prefix}p${c:0:1}${n}"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "$v" type veth peer name "$p"
    ip link set "$v" netns "$ns"
    ip link set "$p" netns "$rt"
    ip -n "$ns" link set "$v" name eth0
    ip -n "$ns" addr add "$(addr "$c" "$n")/$(prefix_len "$c")" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "$gw"
    ip -n "$rt" link set "$p" master "$br"
    ip -n "$rt" link set "$p" up
  done
done
