#!/bin/sh
# dist/build-info.json: the commit dist/ was built from, and whether the
# working tree had changes then, so that a benchmark of dist/server.js names
# what it measured (bench/voix-build.ts), not whatever the tree holds later.
# Outside a git checkout (an install copy without .git, no git installed):
# "unknown".
set -eu
cd "$(dirname "$0")/.."
commit=unknown
modified=false
if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
  commit=$(git rev-parse --short HEAD)
  if [ -n "$(git status --porcelain)" ]; then modified=true; fi
fi
printf '{"commit":"%s","modified":%s}\n' "$commit" "$modified" > dist/build-info.json
