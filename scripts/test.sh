#!/usr/bin/env bash
# Quick start, second command (and what CI runs): installs the test peers
# from Debian (baresip, SIPp, tshark, sipsak, sipvicious, openssl, Linphone's
# console client, libsrtp2 and gcc for the SRTP cross-check, gcc, libuv's and
# OpenSSL's headers for voix's native addons, iproute2 and
# nftables for the NAT case, ffmpeg and espeak-ng for the voice prompts,
# mmdebstrap for the deployment cases' Debian 12 root file system and the
# Asterisk 22 one of DOC-ASTERISK-01, procps for pgrep/pkill around Asterisk, sqlite3 for the backup
# and restore case), the npm dependencies, builds voix, type-checks, runs every
# test (unit, integration, end-to-end against real peers) and regenerates
# docs/plan-de-test.md from the end-to-end results.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

require_node
install_packages ca-certificates python3 make g++ iproute2 nftables openssl \
  baresip sip-tester tshark sipsak sipvicious linphone-cli gcc libsrtp2-dev libuv1-dev libssl-dev \
  ffmpeg espeak-ng mmdebstrap procps sqlite3
install_node_modules
npm run build
npm run typecheck

mkdir -p test/results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test/results/vitest.json || status=$?
# The plan shows this run's results, failures included.
npx tsx scripts/generate-test-plan.ts --report test/results/vitest.json || status=$?
exit "$status"
