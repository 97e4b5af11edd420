#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Order latency under a bulk flood: ordergated (lanes) against nginx and haproxy with static limits.
#
# One origin with a fixed capacity (bench/lanes_origin.c: SLOTS requests in service at a time,
# SERVICE_US each, the rest queue) sits behind each server in turn. An open-loop generator
# (bench/openloop.c) sends order POSTs at a fixed rate and times each from its scheduled send;
# after the unloaded phase a second one floods GET /api/v1/marketdata at 3x the origin's
# capacity. Every server gets the same static bulk ceiling (rate, burst, concurrency per
# x-user-id); ordergated can also shrink bulk below it from the order lane's latency. Servers
# run one worker pinned to CPU 1; the origin and both generators run on CPU 0. Rounds
# interleave the servers (the order rotates every round); tables show medians and min-max.
# See docs/benchmarks.md, section "bench-lanes".
#
# Environment (all bounded):
#   BENCH_RUNS=5            rounds                    BENCH_LANES_UNLOADED=10  s of orders alone
#   BENCH_LANES_OVERLOAD=10 s of orders + flood       BENCH_LANES_SETTLE=2     s of the flood left
#                                                     out of the overload figures (plotted)
#   BENCH_LANES_ORDER_RPS=500   order rate            BENCH_LANES_FLOOD_X=3    flood / capacity
#   BENCH_LANES_SLOTS=10, BENCH_LANES_SERVICE_US=5000  origin: capacity = SLOTS / SERVICE
#   BENCH_LANES_BULK_RPS=capacity, BENCH_LANES_BULK_BURST=200, BENCH_LANES_BULK_CONNS=64
#                           the static bulk ceiling (per x-user-id) every server gets
#   BENCH_LANES_SLO_MS=10   ordergated's order-lane p99 objective
#   BENCH_LANES_NICE=-10    nice of the origin, the order generator and the servers
#   BENCH_LANES_SERVERS="ordergated nginx haproxy"
#   BENCH_LANES_REQUIRE=1   fail when ordergated rejects the lanes config (no fallback)
#   BENCH_LANES_SELFCHECK_ONLY=1  only check the generator against known answers, then exit
#   BENCH_QUICK=1           development: 1 round, 4 s + 4 s
#   BENCH_OUT=FILE          results (default build/bench/lanes-<date>.md; plot next to it)
#   BENCH_UPDATE_DOC=1      also write the results into docs/benchmarks.md's bench-lanes section
#                           and the plot to docs/img/bench-lanes.png
# Exit status: 0 when every server started, stayed up and every generator ran; 1 otherwise
# (goals that are missed print MISS and are not failures).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "$ROOT" && realpath -m "${BUILD:-build}")
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	RUNS=${BENCH_RUNS:-1} UNL=${BENCH_LANES_UNLOADED:-4} OVL=${BENCH_LANES_OVERLOAD:-4}
	SETTLE=${BENCH_LANES_SETTLE:-1}
else
	RUNS=${BENCH_RUNS:-5} UNL=${BENCH_LANES_UNLOADED:-10} OVL=${BENCH_LANES_OVERLOAD:-10}
	SETTLE=${BENCH_LANES_SETTLE:-2}
