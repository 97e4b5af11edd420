#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Side-by-side HTTP benchmark: ordergated, nginx, haproxy and two floors, CPU per request and RSS.
#
# Every server runs one worker pinned to CPU 1; wrk (and the nginx origin) run on CPU 0.
# On two cores wrk saturates its own CPU, so requests per second cannot rank the servers:
# what ranks them is each server's own CPU time (user+sys, all its processes and threads,
# from /proc) divided by the requests it served. Rounds interleave the servers (the order
# rotates every round) and the tables show medians. See docs/benchmarks.md.
#
# Environment:
#   BENCH_SECS=10        seconds per measured wrk run        BENCH_RUNS=3    rounds
#   BENCH_CONNS=50       wrk keep-alive connections          BENCH_WARM_SECS=2
#   BENCH_IDLE_CONNS=10000  idle connections for the RSS test
#   BENCH_QUICK=1        development mode: 2 s runs, 1 round, 3000 idle connections
#   BENCH_OUT=FILE       results file (default build/bench/results-<date>.md)
#   BENCH_UPDATE_DOC=1   also put the results into docs/benchmarks.md (between its markers)
# Exit status: 0 when every server started and every run was clean (goals that are missed
# are reported as MISS, not as a failure); 1 when a server failed to start or died, wrk
# reported socket errors or non-2xx responses, or idle connections could not be opened.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "$ROOT" && realpath -m "${BUILD:-build}")
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	SECS=${BENCH_SECS:-2} RUNS=${BENCH_RUNS:-1} IDLE=${BENCH_IDLE_CONNS:-3000} WARM=${BENCH_WARM_SECS:-1}
else
	SECS=${BENCH_SECS:-10} RUNS=${BENCH_RUNS:-3} IDLE=${BENCH_IDLE_CONNS:-10000} WARM=${BENCH_WARM_SECS:-2}
fi
CONNS=${BENCH_CONNS:-50}
for v in SECS RUNS IDLE WARM CONNS; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { bench_log "$v must be a whole number (got '${!v}')"; exit 1; }
done
# Bounds keep `make bench` within minutes whatever the environment says.
((SECS >= 1 && SECS <= 60 && RUNS >= 1 && RUNS <= 9 && CONNS >= 1 && CONNS <= 1000 &&
  IDLE >= 1 && IDLE <= 50000 && WARM <= 10)) || {
	bench_log "out of range: BENCH_SECS 1-60, BENCH_RUNS 1-9, BENCH_CONNS 1-1000, BENCH_IDLE_CONNS 1-50000, BENCH_WARM_SECS 0-10"
	exit 1
}

# --- prerequisites -----------------------------------------------------------
for tool in wrk nginx haproxy taskset curl python3 timeout; do
	command -v "$tool" >/dev/null || { bench_log "missing $tool (make deps installs it)"; exit 1; }
done
for b in floor_epoll relay idle_conns; do
	[ -x "$BUILD/bench/$b" ] || { bench_log "missing $BUILD/bench/$b (run make bench)"; exit 1; }
done
if ! taskset -c 1 true 2>/dev/null; then
	bench_log "needs CPUs 0 and 1 (servers on CPU 1, wrk on CPU 0)"
	exit 1
fi
# 10,000 idle connections need as many descriptors in the server and in idle_conns.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < IDLE + 1024)); then
	bench_log "open-file limit $(ulimit -n) is below the $((IDLE + 1024)) the idle test needs"
	exit 1
fi
NOFILE=$(ulimit -n)
MAXCONN=$((IDLE + 1024))
SOMAXCONN=$(cat /proc/sys/net/core/somaxconn 2>/dev/null || echo unknown)

bench_tmp_init og-bench

STAMP=$(date -u +%Y%m%d-%H%M%S)
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
OUT=$(realpath -m "${BENCH_OUT:-$BUILD/bench/results-$STAMP.md}")
mkdir -p "$(dirname "$OUT")" "$BUILD/bench"
cd "$BENCH_TMP" || exit 1 # nothing the script runs leaves a file in the caller's directory
RC=0
WARN=() # printed under the tables
declare -A PORT PID LABEL FAILED NA # NA[scenario.name]: why a running server is left out
LABEL=([floor]="floor: epoll responder" [relay]="floor: byte relay" [ordergated]=ordergated
	[nginx]="nginx $(nginx -v 2>&1 | sed -n 's|.*nginx/||p')"
	[haproxy]="haproxy $(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }')")

