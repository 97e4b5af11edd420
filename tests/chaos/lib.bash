# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared setup for the chaos suites (c_*.sh): lab, recording origins, gateway, order client,
# exactly-once accounting and recovery time. Not a suite itself (tests/run runs *.sh only).
#
#   client netns ──veth── gateway (root ns, build/ordergated) ──veth── origin netns
#   ogorders (C)          $C_GW:$C_GW_PORT                        origin.py a :$C_P1, b :$C_P2
#
# The origins append "ID NAME" to $C_REC for every order before answering it; the client
# writes "ID CODE SEND_US DONE_US" for every order it started. c_account compares the two.
# Everything started here is stopped by PID from the cleanup stack (tests/system/lib.sh).

. "$(dirname "${BASH_SOURCE[0]}")/../system/lib.sh"

C_DRILL=$SYS_ROOT/deploy/chaos/drill
C_CLIENT=$SYS_BUILD/chaos/ogorders
C_ORIGIN=$SYS_ROOT/tests/chaos/origin.py
C_DAEMON=${OG_DAEMON:-$SYS_BUILD/ordergated}
# the interpreter itself, not a pyenv shim (a shim costs ~1 s per start, which a restarted
# origin would add to its downtime)
C_PY=$("$SYS_PY" -c 'import sys; print(sys.executable)')

# c_begin: root, binaries, a private lab (no origin, no stand-in gateway, no attach), ports,
# a temp dir. One failed test and exit 1 when something needed is missing.
c_begin() {
	sys_require_root || exit 0
	if [ ! -x "$C_DAEMON" ]; then
		ok 1 "daemon binary $C_DAEMON exists (make all)"
		tap_done
		exit 1
	fi
	c_build_client || { ok 1 "order client builds"; tap_done; exit 1; }
	sys_lab_up LAB_ORIGIN=none LAB_GATEWAY=none LAB_ATTACH=0 >/dev/null ||
		{ ok 1 "lab up"; tap_done; exit 1; }
	sys_tmpdir
	C_TMP=$SYS_TMPDIR
	C_REC=$C_TMP/records
	: >"$C_REC"
	C_GW=$LAB_GW4
	C_O=$LAB_ORIGIN4
	C_GW_PORT=$(sys_free_port)
	C_ADMIN_PORT=$(sys_free_port)
	C_P1=$(sys_free_port "$LAB_NS_ORIGIN")
	C_P2=$(sys_free_port "$LAB_NS_ORIGIN")
	while [ "$C_P2" = "$C_P1" ]; do C_P2=$(sys_free_port "$LAB_NS_ORIGIN"); done
	C_ID=c$(sys_uid)
	# if this suite dies mid-drill, the drill's own trap cleans up; this catches a SIGKILLed one
	sys_cleanup_push "$C_DRILL" cleanup --id "$C_ID"
}

