#!/usr/bin/env bash
# Installs every Debian package the build and the tests need. Idempotent: a second run that finds
# everything installed does nothing but check.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  libcurl4-openssl-dev libssl-dev zlib1g-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev clang-format ccache
  # the libFuzzer harnesses (fuzz/, scripts/fuzz.sh): clang and its fuzzer/sanitizer runtimes
  clang-14 libclang-rt-14-dev
  jq python3 python3-venv python3-yaml openssl bc util-linux iproute2
  # the local real node (tools/cluster/node.sh) and the image builds (deploy/images/build.sh)
  containerd runc containernetworking-plugins iptables mmdebstrap skopeo
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
python3 -c "import pytest" 2>/dev/null || python3 -m pip install -q pytest
command -v go >/dev/null || { echo "install-deps: Go toolchain not found on PATH (needed for the local control plane)" >&2; exit 1; }
