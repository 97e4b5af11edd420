#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `make run`: run ordergated on its embedded default config (listen :8080, admin 127.0.0.1:9901).
# `make run MODE=lab`: bring the three-namespace lab up with ordergated in the gateway seat and
# show live L7 lanes, limits and kernel lanes (and the top flows) every 2 s.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

if [ "${MODE:-}" = "lab" ] || [ ! -x "$BUILD/ordergated" ]; then
	bash deploy/lab up
	trap 'echo; echo "lab left up: deploy/lab down removes it"' EXIT
	admin=127.0.0.1:${LAB_ADMIN_PORT:-9901} pin=${LAB_PIN_PATH:-/sys/fs/bpf/ordergate}
	while sleep 2; do
		clear 2>/dev/null || true
		"$BUILD/ordergatectl" lanes --admin "$admin" --pin-path "$pin" || true
		echo
		echo "limits (daemon $admin/limits):"
		"$BUILD/ordergatectl" limits --admin "$admin" || true
		echo
		"$BUILD/ordergatectl" flows --admin "$admin" --top 10 ||
			"$BUILD/ordergatectl" flows --top 10 --pin-path "$pin"
	done
fi
echo "ordergated: embedded default config; try: curl http://127.0.0.1:8080/ping ; curl http://127.0.0.1:9901/metrics"
exec "$BUILD/ordergated"