# c_build_client: (re)build the order client into build/chaos when its source is newer.
c_build_client() {
	local src=$SYS_ROOT/tests/chaos/ogorders.c
	[ -x "$C_CLIENT" ] && [ "$C_CLIENT" -nt "$src" ] && return 0
	mkdir -p "$(dirname "$C_CLIENT")"
	${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -o "$C_CLIENT.tmp" "$src" && mv "$C_CLIENT.tmp" "$C_CLIENT"
}

# c_origin_start NAME PORT: recording origin NAME in the origin namespace; sets C_OPID[NAME].
declare -A C_OPID
c_origin_cmd() { # the command line that (re)starts origin NAME on PORT
	printf 'ip netns exec %q %q %q --listen %q --name %q --record %q --max-secs 600' \
		"$LAB_NS_ORIGIN" "$C_PY" "$C_ORIGIN" "$C_O:$2" "$1" "$C_REC"
}
c_origin_start() {
	local name=$1 port=$2
	# started directly so $! is the origin itself (`ip netns exec` execs): the slow drill
	# stops exactly that process
	ip netns exec "$LAB_NS_ORIGIN" "$C_PY" "$C_ORIGIN" --listen "$C_O:$port" --name "$name" \
		--record "$C_REC" --max-secs 600 2>>"$C_TMP/origin-$name.err" &
	C_OPID[$name]=$!
	disown "$!" # the crash drill kills it on purpose: no "Killed" job notice
	sys_cleanup_push c_pid_stop "$name"
	sys_wait_port "$C_O" "$port" "$LAB_NS_ORIGIN" 5
}
# c_pid_stop NAME: stop origin NAME by the PID on record (a restarted one included).
c_pid_stop() { sys_kill_pid "${C_OPID[$1]:-}"; }

# c_conf FILE SERVER...: the gateway config, a catch-all proxy route to an upstream of SERVERs.
# Timeouts are short so a fault shows within the drill: connect 200 ms, response 1 s; active
# health checks every 250 ms with a 500 ms timeout (fall/rise 2: a busy origin on a busy machine
# is slow, not dead), outlier ejection after 3 failures, and a breaker
# open for 1 s (the default 30 s keeps a restarted origin out long after its health checks pass).
# With C_TOKEN_FILE set, the admin API takes that token (POST /faults, POST /reload).
c_conf() {
	local f=$1 s list="" tok=""
	shift
	for s in "$@"; do list+="\"$s\", "; done
	[ -n "${C_TOKEN_FILE:-}" ] && tok=", token_file: \"$C_TOKEN_FILE\""
	cat >"$f" <<EOF
workers: 2
listen: ["$C_GW:$C_GW_PORT"]
admin: { listen: "127.0.0.1:$C_ADMIN_PORT"$tok }
shutdown_grace_ms: 3000
upstreams:
  orders:
    servers: [${list%, }]
    keepalive: 32
    connect_timeout_ms: 200
    timeout_ms: 1000
    retries: 1
    health: { path: /healthz, interval_ms: 250, timeout_ms: 500, rise: 2, fall: 2 }
    outlier: { consecutive_5xx: 3, eject_ms: 2000 }
    breaker: { consecutive_failures: 5, open_ms: 1000 }
routes:
  - name: time
    match: { path: /time }
    respond: { status: 200, body: "time" }
  - name: orders
    match: { path_prefix: / }
    upstream: orders
EOF
}

# c_gw_start CONF: the gateway in the root namespace; C_GW_PID. Waits until it proxies.
c_gw_start() {
	local i
	"$C_DAEMON" -c "$1" >"$C_TMP/gw.out" 2>>"$C_TMP/gw.err" &
	C_GW_PID=$!
	sys_cleanup_push c_gw_stop
	for ((i = 0; i < 100; i++)); do
		[ "$(sys_curl "$LAB_NS_CLIENT" "http://$C_GW:$C_GW_PORT/healthz")" = 200 ] && return 0
		sleep 0.05
	done
	sys_diag "$(tail -5 "$C_TMP/gw.err")"
	return 1
}
c_gw_stop() { sys_kill_pid "${C_GW_PID:-}"; }

# c_setup [SERVER...]: origins a and b, the gateway to SERVERs (default both origins).
c_setup() {
	c_origin_start a "$C_P1" && c_origin_start b "$C_P2" ||
		{ ok 1 "recording origins start"; tap_done; exit 1; }
	C_CONF=$C_TMP/gw.yaml
	if [ $# -gt 0 ]; then c_conf "$C_CONF" "$@"; else c_conf "$C_CONF" "$C_O:$C_P1" "$C_O:$C_P2"; fi
	c_gw_start "$C_CONF" || { ok 1 "gateway starts"; tap_done; exit 1; }
}

# c_load NAME [ARGS...]: the order client from the client namespace in the background (closed
# loop, 16 connections, 1.5 s timeout, at most 60 s), outcomes in $C_TMP/NAME.out, ids NAME-N.
# Returns once orders flow (2xx in the timeline). Sets C_LOAD_PID. c_load_finish ends it.
c_load() {
	local name=$1 i
	shift
	c_settle || sys_diag "$name: the upstream servers were not all healthy and closed within 10 s"
	ip netns exec "$LAB_NS_CLIENT" "$C_CLIENT" -a "$C_GW:$C_GW_PORT" -c 16 -d 60 -t 1500 \
		-p "$name" -o "$C_TMP/$name.out" -T "$C_TMP/$name.tl" -i 250 "$@" >"$C_TMP/$name.res" 2>&1 &
	C_LOAD_PID=$!
	sys_cleanup_push sys_kill_pid "$C_LOAD_PID"
	for ((i = 0; i < 100; i++)); do
		[ "$(awk '$3 > 0' "$C_TMP/$name.tl" 2>/dev/null | wc -l)" -ge 2 ] && return 0
		sleep 0.1
	done
	sys_diag "$name: no orders flowing after 10 s"
}
# c_load_finish NAME SECS: keep the load SECS more seconds (the recovery window after a drill
# returned), then stop it (SIGTERM: in-flight orders finish), wait, print its RESULT line.
# Timed from the drill's end, not the load's start: a drill's setup time varies with the machine.
c_load_finish() {
	sleep "$2"
	kill -TERM "$C_LOAD_PID" 2>/dev/null
	wait "$C_LOAD_PID"
	sys_diag "$(cat "$C_TMP/$1.res")"
}

# c_settle: wait (up to 10 s) until every upstream server is healthy with its breaker closed,
# so one drill's aftermath (a server still ejected or half-open) does not hide the next drill.
c_settle() {
	local i m
	for ((i = 0; i < 100; i++)); do
		m=$(curl -s -m 2 "http://127.0.0.1:$C_ADMIN_PORT/metrics") &&
			[ -n "$m" ] &&
			! echo "$m" | grep -E '^ordergate_upstream_server_healthy\{' | grep -qv ' 1$' &&
			! echo "$m" | grep -E '^ordergate_upstream_breaker_state\{' | grep -qv ' 0$' &&
			return 0
		# a half-open breaker closes only on a request that probes it: send a few
		# (GET /healthz: the origins do not record it)
		curl -s -m 1 -o /dev/null "http://$C_GW:$C_GW_PORT/healthz" \
			-o /dev/null "http://$C_GW:$C_GW_PORT/healthz" 2>/dev/null
		sleep 0.1
	done
	return 1
}

# c_field FILE KEY: value of KEY=VALUE in FILE (first match).
c_field() { grep -o "$2=[^ ]*" "$1" | head -1 | cut -d= -f2; }

# c_account NAME: the exactly-once assertions for the orders of NAME (4 tests):
#   every order the client started has exactly one outcome;
#   every order answered 2xx was recorded exactly once;
#   every order that was not recorded got an explicit error (nothing silently lost);
#   nothing was recorded twice, and nothing recorded that the client never sent.
# Sets C_SENT C_OK C_FAIL C_AMBIG (failed but recorded: the origin did take it).
c_account() {
	local name=$1 out=$C_TMP/$1.out stats
	# shellcheck disable=SC2207 # words on purpose: KEY=NUMBER only
	stats=($(awk -v pre="$name-" '
		FNR == NR { if (index($1, pre) == 1) { rec[$1]++; nrec++ } ; next }
		{ n++; seen[$1]++; if (seen[$1] > 1) multi++
		  id = substr($1, length(pre) + 1) + 0; if (id > maxid) maxid = id
		  ok = ($2 ~ /^2[0-9][0-9]$/)
		  if (ok) nok++; else nfail++
		  r = ($1 in rec) ? rec[$1] : 0   # (reading rec[$1] would create the entry)
		  if (ok && r != 1) okbad++
		  if (!ok && !($1 in rec)) failunrec++
		  if (!ok && ($1 in rec)) ambig++
		  if (!($1 in rec)) unrec++ }
		END {
		  for (k in rec) { if (rec[k] > 1) dup++; if (!(k in seen)) phantom++ }
		  printf "sent=%d maxid=%d multi=%d ok=%d fail=%d okbad=%d unrec=%d failunrec=%d ambig=%d nrec=%d dup=%d phantom=%d\n",
			n, maxid, multi, nok, nfail, okbad, unrec, failunrec, ambig, nrec, dup, phantom }
	' "$C_REC" "$out"))
	sys_diag "$name accounting: ${stats[*]}; recorded by origin: $(awk -v pre="$name-" \
		'index($1, pre) == 1 { n[$2]++ } END { for (k in n) printf "%s=%d ", k, n[k] }' "$C_REC")"
	# the stats are KEY=NUMBER words: made local variables at once (no process per field)
	local sent maxid multi ok fail okbad unrec failunrec ambig nrec dup phantom
	local "${stats[@]}"
	C_SENT=$sent C_OK=$ok C_FAIL=$fail C_AMBIG=$ambig
	ok $([ "$sent" -ge 200 ] && [ "$maxid" = "$sent" ] && [ "$multi" = 0 ]; echo $?) \
		"$name: each of $sent orders has exactly one outcome (ids 1..$maxid)"
	is "$okbad" 0 "$name: every 2xx order ($ok) was recorded exactly once"
	is "$failunrec" "$unrec" \
		"$name: every unrecorded order got an explicit error ($fail failed, $ambig of them taken by an origin)"
	is "$dup/$phantom" 0/0 "$name: no order recorded twice / none recorded that was never sent"
}

# c_failures NAME FROM_NS: the failed orders by outcome and by 100 ms of send time after FROM_NS
# (as a diagnostic: what failed, and for how long).
c_failures() {
	sys_diag "$1: failed by outcome: $(awk '$2 !~ /^2[0-9][0-9]$/ { n[$2]++ } END { for (k in n) printf "%s=%d ", k, n[k] }' "$C_TMP/$1.out")"
	sys_diag "$1: failed by send time (100 ms slots after the fault): $(awk -v from="$(($2 / 1000))" '
		$2 !~ /^2[0-9][0-9]$/ { b = int(($3 - from) / 100000); n[b]++ }
		END { for (k in n) printf "%d:%d ", k, n[k] }' "$C_TMP/$1.out" | tr ' ' '\n' | sort -n | tr '\n' ' ')"
}

# c_recovery NAME FROM_NS: ms from FROM_NS (CLOCK_REALTIME ns) to the send time of the last
# failed order (0 when none failed after FROM_NS); also C_FAILS_AFTER (failures sent after it).
c_recovery() {
	awk -v from="$(($2 / 1000))" '
		$2 !~ /^2[0-9][0-9]$/ { if ($3 > last) last = $3; if ($3 >= from) n++ }
		END { r = (last > from) ? (last - from) / 1000 : 0; printf "%d %d\n", r, n }
	' "$C_TMP/$1.out"
}

# c_drill NAME ARGS...: run deploy/chaos/drill NAME with this suite's --id, output in
# $C_TMP/drill-NAME.log (also as diagnostics); returns the drill's exit status.
c_drill() {
	local name=$1 rc
	shift
	"$C_DRILL" "$name" --id "$C_ID" "$@" >"$C_TMP/drill-$name.log" 2>&1
	rc=$?
	sys_diag "$(cat "$C_TMP/drill-$name.log")"
	return $rc
}
# c_drill_bg NAME ARGS...: the same in the background; C_DRILL_PID.
c_drill_bg() {
	local name=$1
	shift
	"$C_DRILL" "$name" --id "$C_ID" "$@" >"$C_TMP/drill-$name.log" 2>&1 &
	C_DRILL_PID=$!
	sys_cleanup_push sys_kill_pid "$C_DRILL_PID"
}
# c_drill_val NAME KEY: a KEY=VALUE the drill printed.
c_drill_val() { c_field "$C_TMP/drill-$1.log" "$2"; }

# c_no_leftovers: the drill's nft table and probe links are gone (one test).
c_no_leftovers() {
	local left
	left=$( { nft list tables; ip netns exec "$LAB_NS_ORIGIN" nft list tables; ip -br link; } 2>/dev/null |
		grep -E "ordergate_chaos_$C_ID|ogck" )
	is "$left" "" "the drills left no nft table or probe link behind"
}
