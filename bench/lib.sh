# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Helpers for bench/bench-http.sh: processes we start, /proc accounting, wrk output, statistics.
# shellcheck shell=bash

# Every PID started through bench_start, so the EXIT trap stops exactly those.
BENCH_PIDS=()
# shellcheck disable=SC2034 # used by bench-http.sh
CLK_TCK=$(getconf CLK_TCK)

bench_log() { echo "bench: $*" >&2; }

# bench_tmp_init PREFIX: a fresh BENCH_TMP (mode 755: nginx workers drop to an unprivileged user)
# and traps: on exit every PID started through bench_start is stopped, newest first, and
# BENCH_TMP is removed.
bench_tmp_init() {
	BENCH_TMP=$(mktemp -d "/tmp/$1.XXXXXX")
	chmod 755 "$BENCH_TMP"
	BENCH_CLEANED=0
	trap bench_cleanup EXIT
	trap 'bench_log interrupted; exit 130' INT TERM
}

bench_cleanup() {
	[ "$BENCH_CLEANED" = 1 ] && return
	BENCH_CLEANED=1
	local i
	for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do bench_stop "${BENCH_PIDS[i]}"; done
	cd / && rm -rf "$BENCH_TMP"
}

# bench_fail_start NAME WHY: NAME is left out of the run (the caller's FAILED[NAME]=WHY), the run
# ends non-zero (RC=1), and the tail of $BENCH_TMP/NAME.log is shown.
# shellcheck disable=SC2034 # FAILED and RC are the caller's
bench_fail_start() {
	FAILED[$1]=$2
	RC=1
	bench_log "$1 failed to start: $2"
	[ -s "$BENCH_TMP/$1.log" ] && sed 's/^/    /' "$BENCH_TMP/$1.log" | tail -n 20 >&2
}

# bench_free_port: an unused TCP port on loopback, chosen by the kernel.
bench_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_fill TEMPLATE OUT VAR=VALUE...: copy TEMPLATE to OUT replacing each @VAR@.
bench_fill() {
	local tpl=$1 out=$2 kv args=()
	shift 2
	for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
	sed "${args[@]}" "$tpl" >"$out"
	if grep -q '@[A-Z_]*@' "$out"; then
		bench_log "unfilled placeholder in $out: $(grep -o '@[A-Z_]*@' "$out" | sort -u | tr '\n' ' ')"
		return 1
	fi
}

# bench_start NAME CPU CMD...: run CMD in the background pinned to CPU, output in $BENCH_TMP/NAME.log.
# Sets BENCH_LAST_PID. taskset execs CMD, so the PID is the program's own.
bench_start() {
	local name=$1 cpu=$2
	shift 2
	taskset -c "$cpu" "$@" >"$BENCH_TMP/$name.log" 2>&1 &
	BENCH_LAST_PID=$!
	BENCH_PIDS+=("$BENCH_LAST_PID")
}

