#!/usr/bin/env bash
# Builds voix's native addons for the media workers:
# - src/rtp/native/udp-io.c -> dist/rtp/native/udp-io.node, the relay's UDP
#   sockets (docs/adr/0006), with libuv's headers from Debian (libuv1-dev;
#   libuv keeps its ABI within version 1);
# - src/srtp/native/srtp-crypto.c -> dist/srtp/native/srtp-crypto.node,
#   SRTP's AES-CM and HMAC-SHA1 (docs/adr/0007) with the OpenSSL inside Node,
#   whose version Node exports; the headers come from Debian's libssl-dev
#   (OpenSSL 3 keeps its ABI within version 3).
# Node-API (ABI stable across Node versions) from the node-api-headers package.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ -f /usr/include/uv.h ] || missing+=(libuv1-dev)
[ -f /usr/include/openssl/evp.h ] || missing+=(libssl-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "build-native: missing ${missing[*]} (apt-get install ${missing[*]}); see README.md" >&2
  exit 1
fi
node_openssl=$(node -p 'process.versions.openssl.split(".")[0]')
if [ "$node_openssl" != 3 ]; then
  echo "build-native: this Node carries OpenSSL $node_openssl, the SRTP addon is written for OpenSSL 3" >&2
  exit 1
fi

# build SOURCE OUTPUT: symbols the addon does not define (Node-API, libuv, OpenSSL) come from the node process.
build() {
  mkdir -p "$(dirname "$2")"
  gcc -O2 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
    -I node_modules/node-api-headers/include "$1" -o "$2.tmp"
  mv "$2.tmp" "$2"
}
build src/rtp/native/udp-io.c dist/rtp/native/udp-io.node
build src/srtp/native/srtp-crypto.c dist/srtp/native/srtp-crypto.node
