#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Install the Debian packages ordergate needs (only the missing ones) and mount bpffs.
set -euo pipefail

# Build: clang/llvm for BPF, libbpf/libxdp/libevent/libyaml, bpftool for skeletons.
# Run/test: iproute2 (ip, tc), nginx + haproxy (real upstream and comparison), wrk, curl,
# promtool (prometheus), xdp-tools (xdp-filter for the BPF bench), nftables, jq,
# hping3 (spoofed-source SYN floods in tests/system/dp_flood.sh), faketime (clock-skew drill),
# gnuplot-nox (soak and bench plots), slowhttptest (slowloris / slow-read clients, d_slowloris).
PKGS=(make gcc clang llvm libclang-rt-14-dev pkg-config libelf-dev zlib1g-dev
      libbpf-dev libxdp-dev xdp-tools bpftool libevent-dev libyaml-dev linux-libc-dev
      clang-format iproute2 ethtool nftables iptables nginx-light haproxy wrk curl jq prometheus
      procps psmisc netcat-openbsd python3 hping3 faketime gnuplot-nox slowhttptest)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages: ${missing[*]}; run 'make deps' as root" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# policy-rc.d keeps Debian's postinst from starting nginx/haproxy/prometheus
	# services on ports other software may own: tests start their own instances.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$(id -u)" -eq 0 ] && ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf && echo "deps: mounted bpffs on /sys/fs/bpf"
fi
exit 0
