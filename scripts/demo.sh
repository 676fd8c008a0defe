#!/usr/bin/env bash
# Quick start, first command: on a fresh Debian 12/13 with Node.js 20, installs
# what is missing (compiler for better-sqlite3 and voix's native addons,
# libuv and OpenSSL headers for them, ffmpeg and espeak-ng for the voice prompts,
# npm dependencies), builds voix
# and starts it in the foreground with examples/demo.yaml. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

require_node
install_packages ca-certificates python3 make g++ gcc libuv1-dev libssl-dev ffmpeg espeak-ng
install_node_modules
npm run build
exec node dist/server.js --config examples/demo.yaml