fi
ORDER_RPS=${BENCH_LANES_ORDER_RPS:-500}
FLOOD_X=${BENCH_LANES_FLOOD_X:-3}
SLOTS=${BENCH_LANES_SLOTS:-10}
SERVICE_US=${BENCH_LANES_SERVICE_US:-5000}
CAPACITY=$((SLOTS * 1000000 / SERVICE_US))
BULK_RPS=${BENCH_LANES_BULK_RPS:-$CAPACITY}
BULK_BURST=${BENCH_LANES_BULK_BURST:-200}
BULK_CONNS=${BENCH_LANES_BULK_CONNS:-64}
SLO_MS=${BENCH_LANES_SLO_MS:-10}
NICE=${BENCH_LANES_NICE:--10}
FLOOD_RPS=$((FLOOD_X * CAPACITY))
SERVERS=${BENCH_LANES_SERVERS:-ordergated nginx haproxy}
for v in RUNS UNL OVL SETTLE ORDER_RPS FLOOD_X SLOTS SERVICE_US BULK_RPS BULK_BURST BULK_CONNS SLO_MS; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { bench_log "$v must be a whole number (got '${!v}')"; exit 1; }
done
[[ $NICE =~ ^-?[0-9]+$ ]] && ((NICE >= -20 && NICE <= 19)) || { bench_log "BENCH_LANES_NICE: -20 to 19"; exit 1; }
# Bounds keep one run within about ten minutes whatever the environment says.
((RUNS >= 1 && RUNS <= 9 && UNL >= 2 && UNL <= 60 && OVL >= 2 && OVL <= 60 && SETTLE < OVL &&
  ORDER_RPS >= 10 && ORDER_RPS <= 5000 && FLOOD_X >= 1 && FLOOD_X <= 10 && SLOTS >= 1 &&
  SLOTS <= 1000 && SERVICE_US >= 100 && SERVICE_US <= 1000000 && CAPACITY >= 10 &&
  FLOOD_RPS <= 50000 && BULK_CONNS >= 1 && SLO_MS >= 1)) || {
	bench_log "out of range: BENCH_RUNS 1-9, phases 2-60 s (settle < overload), order rate 10-5000," \
		"flood 1-10x and at most 50000 rps, capacity (SLOTS / SERVICE_US) at least 10 rps"
	exit 1
}
for s in $SERVERS; do
	case $s in ordergated | nginx | haproxy) ;; *) bench_log "unknown server '$s'"; exit 1 ;; esac
done

# --- prerequisites -----------------------------------------------------------
for tool in nginx haproxy taskset curl python3 timeout gnuplot; do
	command -v "$tool" >/dev/null || { bench_log "missing $tool (make deps installs it)"; exit 1; }
done
for b in openloop lanes_origin; do
	[ -x "$BUILD/bench/$b" ] || { bench_log "missing $BUILD/bench/$b (run make bench-lanes)"; exit 1; }
done
if ! taskset -c 1 true 2>/dev/null; then
	bench_log "needs CPUs 0 and 1 (servers on CPU 1, origin and generators on CPU 0)"
	exit 1
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)

bench_tmp_init og-bench-lanes

STAMP=$(date -u +%Y%m%d-%H%M%S)
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
OUT=$(realpath -m "${BENCH_OUT:-$BUILD/bench/lanes-$STAMP.md}")
PNG=${OUT%.md}.png
mkdir -p "$(dirname "$OUT")" "$BENCH_TMP/res" "$BENCH_TMP/nginx-tmp"
cd "$BENCH_TMP" || exit 1
RC=0
WARN=()
BUSY=() # runs whose order generator was often late
declare -A PORT PID LABEL FAILED
LABEL=([ordergated]=ordergated
	[nginx]="nginx $(nginx -v 2>&1 | sed -n 's|.*nginx/||p')"
	[haproxy]="haproxy $(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }')")


# field LINE KEY: the value of KEY=VALUE in an openloop summary line (0 when absent).
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1" | grep . || echo 0; }

# --- origin and servers ----------------------------------------------------------
ORIGIN_PORT=$(bench_free_port)
# Everything whose timing is measured (the origin, the order generator, the servers) runs at
# NICE: the flood generator shares CPU 0 with the first two and must not delay them, and on a
# shared machine other tenants' processes should not either. It is a weight, not a real-time
# priority: other processes still run, and every server gets the same.
bench_start origin 0 nice -n "$NICE" "$BUILD/bench/lanes_origin" -p "$ORIGIN_PORT" -s "$SERVICE_US" -k "$SLOTS"
ORIGIN_PID=$BENCH_LAST_PID
if ! bench_wait_http "http://127.0.0.1:$ORIGIN_PORT/ping" pong 10 "$ORIGIN_PID"; then
	bench_fail_start origin "lanes_origin did not answer on port $ORIGIN_PORT"
	exit 1
