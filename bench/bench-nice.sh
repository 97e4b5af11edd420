#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Does nice on the non-order workers matter? Order p99 next to a CPU-bound bulk flood on the
# same core, with the bulk worker at nice 0 and at nice 10.
#
# ordergated runs 2 workers pinned together to CPU 0: worker 0 is the reserved order worker
# (the order port listens only there), worker 1 takes the bulk port (og_reuseport sends every
# non-order source there). wrk floods the bulk port with 50 connections (closed loop, CPU 1,
# nice 19 so it does not delay the order client); a second wrk measures order latency on one
# connection (CPU 1). Rounds alternate the two settings. Prints one line per run and the
# median and spread of order p99 per setting.
#   NICE_SECS=5 seconds per run, NICE_RUNS=5 rounds, NICE_LEVEL=10
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "$ROOT" && realpath -m "${BUILD:-build}")
SECS=${NICE_SECS:-5} RUNS=${NICE_RUNS:-5} LEVEL=${NICE_LEVEL:-10}
((SECS >= 1 && SECS <= 30 && RUNS >= 1 && RUNS <= 15)) || { echo "out of range" >&2; exit 1; }
T=$(mktemp -d /tmp/ognice.XXXXXX)
GW=
trap '[ -n "$GW" ] && kill "$GW" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
O=$(port) B=$(port) A=$(port)
conf() { # NICE: worker 0 reserved for the order port, the other worker at NICE
	cat <<YAML
workers: 2
listen: ["127.0.0.1:$O", "127.0.0.1:$B"]
admin: { listen: "127.0.0.1:$A" }
lanes:
  order: { reserve_workers: 1, others_nice: $1, match: { dst_ports: [$O], src_cidrs: ["127.0.0.2/32"] } }
routes:
  - match: { path: /ping }
    respond: { status: 200, body: "pong" }
YAML
}

# wrk's latency line "99%  1.23ms" -> microseconds
p99_us() { awk '$1 == "99%" { v = $2; u = 1;
	if (v ~ /us$/) u = 1; else if (v ~ /ms$/) u = 1000; else if (v ~ /s$/) u = 1000000;
	sub(/[a-z]+$/, "", v); printf "%d\n", v * u }'; }

run() { # NICE -> prints "p99_us bulk_rps order_rps"
	conf "$1" >"$T/og.yaml"
	taskset -c 0 "$BUILD/ordergated" -c "$T/og.yaml" 2>"$T/gw.err" &
	GW=$!
	for _ in $(seq 100); do curl -s -o /dev/null -m 1 "http://127.0.0.1:$A/healthz" && break; sleep 0.05; done
	taskset -c 1 nice -n 19 wrk -t1 -c50 -d$((SECS + 2))s "http://127.0.0.1:$B/ping" >"$T/bulk" 2>&1 &
	local bulk=$!
	sleep 1
	taskset -c 1 wrk -t1 -c1 -d${SECS}s --latency "http://127.0.0.1:$O/ping" >"$T/order" 2>&1
	wait "$bulk"
	kill "$GW"; wait "$GW" 2>/dev/null; GW=
	echo "$(p99_us <"$T/order") $(awk '/Requests\/sec/ {print int($2)}' "$T/bulk") $(awk '/Requests\/sec/ {print int($2)}' "$T/order")"
}

declare -a N0 N1
for ((r = 1; r <= RUNS; r++)); do
	for lvl in 0 "$LEVEL"; do
		read -r p b o <<<"$(run "$lvl")"
		printf 'round %d nice %2d: order p99 %6d us  order %6d req/s  bulk %6d req/s\n' "$r" "$lvl" "$p" "$o" "$b"
		if [ "$lvl" = 0 ]; then N0+=("$p"); else N1+=("$p"); fi
	done
done
stats() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { printf "median %d us (min %d, max %d, n %d)", a[int((NR + 1) / 2)], a[1], a[NR], NR }'; }
echo "bulk worker nice 0:  order p99 $(stats "${N0[@]}")"
echo "bulk worker nice $LEVEL: order p99 $(stats "${N1[@]}")"
