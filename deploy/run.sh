#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `make run`: run ordergated on its embedded default config (listen :8080, admin 127.0.0.1:9901).
# `make run MODE=lab`: bring the three-namespace lab up and show live datapath stats instead.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

if [ "${MODE:-}" = "lab" ] || [ ! -x "$BUILD/ordergated" ]; then
	bash deploy/lab up
	trap 'echo; echo "lab left up: deploy/lab down removes it"' EXIT
	while sleep 2; do
		clear 2>/dev/null || true
		"$BUILD/ordergatectl" lanes
		"$BUILD/ordergatectl" flows --top 10
	done
fi
echo "ordergated: embedded default config; try: curl http://127.0.0.1:8080/ping ; curl http://127.0.0.1:9901/metrics"
exec "$BUILD/ordergated"