fi

# selfcheck: the generator against known answers, before anything is compared.
# 1. The origin alone at the order rate: every request answered, p50 at least the service time.
#    Its p50/p99 are the floor every server's order latency stands on, reported with the
#    results; more than 3 ms above the service time marks the machine as busy.
# 2. A one-slot origin serving 10 ms requests, sent 150 rps for 2 s over ONE connection: the
#    requests wait in the generator for the connection, falling further behind each time, so
#    request i is answered about i x 3.3 ms late and the median is near 0.5 s (more on a slow
#    machine). A generator that timed from the actual send (coordinated omission) would
#    report about 10 ms; the check wants at least 0.2 s.
selfcheck() {
	local line p50 port pid
	line=$(nice -n "$NICE" "$BUILD/bench/openloop" -l check -a "127.0.0.1:$ORIGIN_PORT" -r "$ORDER_RPS" -d 2 \
		-m POST -p /api/v1/orders -b x -c 8 -C 64 -t 2000 2>&1 | grep '^check: scheduled=')
	p50=$(field "$line" p50_us)
	bench_log "self-check 1: origin alone p50 $p50 us (service ${SERVICE_US} us): $line"
	FLOOR="p50 $(bench_calc "$p50 / 1000") ms, p99 $(bench_calc "$(field "$line" p99_us) / 1000") ms"
	if [ "$(bench_calc "$p50 >= $SERVICE_US")" != 1 ] || [ "$(field "$line" ok)" != $((ORDER_RPS * 2)) ]; then
		bench_log "self-check 1 FAILED: expected p50 >= $SERVICE_US us and every request answered"
		return 1
	fi
	if [ "$(bench_calc "$p50 > $SERVICE_US + 3000")" = 1 ]; then
		WARN+=("busy machine: the origin alone answered orders at p50 $p50 µs for a $SERVICE_US µs service time")
	fi
	port=$(bench_free_port)
	bench_start check-origin 0 "$BUILD/bench/lanes_origin" -p "$port" -s 10000 -k 1
	pid=$BENCH_LAST_PID
	bench_wait_http "http://127.0.0.1:$port/ping" pong 10 "$pid" || return 1
	line=$(nice -n "$NICE" "$BUILD/bench/openloop" -l check -a "127.0.0.1:$port" -r 150 -d 2 -c 1 -C 1 \
		-t 10000 2>&1 | grep '^check: scheduled=')
	bench_stop "$pid"
	p50=$(field "$line" p50_us)
	bench_log "self-check 2: one connection to a one-slot origin at 1.5x its capacity, p50 $p50 us (expected ~500000): $line"
	if [ "$(bench_calc "$p50 >= 200000")" != 1 ] || [ "$(field "$line" ok)" != 300 ]; then
		bench_log "self-check 2 FAILED: the generator does not time from the scheduled send"
		return 1
	fi
}

start_server() { # start_server NAME CMD...: start on CPU 1, wait until it proxies to the origin
	local name=$1
	shift
	bench_start "$name" 1 nice -n "$NICE" "$@"
	PID[$name]=$BENCH_LAST_PID
	if ! bench_wait_http "http://127.0.0.1:${PORT[$name]}/api/v1/marketdata/up" pong 10 "${PID[$name]}"; then
		bench_fail_start "$name" "GET /api/v1/marketdata/up did not reach the origin"
		return 1
	fi
	bench_log "$name up on 127.0.0.1:${PORT[$name]} (pid ${PID[$name]})"
}

selfcheck || { RC=1; bench_log "the generator failed its self-check: no figures"; exit 1; }
[ "${BENCH_LANES_SELFCHECK_ONLY:-0}" = 1 ] && exit 0

