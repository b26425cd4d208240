#!/usr/bin/env bash
# Installs every Debian package ringside needs to build, test and run its demo.
# Idempotent: installs only what is missing; safe to run repeatedly, with or without a tty.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates python3
  liburing-dev libnghttp2-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libabsl-dev libmimalloc-dev libyaml-cpp-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev nlohmann-json3-dev
  etcd-client etcd-server
  libc-ares-dev dnsmasq-base
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  avahi-daemon avahi-utils dbus iproute2 python3-dbus python3-gi
  linux-perf valgrind  # build/bin/ringside-perf (tools/perf, issue 11)
  prometheus  # tests/e2e/prometheus_test.cc scrapes the sidecars with a real Prometheus (issue 11)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
