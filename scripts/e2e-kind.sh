#!/usr/bin/env bash
# npm run e2e:kind: the e2e cases against a kind cluster, for users with Docker (kind cannot run on the
# machine weft is developed on: its sandbox refuses privileged containers, so this script was not run there).
# Creates the cluster from kind-config.yaml (named "weft": nodes weft-control-plane, weft-worker, weft-worker2),
# builds and loads the weft:dev image, installs weft exactly as a user does (kubectl apply -k deploy/),
# loads the e2e images, runs test/e2e with KUBECONFIG pointing at the cluster, and deletes the cluster
# unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in kind docker kubectl; do
  command -v "$tool" >/dev/null || { echo "e2e:kind: \"$tool\" is not installed" >&2; exit 1; }
done
bash scripts/install-deps.sh
export PATH="$PWD/node_modules/.bin:$PATH"
cluster=weft
kubeconfig="$(mktemp)"
trap '[ "${KEEP:-0}" = 1 ] || kind delete cluster --name "$cluster"; rm -f "$kubeconfig"' EXIT

echo "[e2e:kind] kind create cluster --config kind-config.yaml"
kind create cluster --config kind-config.yaml --kubeconfig "$kubeconfig" --wait 0s
echo "[e2e:kind] building weft:dev"
node build/build.ts
docker build -f build/Dockerfile -t weft:dev .
kind load docker-image weft:dev --name "$cluster"
# The e2e cases use the upstream agnhost image (kind nodes pull it from registry.k8s.io when online).
docker pull registry.k8s.io/e2e-test-images/agnhost:2.56
kind load docker-image registry.k8s.io/e2e-test-images/agnhost:2.56 --name "$cluster"

echo "[e2e:kind] kubectl apply -k deploy/"
kubectl --kubeconfig "$kubeconfig" apply -k deploy/
kubectl --kubeconfig "$kubeconfig" -n weft-system rollout status daemonset/weft-node daemonset/weft-proxy --timeout=300s
kubectl --kubeconfig "$kubeconfig" wait --for=condition=Ready nodes --all --timeout=300s
kubectl --kubeconfig "$kubeconfig" -n kube-system rollout status deployment/coredns --timeout=300s

echo "[e2e:kind] vitest --project e2e"
KUBECONFIG="$kubeconfig" WEFT_E2E_KIND="$cluster" vitest run --project e2e