# --- start everything ----------------------------------------------------------
ORIGIN_PORT=$(bench_free_port)
bench_fill "$ROOT/bench/conf/origin.conf.in" "$BENCH_TMP/origin.conf" DIR="$BENCH_TMP" \
	ORIGIN_PORT="$ORIGIN_PORT" || exit 1
mkdir -p "$BENCH_TMP/origin-tmp"
bench_start origin 0 nginx -e "$BENCH_TMP/origin-error.log" -p "$BENCH_TMP" -c "$BENCH_TMP/origin.conf"
ORIGIN_PID=$BENCH_LAST_PID
if ! bench_wait_http "http://127.0.0.1:$ORIGIN_PORT/api/x" pong 10 "$ORIGIN_PID"; then
	bench_fail_start origin "the nginx origin did not answer on port $ORIGIN_PORT"
	exit 1
fi

# start_server NAME DIRECT(0/1) PROXIED(0/1) CMD...: start on CPU 1 and wait for it to answer.
start_server() {
	local name=$1 direct=$2 proxied=$3 ok=0 sc
	shift 3
	bench_start "$name" 1 "$@"
	PID[$name]=$BENCH_LAST_PID
	if [ "$direct" = 1 ]; then
		if bench_wait_http "http://127.0.0.1:${PORT[$name]}/ping" pong 10 "${PID[$name]}"; then
			ok=1
		else
			NA[direct.$name]="GET /ping did not answer 200 pong"
		fi
	fi
	if [ "$proxied" = 1 ]; then
		if bench_wait_http "http://127.0.0.1:${PORT[$name]}/api/x" pong 10 "${PID[$name]}"; then
			ok=1
		else
			NA[proxied.$name]="GET /api/x did not reach the origin"
		fi
	fi
	if [ "$ok" = 0 ]; then
		bench_fail_start "$name" "${NA[direct.$name]:-${NA[proxied.$name]:-}}"
		return 1
	fi
	# A server that answers one scenario is measured in it; the other still fails the run.
	for sc in direct proxied; do
		[ -n "${NA[$sc.$name]:-}" ] || continue
		RC=1
		bench_log "$name: ${NA[$sc.$name]}; left out of the $sc scenario"
	done
	bench_log "$name up on 127.0.0.1:${PORT[$name]} (pid ${PID[$name]})"
}

PORT[floor]=$(bench_free_port)
start_server floor 1 0 "$BUILD/bench/floor_epoll" "${PORT[floor]}"
PORT[relay]=$(bench_free_port)
start_server relay 0 1 "$BUILD/bench/relay" "${PORT[relay]}" "127.0.0.1:$ORIGIN_PORT"

PORT[nginx]=$(bench_free_port)
bench_fill "$ROOT/bench/conf/nginx.conf.in" "$BENCH_TMP/nginx.conf" DIR="$BENCH_TMP" \
	PORT="${PORT[nginx]}" ORIGIN_PORT="$ORIGIN_PORT" NOFILE="$NOFILE" MAXCONN="$MAXCONN" || exit 1
mkdir -p "$BENCH_TMP/nginx-tmp"
start_server nginx 1 1 nginx -e "$BENCH_TMP/nginx-error.log" -p "$BENCH_TMP" -c "$BENCH_TMP/nginx.conf"

PORT[haproxy]=$(bench_free_port)
bench_fill "$ROOT/bench/conf/haproxy.cfg.in" "$BENCH_TMP/haproxy.cfg" PORT="${PORT[haproxy]}" \
	ORIGIN_PORT="$ORIGIN_PORT" MAXCONN="$MAXCONN" || exit 1
if haproxy -c -q -f "$BENCH_TMP/haproxy.cfg" >"$BENCH_TMP/haproxy.log" 2>&1; then
	start_server haproxy 1 1 haproxy -db -f "$BENCH_TMP/haproxy.cfg"
else
	bench_fail_start haproxy "config check failed"
fi

