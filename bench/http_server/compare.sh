#!/usr/bin/env bash
# Our kube::HttpServer against the Debian packages cpp-httplib (libcpp-httplib-dev 0.11.4) and
# libmicrohttpd (libmicrohttpd-dev 0.9.75): code size, keep-alive and new-connection request
# rates (one connection at a time), and how much of an endless request head each reads (peak RSS). Needs both packages
# (not in scripts/install-deps.sh: only this comparison uses them). Results: docs/architecture.md.
#
#   bench/http_server/compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
out=$(mktemp -d /tmp/aim-http-compare.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$out"' EXIT
H=bench/http_server
g++ -std=c++20 -O2 -DNDEBUG -I"$ROOT" "$H/server.cpp" kube/http_server.cpp kube/tls_serving.cpp \
  kube/log.cpp -lspdlog -lfmt -lssl -lcrypto -pthread -o "$out/ours"
g++ -std=c++20 -O2 -DNDEBUG -DUSE_HTTPLIB $(pkg-config --cflags cpp-httplib) "$H/server.cpp" \
  $(pkg-config --libs cpp-httplib) -pthread -o "$out/cpp-httplib"
gcc -O2 "$H/server_mhd.c" -lmicrohttpd -o "$out/libmicrohttpd"
g++ -std=c++20 -O2 "$H/client.cpp" -o "$out/client"
# Code size: ours is the text of its two objects (the binary also holds the logger it links);
# the libraries' is the size of their shared object, which the operator image would add.
g++ -std=c++20 -O2 -DNDEBUG -I"$ROOT" -c kube/http_server.cpp -o "$out/http_server.o"
g++ -std=c++20 -O2 -DNDEBUG -I"$ROOT" -c kube/tls_serving.cpp -o "$out/tls_serving.o"
echo "ours: text of http_server.o + tls_serving.o: $(size -t "$out/http_server.o" "$out/tls_serving.o" | awk 'END {print $1}') B"
for impl in cpp-httplib libmicrohttpd; do
  lib=$(ldd "$out/$impl" | awk '/httplib|microhttpd/ {print $3}')
  echo "$impl: $(basename "$lib") text $(size "$lib" | awk 'END {print $1}') B, file $(stat -L -c %s "$lib") B"
done
for impl in ours cpp-httplib libmicrohttpd; do
  "$out/$impl" >"$out/$impl.port" 2>/dev/null &
  pid=$!
  for _ in $(seq 50); do [ -s "$out/$impl.port" ] && break; sleep 0.1; done
  port=$(cat "$out/$impl.port")
  echo "== $impl"
  "$out/client" "$port" keepalive 20000
  "$out/client" "$port" fresh 5000
  timeout 120 "$out/client" "$port" flood 256 || echo "flood: client ended with $?"
  sleep 0.5
  echo "peak RSS $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done
