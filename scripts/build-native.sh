#!/usr/bin/env bash
# Builds voix's native UDP addon for the media relay (docs/adr/0006):
# src/rtp/native/udp-io.c -> dist/rtp/native/udp-io.node. Node-API (ABI
# stable across Node versions) from the node-api-headers package, libuv's
# headers from Debian (libuv1-dev; libuv keeps its ABI within version 1).
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist/rtp/native/udp-io.node
missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ -f /usr/include/uv.h ] || missing+=(libuv1-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "build-native: missing ${missing[*]} (apt-get install ${missing[*]}); see README.md" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
gcc -O2 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
  -I node_modules/node-api-headers/include \
  src/rtp/native/udp-io.c -o "$out.tmp"
mv "$out.tmp" "$out"