OG_STATE=""
if [ -x "$BUILD/ordergated" ]; then
	PORT[ordergated]=$(bench_free_port)
	bench_fill "$ROOT/bench/conf/ordergated.yaml.in" "$BENCH_TMP/ordergated.yaml" \
		PORT="${PORT[ordergated]}" ADMIN_PORT="$(bench_free_port)" ORIGIN_PORT="$ORIGIN_PORT" || exit 1
	if "$BUILD/ordergated" -t -c "$BENCH_TMP/ordergated.yaml" >"$BENCH_TMP/ordergated.log" 2>&1; then
		start_server ordergated 1 1 "$BUILD/ordergated" -c "$BENCH_TMP/ordergated.yaml"
	else
		bench_fail_start ordergated "ordergated -t rejected the config"
	fi
else
	OG_STATE="not built"
	FAILED[ordergated]="not built"
	bench_log "ordergated: not built ($BUILD/ordergated missing); measuring the others"
fi

# --- measured runs ---------------------------------------------------------------
SCENARIOS=(direct proxied)
declare -A SC_PATH=([direct]=/ping [proxied]=/api/x)
declare -A SC_SERVERS=([direct]="floor ordergated nginx haproxy" [proxied]="relay ordergated nginx haproxy")
mkdir -p "$BENCH_TMP/res"

# up NAME: the server started and is still running.
up() { [ -z "${FAILED[$1]:-}" ] && [ -n "${PID[$1]:-}" ] && bench_alive "${PID[$1]}"; }

# run_wrk NAME SCENARIO SECS [RECORD]: one wrk run; with RECORD, account it and store the result.
run_wrk() {
	local name=$1 sc=$2 secs=$3 record=${4:-} pids t0 t1 c0 c1 st0 st1 s0 s1 out line
	local reqs rps p50 p99 errs non2xx bpr cpu other steal tw0 tw1 closed otw0 otw1 uclosed=0
	up "$name" && [ -z "${NA[$sc.$name]:-}" ] || return 0
	mapfile -t pids < <(bench_tree "${PID[$name]}")
	out="$BENCH_TMP/wrk-$sc-$name.out"
	tw0=$(bench_time_wait "${PORT[$name]}")
	otw0=$(bench_time_wait "$ORIGIN_PORT")
	t0=$(bench_cpu_ticks "${pids[@]}")
	read -r c0 st0 <<<"$(bench_cpu1_ticks)"
	s0=$(date +%s.%N)
	# --timeout 5s: a busy machine can stall a response past wrk's 2 s default without any
	# server being at fault; a response that is really lost still counts as an error.
	timeout -k 5 $((secs + 30)) taskset -c 0 wrk -t1 -c"$CONNS" -d"${secs}s" --timeout 5s --latency \
		"http://127.0.0.1:${PORT[$name]}${SC_PATH[$sc]}" >"$out" 2>&1
	s1=$(date +%s.%N)
	read -r c1 st1 <<<"$(bench_cpu1_ticks)"
	t1=$(bench_cpu_ticks "${pids[@]}")
	read -r reqs rps p50 p99 errs non2xx bpr <<<"$(bench_parse_wrk "$out")"
	sleep 0.2 # let the closes of wrk's connections reach TIME-WAIT
	tw1=$(bench_time_wait "${PORT[$name]}")
	otw1=$(bench_time_wait "$ORIGIN_PORT")
	closed=$((tw1 - tw0))
	[ "$sc" = proxied ] && uclosed=$((otw1 - otw0))
	if ! up "$name"; then
		FAILED[$name]="died during the $sc run"
		RC=1
		bench_log "$name died during the $sc run"
		return 0
	fi
	if [ "$errs" != 0 ] || [ "$non2xx" != 0 ] || [ "$reqs" = 0 ]; then
		RC=1
		bench_log "$sc/$name: wrk saw $errs socket errors, $non2xx non-2xx responses, $reqs requests"
		sed 's/^/    /' "$out" >&2
	fi
	if ((reqs > 1000 && t1 == t0)); then
		RC=1
		bench_log "$sc/$name: no CPU time accounted to pids ${pids[*]} for $reqs requests"
	fi
	if ((closed > 4 * CONNS)); then
		bench_log "$sc/$name: $closed connections closed during the run: clients are not kept alive"
		WARN+=("$sc/$name: $closed connections closed during a ${secs}s run (keep-alive broken?)")
	fi
	if ((uclosed > 4 * CONNS)); then
		bench_log "$sc/$name: $uclosed upstream connections closed during the run: no reuse"
		WARN+=("$sc/$name: $uclosed upstream connections closed during a ${secs}s run (upstream keep-alive broken?)")
	fi
	[ -n "$record" ] || return 0
	cpu=$(bench_calc "($t1 - $t0) * 1000000 / $CLK_TCK / ($reqs > 0 ? $reqs : 1)")
	# CPU 1 work that is not the server's: other processes, or kernel threads (ksoftirqd)
	# doing the server's network work. Either way it says how far to trust the run.
	other=$(bench_calc "100 * (($c1 - $c0) - ($t1 - $t0)) / (($s1 - $s0) * $CLK_TCK)")
	steal=$(bench_calc "100 * ($st1 - $st0) / (($s1 - $s0) * $CLK_TCK)")
	line="$reqs $rps $p50 $p99 $cpu $other $steal $bpr"
	echo "$line" >>"$BENCH_TMP/res/$sc.$name"
	printf '%s %-7s round %s %-10s %7.0f rps  p50 %6.0f us  p99 %6.0f us  %6.2f us/req  %4s B/resp  closed %4d/%-4d  cpu1: other %4.1f%% steal %4.1f%%\n' \
		"$(date -u +%H:%M:%S)" "$sc" "$record" "$name" "$rps" "$p50" "$p99" "$cpu" "$bpr" "$closed" "$uclosed" "$other" "$steal" |
		tee -a "$BENCH_TMP/runs.log" >&2
}