OG_LANES=""
bench_log "load average before the rounds: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in $SERVERS; do
	PORT[$name]=$(bench_free_port)
	case $name in
	nginx)
		bench_fill "$ROOT/bench/conf/lanes-nginx.conf.in" "$BENCH_TMP/nginx.conf" DIR="$BENCH_TMP" \
			PORT="${PORT[nginx]}" ORIGIN_PORT="$ORIGIN_PORT" NOFILE="$NOFILE" \
			BULK_RPS="$BULK_RPS" BULK_BURST="$BULK_BURST" BULK_CONNS="$BULK_CONNS" || exit 1
		start_server nginx nginx -e "$BENCH_TMP/lanes-nginx-error.log" -p "$BENCH_TMP" \
			-c "$BENCH_TMP/nginx.conf"
		;;
	haproxy)
		bench_fill "$ROOT/bench/conf/lanes-haproxy.cfg.in" "$BENCH_TMP/haproxy.cfg" \
			PORT="${PORT[haproxy]}" ORIGIN_PORT="$ORIGIN_PORT" BULK_RPS="$BULK_RPS" \
			BULK_CONNS="$BULK_CONNS" || exit 1
		if haproxy -c -q -f "$BENCH_TMP/haproxy.cfg" >"$BENCH_TMP/haproxy.log" 2>&1; then
			start_server haproxy haproxy -db -f "$BENCH_TMP/haproxy.cfg"
		else
			bench_fail_start haproxy "config check failed"
		fi
		;;
	ordergated)
		if ! [ -x "$BUILD/ordergated" ]; then
			bench_fail_start ordergated "not built ($BUILD/ordergated missing)"
			continue
		fi
		fill=(PORT="${PORT[ordergated]}" ADMIN_PORT="$(bench_free_port)" ORIGIN_PORT="$ORIGIN_PORT")
		bench_fill "$ROOT/bench/conf/lanes-ordergated.yaml.in" "$BENCH_TMP/ordergated.yaml" \
			"${fill[@]}" BULK_RPS="$BULK_RPS" BULK_BURST="$BULK_BURST" BULK_CONNS="$BULK_CONNS" \
			SLO_MS="$SLO_MS" || exit 1
		if "$BUILD/ordergated" -t -c "$BENCH_TMP/ordergated.yaml" >"$BENCH_TMP/ordergated.log" 2>&1; then
			OG_LANES=yes
		elif [ "${BENCH_LANES_REQUIRE:-0}" = 1 ]; then
			bench_fail_start ordergated \
				"the lanes config was rejected: $(head -c 300 "$BENCH_TMP/ordergated.log")"
			continue
		else
			OG_LANES="no: $(head -n1 "$BENCH_TMP/ordergated.log" | sed "s|$BENCH_TMP/||")"
			bench_log "ordergated rejects the lanes config; measuring it WITHOUT lanes and WITHOUT a bulk limit"
			bench_fill "$ROOT/bench/conf/lanes-ordergated-nolanes.yaml.in" \
				"$BENCH_TMP/ordergated.yaml" "${fill[@]}" || exit 1
			LABEL[ordergated]="ordergated (NO LANES, no bulk limit)"
		fi
		start_server ordergated "$BUILD/ordergated" -c "$BENCH_TMP/ordergated.yaml"
		;;
	esac
done

up() { [ -z "${FAILED[$1]:-}" ] && [ -n "${PID[$1]:-}" ] && bench_alive "${PID[$1]}"; }

