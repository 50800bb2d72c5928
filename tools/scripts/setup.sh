#!/usr/bin/env bash
# Installs what twospeed needs on a fresh Debian 12 machine (run as root) and
# reserves hugepages. Idempotent: packages already present are not fetched again.
set -euo pipefail

PKGS=(
	build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
	libdpdk-dev dpdk libhyperscan-dev libxxhash-dev libmbedtls-dev libcunit1-dev zlib1g-dev
	python3 python3-numpy python3-scapy
	iproute2 iptables nftables ethtool curl wrk nginx-light libnginx-mod-http-echo nghttp2-client jq
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Hugepages for the DPDK processes; unit tests run with --no-huge and do not need them.
if [ "$(id -u)" = 0 ]; then
	want=${TWOSPEED_HUGEPAGES:-512}
	have=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$have" -lt "$want" ]; then
		echo "$want" > /proc/sys/vm/nr_hugepages || true
	fi
	mkdir -p /dev/hugepages
	mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages || true
fi