# bench_tree PID: PID and all its descendants (nginx master + worker), one per line.
bench_tree() {
	local pid=$1 t c
	[ -d "/proc/$pid" ] || return 0
	echo "$pid"
	for t in /proc/"$pid"/task/*/children; do
		for c in $(cat "$t" 2>/dev/null); do bench_tree "$c"; done
	done
}

# bench_alive PID: the process exists and is not a zombie.
bench_alive() {
	local st
	st=$(awk '{sub(/.*\) /, ""); print $1}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# bench_cpu_ticks PID...: user+sys clock ticks of these processes, all their threads included
# (/proc/PID/stat fields 14 and 15 cover the whole thread group). The command name may hold
# spaces or parentheses, so fields are counted after the last ')'.
bench_cpu_ticks() {
	local pid total=0 t
	for pid in "$@"; do
		t=$(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$pid/stat" 2>/dev/null) || continue
		total=$((total + ${t:-0}))
	done
	echo "$total"
}

# bench_cpu1_ticks: "BUSY STEAL" ticks of CPU 1 from /proc/stat; busy = user nice system irq
# softirq. Steal is time the hypervisor ran someone else: not charged to tasks (paravirt time
# accounting), but a sign of a busy host that slows everything that does run.
bench_cpu1_ticks() {
	awk '$1 == "cpu1" { print $2 + $3 + $4 + $7 + $8, $9 }' /proc/stat
}

# bench_rss_kib PID...: resident memory summed over the processes, KiB (smaps_rollup is exact;
# VmRSS is the fallback on kernels without it).
bench_rss_kib() {
	local pid total=0 r
	for pid in "$@"; do
		r=$(awk '/^Rss:/ { print $2; exit }' "/proc/$pid/smaps_rollup" 2>/dev/null)
		[ -n "$r" ] || r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		total=$((total + ${r:-0}))
	done
	echo "$total"
}

# bench_wait_http URL WANT_BODY SECS PID: poll until URL answers 200 with WANT_BODY, the process
# dies, or SECS pass. Returns 0 when it answered.
bench_wait_http() {
	local url=$1 want=$2 secs=$3 pid=$4 end body
	end=$((SECONDS + secs))
	while [ "$SECONDS" -le "$end" ]; do
		bench_alive "$pid" || return 1
		body=$(curl -fsS --noproxy "*" --max-time 1 "$url" 2>/dev/null) && [ "$body" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# bench_stop PID...: SIGTERM, up to 3 s to exit, then SIGKILL; only the PIDs given (and the
# children they leave behind, e.g. an nginx worker whose master was killed).
bench_stop() {
	local pid kids=()
	for pid in "$@"; do
		bench_alive "$pid" || continue
		mapfile -t -O "${#kids[@]}" kids < <(bench_tree "$pid" | tail -n +2)
		kill -TERM "$pid" 2>/dev/null
	done
	for _ in $(seq 30); do
		local any=0
		for pid in "$@" "${kids[@]}"; do bench_alive "$pid" && any=1; done
		[ "$any" = 0 ] && break
		sleep 0.1
	done
	for pid in "$@" "${kids[@]}"; do bench_alive "$pid" && kill -KILL "$pid" 2>/dev/null; done
	for pid in "$@"; do wait "$pid" 2>/dev/null; done
	return 0
}

# bench_to_us VALUE: a wrk duration ("412.00us", "1.23ms", "2.01s") in microseconds.
bench_to_us() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.1f\n", v }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.1f\n", v * 1000 }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.1f\n", v * 60000000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.1f\n", v * 1000000 }
		else print "nan" }'
}

# bench_parse_wrk FILE: "REQUESTS RPS P50_US P99_US ERRORS NON2XX BYTES_PER_RESPONSE" from wrk
# --latency output (wrk's "24.67MB read" counts 1024-based units).
bench_parse_wrk() {
	local f=$1 reqs rps p50 p99 errs non2xx bpr
	reqs=$(awk '/ requests in / { print $1; exit }' "$f")
	bpr=$(awk '/ requests in .* read$/ {
		v = $(NF - 1); m = 1
		if (v ~ /KB$/) m = 1024; else if (v ~ /MB$/) m = 1048576; else if (v ~ /GB$/) m = 1073741824
		sub(/[KMG]?B$/, "", v)
		if ($1 > 0) printf "%.0f\n", v * m / $1
		exit }' "$f")
	rps=$(awk '/^Requests\/sec:/ { print $2; exit }' "$f")
	p50=$(awk '$1 == "50%" { print $2; exit }' "$f")
	p99=$(awk '$1 == "99%" { print $2; exit }' "$f")
	errs=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10; exit }' "$f")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF; exit }' "$f")
	echo "${reqs:-0} ${rps:-0} $(bench_to_us "${p50:-nan}") $(bench_to_us "${p99:-nan}") ${errs:-0}" \
		"${non2xx:-0} ${bpr:-nan}"
}

# bench_time_wait PORT: TCP sockets in TIME-WAIT to or from PORT. Keep-alive clients leave about
# one per connection per run; a server that closes after each response leaves one per request.
bench_time_wait() {
	ss -Htan state time-wait "( sport = :$1 or dport = :$1 )" 2>/dev/null | wc -l
}

# bench_median FILE COLUMN: median of a whitespace-separated column (mean of the middle two
# when the count is even).
bench_median() {
	awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_calc EXPR: floating-point arithmetic through awk; comparisons give 1 or 0. The
# parentheses matter: a bare ">" after printf would redirect the output to a file.
bench_calc() {
	awk "BEGIN { printf \"%.6g\n\", ($1) }" 2>/dev/null || echo nan
}

bench_isnum() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }

# bench_fmt PRINTF-FORMAT VALUE: VALUE formatted, "–" when it is missing.
bench_fmt() {
	# shellcheck disable=SC2059 # the format is the caller's
	if bench_isnum "$2"; then printf "$1" "$2"; else printf '%s' "–"; fi
}

# bench_ratio A B [DECIMALS]: A / B, or "–".
bench_ratio() {
	if bench_isnum "$1" && bench_isnum "$2" && [ "$(bench_calc "$2 != 0")" = 1 ]; then
		printf "%.${3:-2}f" "$(bench_calc "$1 / $2")"
	else printf '%s' "–"; fi
}

# bench_goal NAME OK(1/0/"") TEXT: one PASS/MISS line ("n/a" when a figure is missing).
bench_goal() {
	local verdict
	case $2 in 1) verdict=PASS ;; 0) verdict=MISS ;; *) verdict="n/a " ;; esac
	echo "- $verdict $1: $3"
}

# bench_update_doc DOC RESULTS [MARKER]: replace what lies between DOC's "<!-- MARKER:begin -->"
# and "<!-- MARKER:end -->" lines (MARKER defaults to "results") with RESULTS, its headings
# moved two levels down.
bench_update_doc() {
	local doc=$1 res=$2 m=${3:-results}
	grep -q "^<!-- $m:begin -->\$" "$doc" && grep -q "^<!-- $m:end -->\$" "$doc" || {
		bench_log "$doc has no $m markers"
		return 1
	}
	awk -v res="$res" -v b="<!-- $m:begin -->" -v e="<!-- $m:end -->" '
		$0 == b {
			print; print ""
			while ((getline line < res) > 0) {
				if (line ~ /^#/) line = "##" line
				print line
			}
			print ""; skip = 1; next
		}
		$0 == e { skip = 0 }
		!skip' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
}