# --- one measured run ------------------------------------------------------------------
# run_one NAME ROUND: orders for UNL + OVL seconds; the flood joins after UNL seconds.
run_one() {
	local name=$1 round=$2 tag=$1.$2 order_pid flood_pid line
	up "$name" || return 0
	bench_start "order-$tag" 0 nice -n "$NICE" "$BUILD/bench/openloop" -l order \
		-a "127.0.0.1:${PORT[$name]}" -r "$ORDER_RPS" -d $((UNL + OVL)) -m POST \
		-p /api/v1/orders -H "x-user-id: trader-1" -H "content-type: application/json" \
		-b '{"side":"buy","sym":"XYZ","qty":10,"px":101.25}' -c 8 -C 512 -t 5000 \
		-o "$BENCH_TMP/res/order.$tag.raw" -s "$BENCH_TMP/res/order.$tag.sec"
	order_pid=$BENCH_LAST_PID
	# The unloaded phase starts with the order generator's schedule, not with its process.
	for _ in $(seq 100); do
		grep -q '^order: started' "$BENCH_TMP/order-$tag.log" 2>/dev/null && break
		bench_alive "$order_pid" || break
		sleep 0.05
	done
	sleep "$UNL"
	# The flood: one user, at most 256 connections (a client's pool), requests that find them
	# all busy wait up to 2 s and are dropped beyond 1000 waiting.
	bench_start "flood-$tag" 0 "$BUILD/bench/openloop" -l flood -a "127.0.0.1:${PORT[$name]}" \
		-r "$FLOOD_RPS" -d "$OVL" -p /api/v1/marketdata/book -H "x-user-id: flood-1" \
		-c 64 -C 256 -t 2000 -w 1000
	flood_pid=$BENCH_LAST_PID
	for pid in "$order_pid" "$flood_pid"; do
		timeout $((UNL + OVL + 30)) tail --pid="$pid" -f /dev/null
		bench_stop "$pid"
	done
	if ! up "$name"; then
		FAILED[$name]="died in round $round"
		RC=1
		bench_log "$name died in round $round"
	fi
	line=$(grep -m1 '^order: scheduled=' "$BENCH_TMP/order-$tag.log")
	if [ -z "$line" ] || ! grep -q '^flood: scheduled=' "$BENCH_TMP/flood-$tag.log"; then
		RC=1
		bench_log "$name round $round: a generator gave no summary"
		sed 's/^/    /' "$BENCH_TMP/order-$tag.log" "$BENCH_TMP/flood-$tag.log" >&2
		return 0
	fi
	summarize "$name" "$round"
	sleep 2 # queues drain, and a controller sees calm before the next unloaded phase
}

# phase RAW FROM_S TO_S: "P50 P99 P999 MAX N ERRORS" in ms of the requests scheduled in
# [FROM, TO) seconds; ranked as openloop ranks them (answers of any status, and timeouts).
phase() {
	local errs
	errs=$(awk -v a="$2" -v b="$3" -v out="$1.phase" '$1 >= a * 1e6 && $1 < b * 1e6 {
		if ($3 > 0 || $3 == -2) print $2 / 1000 > out
		if ($3 <= 0 || $3 >= 400) e++ } END { close(out); print e + 0 }' "$1")
	touch "$1.phase"
	sort -g "$1.phase" | awk -v e="$errs" '{ v[NR] = $1 } END {
		if (!NR) { print "nan nan nan nan 0", e; exit }
		split("0.5 0.99 0.999", p, " ")
		for (i = 1; i <= 3; i++) { k = int(NR * p[i]); if (k < NR * p[i]) k++; printf "%.2f ", v[k] }
		printf "%.2f %d %d\n", v[NR], NR, e }'
	rm -f "$1.phase"
}