bench_log "warm-up ${WARM}s per server and scenario, then $RUNS round(s) of ${SECS}s runs, wrk -t1 -c$CONNS"
if ((WARM > 0)); then
	for sc in "${SCENARIOS[@]}"; do
		for name in ${SC_SERVERS[$sc]}; do run_wrk "$name" "$sc" "$WARM"; done
	done
fi
for ((round = 1; round <= RUNS; round++)); do
	for sc in "${SCENARIOS[@]}"; do
		read -r -a list <<<"${SC_SERVERS[$sc]}"
		# Rotate the order every round so no server always runs first or last.
		for ((i = 0; i < ${#list[@]}; i++)); do
			run_wrk "${list[(i + round - 1) % ${#list[@]}]}" "$sc" "$SECS" "$round"
		done
	done
done

# --- idle connection memory -----------------------------------------------------------
declare -A RSS0 RSS1 KIB_PER HELD
rss_test() {
	local name=$1 pids idle_pid i line held closed
	up "$name" || return 0
	mapfile -t pids < <(bench_tree "${PID[$name]}")
	RSS0[$name]=$(bench_rss_kib "${pids[@]}")
	bench_start "idle-$name" 0 "$BUILD/bench/idle_conns" -p "${PORT[$name]}" -n "$IDLE" -s 4 \
		-o 60 -t 120 -u "$([ -z "${NA[direct.$name]:-}" ] && echo /ping || echo /api/x)"
	idle_pid=$BENCH_LAST_PID
	line=""
	for ((i = 0; i < 900; i++)); do # 90 s at most (idle_conns gives up opening after 60 s)
		line=$(grep -m1 '^ready ' "$BENCH_TMP/idle-$name.log" 2>/dev/null) && break
		bench_alive "$idle_pid" || break
		sleep 0.1
	done
	sleep 1 # let the server finish with the last responses before reading its memory
	mapfile -t pids < <(bench_tree "${PID[$name]}")
	RSS1[$name]=$(bench_rss_kib "${pids[@]}")
	bench_stop "$idle_pid"
	read -r _ held _ <<<"$line"
	read -r _ _ closed <<<"$(grep -m1 '^done ' "$BENCH_TMP/idle-$name.log")"
	HELD[$name]=${held:-0}
	if [ "${held:-0}" != "$IDLE" ] || [ "${closed:-x}" != 0 ]; then
		RC=1
		bench_log "$name: idle_conns held ${held:-0} of $IDLE connections, ${closed:-?} closed by the server"
		sed 's/^/    /' "$BENCH_TMP/idle-$name.log" >&2
	fi
	if [ "${held:-0}" -gt 0 ]; then
		KIB_PER[$name]=$(bench_calc "(${RSS1[$name]} - ${RSS0[$name]}) / $held")
	fi
	bench_log "$name: RSS ${RSS0[$name]} KiB -> ${RSS1[$name]} KiB with $held idle connections"
	sleep 1 # the server closes 10,000 sockets: not while the next one is measured
}
bench_log "idle memory: $IDLE keep-alive connections per server (somaxconn $SOMAXCONN)"
for name in ordergated nginx haproxy; do rss_test "$name"; done

# --- report ---------------------------------------------------------------------------
# med SCENARIO NAME COLUMN: median of one column of the recorded runs ("nan" when none).
med() {
	local f="$BENCH_TMP/res/$1.$2"
	[ -s "$f" ] && bench_median "$f" "$3" || echo nan
}
declare -A CPU P99
report() {
	local sc name floor og label rps p50 cpu other_max=0 steal_max=0 o st
	echo "# ordergate HTTP benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Command: \`make bench\` (bench/bench-http.sh; BENCH_SECS=$SECS BENCH_RUNS=$RUNS" \
		"BENCH_CONNS=$CONNS BENCH_IDLE_CONNS=$IDLE)."
	echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))," \
		"kernel $(uname -r), load average at start $LOAD0, somaxconn $SOMAXCONN, open-file limit" \
		"$NOFILE; ordergate $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)."
	echo "Each server: one worker on CPU 1; wrk -t1 -c$CONNS and the nginx origin on CPU 0;" \
		"${SECS}s runs, $RUNS interleaved round(s), medians. CPU = the server's own user+sys time" \
		"(all processes and threads, /proc/PID/stat, $CLK_TCK ticks/s) per request."
	[ -n "$OG_STATE" ] && { echo; echo "**ordergated: $OG_STATE** — the table has the others only."; }
	for sc in "${SCENARIOS[@]}"; do
		echo
		if [ "$sc" = direct ]; then
			echo "## Direct: GET /ping answered by the server"
			floor=floor
		else
			echo "## Proxied: GET /api/x to one nginx origin over keep-alive"
			floor=relay
		fi
		echo
		echo "| server | RPS | p50 µs | p99 µs | CPU µs/req | ratio to ordergated | ratio to floor | response B |"
		echo "|---|--:|--:|--:|--:|--:|--:|--:|"
		for name in ${SC_SERVERS[$sc]}; do
			CPU[$sc.$name]=$(med "$sc" "$name" 5)
			P99[$sc.$name]=$(med "$sc" "$name" 4)
		done
		og=${CPU[$sc.ordergated]}
		for name in ${SC_SERVERS[$sc]}; do
			label=${LABEL[$name]}
			if ! [ -s "$BENCH_TMP/res/$sc.$name" ]; then
				echo "| $label | ${FAILED[$name]:-${NA[$sc.$name]:-no result}} | | | | | | |"
				continue
			fi
			rps=$(med "$sc" "$name" 2)
			p50=$(med "$sc" "$name" 3)
			cpu=${CPU[$sc.$name]}
			printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" \
				"$(bench_fmt %.0f "$rps")" "$(bench_fmt %.0f "$p50")" \
				"$(bench_fmt %.0f "${P99[$sc.$name]}")" "$(bench_fmt %.2f "$cpu")" \
				"$(bench_ratio "$cpu" "$og")" "$(bench_ratio "$cpu" "${CPU[$sc.$floor]}")" \
				"$(bench_fmt %.0f "$(med "$sc" "$name" 8)")"
		done
	done
	if ((${#WARN[@]})); then
		echo
		for o in "${WARN[@]}"; do echo "**Warning**: $o"; done
	fi
	echo
	echo "## Memory per idle keep-alive connection ($IDLE connections)"
	echo
	echo "| server | RSS before KiB | RSS with idle conns KiB | connections held | KiB per connection |"
	echo "|---|--:|--:|--:|--:|"
	for name in ordergated nginx haproxy; do
		if [ -z "${RSS0[$name]:-}" ]; then
			echo "| ${LABEL[$name]} | ${FAILED[$name]:-no result} | | | |"
			continue
		fi
		printf '| %s | %s | %s | %s | %s |\n' "${LABEL[$name]}" "${RSS0[$name]}" "${RSS1[$name]}" \
			"${HELD[$name]}" "$(bench_fmt %.2f "${KIB_PER[$name]:-}")"
	done
	echo
	echo "## Goals"
	echo
	goals
	echo
	echo "## Runs"
	echo
	echo "Every measured run in the order it ran. On CPU 1, \"other\" is busy time not charged to" \
		"the server (other processes, or ksoftirqd doing its network work) and \"steal\" is time the" \
		"hypervisor gave to someone else; a quiet machine shows a few % of each."
	echo
	echo '```'
	cat "$BENCH_TMP/runs.log" 2>/dev/null
	echo '```'
	for f in "$BENCH_TMP"/res/*; do
		[ -s "$f" ] || continue
		while read -r _ _ _ _ _ o st _; do
			bench_isnum "$o" && [ "$(bench_calc "$o > $other_max")" = 1 ] && other_max=$o
			bench_isnum "$st" && [ "$(bench_calc "$st > $steal_max")" = 1 ] && steal_max=$st
		done <"$f"
	done
	if [ "$(bench_calc "$other_max > 10 || $steal_max > 5 || $LOAD0 > 0.5")" = 1 ]; then
		echo
		echo "**Busy machine**: load average $LOAD0 at start; during a run up to" \
			"$(bench_fmt %.1f "$other_max")% of CPU 1 went to other work and up to" \
			"$(bench_fmt %.1f "$steal_max")% was stolen by the hypervisor." \
			"Re-measure on a quiet machine before quoting these numbers."
	fi
}

goals() {
	local og fl ng hp best ok t
	og=${CPU[direct.ordergated]} fl=${CPU[direct.floor]} ng=${CPU[direct.nginx]} hp=${CPU[direct.haproxy]}
	ok=""
	bench_isnum "$og" && bench_isnum "$fl" && ok=$(bench_calc "$og <= 1.10 * $fl")
	bench_goal "direct, within 1.10× the floor" "$ok" \
		"ordergated $(bench_fmt %.2f "$og") µs/req vs floor $(bench_fmt %.2f "$fl") µs/req ($(bench_ratio "$og" "$fl" 3)×)"
	ok=""
	bench_isnum "$og" && bench_isnum "$ng" && bench_isnum "$hp" && ok=$(bench_calc "$og < $ng && $og < $hp")
	bench_goal "direct, below nginx and haproxy" "$ok" \
		"ordergated $(bench_fmt %.2f "$og"), nginx $(bench_fmt %.2f "$ng"), haproxy $(bench_fmt %.2f "$hp") µs/req"
	og=${CPU[proxied.ordergated]} ng=${CPU[proxied.nginx]} hp=${CPU[proxied.haproxy]}
	ok="" best=nan
	if bench_isnum "$ng" && bench_isnum "$hp"; then best=$(bench_calc "$ng < $hp ? $ng : $hp"); fi
	bench_isnum "$og" && bench_isnum "$best" && ok=$(bench_calc "$best >= 1.15 * $og")
	bench_goal "proxied, the better of nginx/haproxy ≥ 1.15× ordergated" "$ok" \
		"best $(bench_fmt %.2f "$best") µs/req vs ordergated $(bench_fmt %.2f "$og") µs/req ($(bench_ratio "$best" "$og" 3)×)"
	for t in direct proxied; do
		og=${P99[$t.ordergated]} ng=${P99[$t.nginx]} hp=${P99[$t.haproxy]}
		ok=""
		bench_isnum "$og" && bench_isnum "$ng" && bench_isnum "$hp" && ok=$(bench_calc "$og <= $ng && $og <= $hp")
		bench_goal "$t, p99 no worse than nginx and haproxy" "$ok" \
			"ordergated $(bench_fmt %.0f "$og") µs, nginx $(bench_fmt %.0f "$ng") µs, haproxy $(bench_fmt %.0f "$hp") µs"
	done
	og=${KIB_PER[ordergated]:-} ng=${KIB_PER[nginx]:-}
	ok=""
	bench_isnum "$og" && bench_isnum "$ng" && ok=$(bench_calc "$og <= $ng")
	bench_goal "idle memory per connection ≤ nginx's" "$ok" \
		"ordergated $(bench_fmt %.2f "$og") KiB, nginx $(bench_fmt %.2f "$ng") KiB"
}

report >"$OUT"
cp "$OUT" "$BUILD/bench/results-latest.md" 2>/dev/null || true
echo
cat "$OUT"
echo
bench_log "results written to $OUT"
if [ "${BENCH_UPDATE_DOC:-0}" = 1 ]; then
	bench_update_doc "$ROOT/docs/benchmarks.md" "$OUT" && bench_log "updated docs/benchmarks.md"
fi
((RC == 0)) || bench_log "FAILED: a server did not start or a run was not clean (see above)"
exit "$RC"
