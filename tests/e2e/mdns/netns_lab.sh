#!/usr/bin/env bash
# A small multicast lab for the mdns tests: one bridge and N hosts, each in its own network
# namespace, on 198.51.100.0/24 (RFC 5737 TEST-NET-2) with a multicast route.
#   netns_lab.sh up   <prefix> <hosts>   creates <prefix>-br and <prefix>-h1..hN (198.51.100.1..N)
#   netns_lab.sh down <prefix> <hosts>   deletes them (ignores what is already gone)
# Exits non-zero with the failing command when something cannot be created: tests must fail,
# not skip, when namespaces are unavailable.
set -euo pipefail
cmd=$1 prefix=$2 hosts=$3
br="${prefix}-br"
[ ${#prefix} -le 12 ] || { echo "netns_lab: prefix longer than 12 characters (veth names)" >&2; exit 2; }

down() {
  for i in $(seq 1 "$hosts"); do ip netns del "${prefix}-h$i" 2>/dev/null || true; done
  ip netns del "$br" 2>/dev/null || true
}

if [ "$cmd" = down ]; then down; exit 0; fi
[ "$cmd" = up ] || { echo "usage: $0 up|down prefix hosts" >&2; exit 2; }

trap 'echo "netns_lab: failed: $BASH_COMMAND" >&2; down' ERR
ip netns add "$br"
ip -n "$br" link set lo up
ip -n "$br" link add br0 type bridge
# Snooping off: the bridge floods multicast to every port, like a plain switch.
ip -n "$br" link set br0 type bridge mcast_snooping 0
ip -n "$br" link set br0 up
for i in $(seq 1 "$hosts"); do
  ns="${prefix}-h$i"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # veth names are per namespace, so short fixed names are fine.
  ip link add "${prefix}v$i" type veth peer name "${prefix}p$i"
  ip link set "${prefix}v$i" netns "$ns"
  ip link set "${prefix}p$i" netns "$br"
  ip -n "$ns" link set "${prefix}v$i" name eth0
  ip -n "$ns" addr add "198.51.100.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add 224.0.0.0/4 dev eth0
  ip -n "$br" link set "${prefix}p$i" master br0
  ip -n "$br" link set "${prefix}p$i" up
done