summarize() { # summarize NAME ROUND: one line of results/NAME
	local name=$1 round=$2 tag=$1.$2 raw unl ovl fl ol ok429 ok2xx late
	raw=$BENCH_TMP/res/order.$tag.raw
	ol=$(grep -m1 '^order: scheduled=' "$BENCH_TMP/order-$tag.log")
	unl=$(phase "$raw" 1 "$UNL")
	ovl=$(phase "$raw" $((UNL + SETTLE)) $((UNL + OVL)))
	fl=$(grep -m1 '^flood: scheduled=' "$BENCH_TMP/flood-$tag.log")
	ok2xx=$(field "$fl" status_200)
	ok429=$(field "$fl" status_429)
	# round u50 u99 u999 umax un uerr o50 o99 o999 omax on oerr bulk2xx/s bulk429/s
	# bulk_other/s order_errors_whole_run
	echo "$round $unl $ovl $(bench_calc "$ok2xx / $OVL") $(bench_calc "$ok429 / $OVL")" \
		"$(bench_calc "($(field "$fl" scheduled) - $ok2xx - $ok429) / $OVL")" \
		"$(($(field "$ol" scheduled) - $(field "$ol" ok)))" >>"$BENCH_TMP/res/$name"
	# Order sends more than 1 ms behind their schedule: the generator itself was not run in
	# time, a direct measure of how busy the machine was.
	late=$(bench_calc "100 * $(field "$ol" late) / $(field "$ol" scheduled)")
	[ "$(bench_calc "$late > 5")" = 1 ] && BUSY+=("$name round $round: $late %")
	read -r _ u50 u99 u999 _ _ uerr o50 o99 o999 _ _ oerr b2 b4 bo _ <<<"$(tail -n1 "$BENCH_TMP/res/$name")"
	printf '%s round %s %-10s unloaded p50 %6s p99 %6s p99.9 %6s ms err %s | overload p50 %7s p99 %7s p99.9 %7s ms err %s | bulk 2xx %5.0f/s 429 %5.0f/s other %5.0f/s | late %s%% load %s\n' \
		"$(date -u +%H:%M:%S)" "$round" "$name" "$u50" "$u99" "$u999" "$uerr" "$o50" "$o99" "$o999" \
		"$oerr" "$b2" "$b4" "$bo" "$late" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$BENCH_TMP/runs.log" >&2
	grep -h -e '^order: scheduled=' -e '^flood: scheduled=' "$BENCH_TMP/order-$tag.log" "$BENCH_TMP/flood-$tag.log" |
		sed "s/^/    $name round $round /" >>"$BENCH_TMP/gen.log"
}

read -r -a LIST <<<"$SERVERS"
bench_log "origin: $SLOTS slots x ${SERVICE_US} us = $CAPACITY rps; orders $ORDER_RPS rps," \
	"flood $FLOOD_RPS rps; bulk ceiling $BULK_RPS rps burst $BULK_BURST, $BULK_CONNS in flight;" \
	"$RUNS round(s) of ${UNL}s + ${OVL}s per server"
