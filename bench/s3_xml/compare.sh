#!/usr/bin/env bash
# Our ListObjectsV2 reader (fetch/s3_xml.cpp) against pugixml (libpugixml-dev 1.13) and tinyxml2
# (libtinyxml2-dev 9.0): what each reads from awkward documents and from the S3 test server's
# real answers (test/servers/s3, gofakes3: keys with &, <, quotes, tab, newline, U+1F600), the
# time to read a 1000-key page, and code size. Needs both packages (not in
# scripts/install-deps.sh: only this comparison uses them) and Go. Results: docs/architecture.md.
#
#   bench/s3_xml/compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
out=$(mktemp -d /tmp/aim-s3xml-compare.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$out"' EXIT
B=bench/s3_xml
g++ -std=c++20 -O2 -DNDEBUG -I"$ROOT" "$B/compare.cpp" fetch/s3_xml.cpp -lpugixml -ltinyxml2 \
  -o "$out/compare"
(cd test/servers/s3 && go build -o "$out/s3server" .)
mkdir -p "$out/seed/models/m" "$out/data"
for n in 'a&b.txt' '<x>.bin' 'quote"s.txt' "apos's" 'emoji-😀.bin' 'é.txt' $'tab\there' \
  $'nl\nhere' ' lead'; do
  printf 'hello' >"$out/seed/models/m/$n"
done
"$out/s3server" -data "$out/data" -seed "$out/seed" -allow-anonymous >"$out/s3.out" 2>&1 &
for _ in $(seq 50); do grep -q READY "$out/s3.out" && break; sleep 0.1; done
port=$(awk '/READY/ {print $2}' "$out/s3.out")
curl -fsS "http://127.0.0.1:$port/models?list-type=2&prefix=m/" >"$out/gofakes3-listing.xml"
"$out/compare" "$out/gofakes3-listing.xml" | sed "s|$out/||"
# Code size: ours is the text of s3_xml.o; the libraries' is their shared object, which the
# image would add (the few lines of DOM walking that would replace ours are not counted).
g++ -std=c++20 -O2 -DNDEBUG -I"$ROOT" -c fetch/s3_xml.cpp -o "$out/s3_xml.o"
echo
echo "ours: text of s3_xml.o: $(size "$out/s3_xml.o" | awk 'END {print $1}') B"
for lib in pugixml tinyxml2; do
  so=$(ldd "$out/compare" | awk -v l="lib$lib" '$1 ~ l {print $3}')
  echo "$lib: $(basename "$(readlink -f "$so")") text $(size "$so" | awk 'END {print $1}') B"
done
