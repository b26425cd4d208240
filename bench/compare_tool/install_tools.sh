#!/usr/bin/env bash
# Installs what bench/compare drives and compares against, from Debian, if missing: haproxy,
# nginx (nginx-light), wrk, h2load (nghttp2-client), perf (linux-perf, for the io_uring
# tracepoint counts). Idempotent. Installing nginx or haproxy must not leave a system service
# running on port 80: while installing, a policy-rc.d (only if the host has none) tells the
# package scripts not to start services, and it is removed afterwards.
set -euo pipefail
declare -A tool_package=([haproxy]=haproxy [nginx]=nginx-light [wrk]=wrk [h2load]=nghttp2-client [perf]=linux-perf)
missing=()
for tool in "${!tool_package[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${tool_package[$tool]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
policy=/usr/sbin/policy-rc.d
placed_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  placed_policy=1
fi
remove_policy() { if [ "$placed_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap remove_policy EXIT
echo "bench/compare: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