for ((round = 1; round <= RUNS; round++)); do
	for ((i = 0; i < ${#LIST[@]}; i++)); do
		run_one "${LIST[(i + round - 1) % ${#LIST[@]}]}" "$round"
	done
done

# --- report ------------------------------------------------------------------------------
med() { [ -s "$BENCH_TMP/res/$1" ] && bench_median "$BENCH_TMP/res/$1" "$2" || echo nan; }
spread() { # spread NAME COLUMN: "median (min–max)"
	local f=$BENCH_TMP/res/$1
	[ -s "$f" ] || { printf '–'; return; }
	awk -v c="$2" '{ print $c }' "$f" | sort -g | awk -v m="$(med "$1" "$2")" '
		{ v[NR] = $1 } END { if (NR > 1) printf "%.1f (%.1f–%.1f)", m, v[1], v[NR]; else printf "%.1f", m }'
}
sum() { [ -s "$BENCH_TMP/res/$1" ] && awk -v c="$2" '{ s += $c } END { print s }' "$BENCH_TMP/res/$1" || echo 0; }

# Per-second order p99, median over the rounds, one column per server, for the plot.
plot_data() {
	local name
	for name in "${LIST[@]}"; do
		cat "$BENCH_TMP"/res/order."$name".*.sec 2>/dev/null | awk '!/^#/ && $2 > 0 { print $1, $4 / 1000 }' |
			sort -k1,1n -k2,2g | awk -v n="$name" '
			{ s[$1] = s[$1] " " $2; c[$1]++ }
			END { for (t in s) { split(substr(s[t], 2), v, " "); k = int((c[t] + 1) / 2)
				m = (c[t] % 2) ? v[k] : (v[k] + v[k + 1]) / 2; print t + 0.5, m } }' |
			sort -n >"$BENCH_TMP/plot.$name"
	done
}

plot() { # plot PNG
	local name cmd="" sep="" title
	plot_data
	for name in "${LIST[@]}"; do
		[ -s "$BENCH_TMP/plot.$name" ] || continue
		title=${LABEL[$name]}
		cmd+="$sep'$BENCH_TMP/plot.$name' using 1:2 with linespoints title '$title'"
		sep=", "
	done
	[ -n "$cmd" ] || return 0
	gnuplot <<-EOF 2>"$BENCH_TMP/gnuplot.log" || { bench_log "gnuplot failed: $(cat "$BENCH_TMP/gnuplot.log")"; return 1; }
		set terminal pngcairo size 960,480 noenhanced font ",10"
		set output '$1'
		set title 'Order POST p99 per second (median of $RUNS rounds): ${ORDER_RPS} rps; from ${UNL} s a ${FLOOD_RPS} rps bulk flood (${FLOOD_X}x origin capacity)'
		set xlabel 'seconds'
		set ylabel 'p99 latency, ms (log scale)'
		set logscale y
		set grid
		set key top left
		set arrow from $UNL, graph 0 to $UNL, graph 1 nohead dashtype 2
		set label 'flood starts' at $UNL, graph 0.95 offset 1,0
		plot $cmd
	EOF
}

report() {
	local name u99 o99 ok og ng hp text
	echo "# ordergate lanes benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Command: \`make bench-lanes\` (bench/bench-lanes.sh; BENCH_RUNS=$RUNS, ${UNL} s unloaded +" \
		"${OVL} s overload per run, the first ${SETTLE} s of the flood left out of the overload figures)."
	echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))," \
		"kernel $(uname -r), load average at start $LOAD0; ordergate" \
		"$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)" \
		"(ordergated: $BUILD/ordergated)."
	echo "Origin: $SLOTS requests in service at a time, ${SERVICE_US} µs each (capacity $CAPACITY rps)," \
		"FIFO queue. Orders: POST /api/v1/orders at $ORDER_RPS rps, open loop, latency from each" \
		"request's scheduled send. Flood: GET /api/v1/marketdata/book at $FLOOD_RPS rps (${FLOOD_X}×" \
		"capacity), one x-user-id, up to 256 connections. Static bulk ceiling for every server:" \
		"$BULK_RPS rps, burst $BULK_BURST, $BULK_CONNS in flight, per x-user-id, 429 above it." \
		"Each server: one worker on CPU 1; servers, origin and order generator at nice $NICE." \
		"Figures: median of $RUNS rounds (min–max), ms."
	echo "Floor: the order generator straight to the origin, unloaded: $FLOOR (self-check before the rounds)."
	if [ -n "${FAILED[ordergated]:-}" ] || [[ " $SERVERS " != *" ordergated "* ]]; then
		:
	elif [ "$OG_LANES" != yes ]; then
		echo
		echo "**ordergated ran WITHOUT LANES and WITHOUT a bulk limit**: this daemon rejects the lanes" \
			"config (\`${OG_LANES#no: }\`), so its row is the lane-less fallback" \
			"(bench/conf/lanes-ordergated-nolanes.yaml.in), not the lanes result."
	fi
	echo
	echo "| server | unloaded p50 | unloaded p99 | unloaded p99.9 | overload p50 | overload p99 | overload p99.9 | order errors | bulk 2xx/s | bulk 429/s | bulk other/s |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	for name in "${LIST[@]}"; do
		if ! [ -s "$BENCH_TMP/res/$name" ]; then
			echo "| ${LABEL[$name]} | ${FAILED[$name]:-no result} | | | | | | | | | |"
			continue
		fi
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${LABEL[$name]}" \
			"$(spread "$name" 2)" "$(spread "$name" 3)" "$(spread "$name" 4)" \
			"$(spread "$name" 8)" "$(spread "$name" 9)" "$(spread "$name" 10)" \
			"$(sum "$name" 17)" "$(printf %.0f "$(med "$name" 14)")" \
			"$(printf %.0f "$(med "$name" 15)")" "$(printf %.0f "$(med "$name" 16)")"
	done
	echo
	echo "*order errors*: order requests (whole runs, all rounds) that got a non-2xx/3xx answer, timed out" \
		"(5 s) or failed at the socket. *bulk other*: flood requests that timed out (2 s), were" \
		"dropped because all 256 connections were busy, or failed otherwise."
	echo
	echo "![order p99 over time](img/bench-lanes.png)"
	echo
	echo "## Goals"
	echo
	u99=$(med ordergated 3) o99=$(med ordergated 9) ng=$(med nginx 9) hp=$(med haproxy 9)
	local note=""
	[ "$OG_LANES" = yes ] || note=" (ordergated WITHOUT LANES: not the lanes result)"
	ok=""
	bench_isnum "$u99" && bench_isnum "$o99" && ok=$(bench_calc "$o99 <= 2 * $u99")
	bench_goal "ordergated's order p99 under overload ≤ 2× unloaded$note" "$ok" \
		"$(bench_fmt %.1f "$o99") ms vs $(bench_fmt %.1f "$u99") ms unloaded ($(bench_ratio "$o99" "$u99" 1)×)"
	ok=""
	bench_isnum "$o99" && bench_isnum "$ng" && bench_isnum "$hp" &&
		ok=$(bench_calc "$ng >= 5 * $o99 && $hp >= 5 * $o99")
	text="nginx $(bench_fmt %.1f "$ng") ms ($(bench_ratio "$ng" "$o99" 1)×), haproxy"
	text+=" $(bench_fmt %.1f "$hp") ms ($(bench_ratio "$hp" "$o99" 1)×), ordergated $(bench_fmt %.1f "$o99") ms"
	bench_goal "ordergated's overload p99 ≥ 5× lower than nginx's and haproxy's$note" "$ok" "$text"
	if ((${#WARN[@]})); then
		echo
		for og in "${WARN[@]}"; do echo "**Warning**: $og"; done
	fi
	if ((${#BUSY[@]})); then
		echo
		echo "**Busy machine**: in ${#BUSY[@]} of $((RUNS * ${#LIST[@]})) runs more than 5 % of the order" \
			"sends left over 1 ms behind schedule ($(IFS=';'; echo "${BUSY[*]}" | sed 's/;/, /g'))," \
			"so the generator itself was not run in time. Re-measure on a quiet machine before" \
			"quoting these numbers."
	fi
	echo
	echo "## Runs"
	echo
	echo '```'
	cat "$BENCH_TMP/runs.log" 2>/dev/null
	echo '```'
	echo
	echo "<details><summary>generator summaries</summary>"
	echo
	echo '```'
	cat "$BENCH_TMP/gen.log" 2>/dev/null
	echo '```'
	echo
	echo "</details>"
}
for name in "${LIST[@]}"; do
	if [ -s "$BENCH_TMP/res/$name" ] && [ "$(sum "$name" 17)" != 0 ]; then
		WARN+=("$name: $(sum "$name" 17) order requests failed (non-2xx/3xx, timeout or socket error)")
	fi
done
report >"$OUT"
plot "$PNG" || RC=1
# The servers' and generators' own logs, for a post-mortem of an odd run.
mkdir -p "${OUT%.md}-logs" && cp "$BENCH_TMP"/*.log "$BENCH_TMP"/*.yaml "$BENCH_TMP"/*.conf \
	"$BENCH_TMP"/*.cfg "${OUT%.md}-logs/" 2>/dev/null
cp "$OUT" "$BUILD/bench/lanes-latest.md" 2>/dev/null || true
echo
cat "$OUT"
echo
bench_log "results written to $OUT, plot to $PNG, logs in ${OUT%.md}-logs/"
if [ "${BENCH_UPDATE_DOC:-0}" = 1 ]; then
	mkdir -p "$ROOT/docs/img"
	cp "$PNG" "$ROOT/docs/img/bench-lanes.png" &&
		bench_update_doc "$ROOT/docs/benchmarks.md" "$OUT" lanes-results &&
		bench_log "updated docs/benchmarks.md (bench-lanes section) and docs/img/bench-lanes.png"
fi
((RC == 0)) || bench_log "FAILED: a server did not start or died, or a generator failed (see above)"
exit "$RC"
