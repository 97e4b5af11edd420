#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ordergated under upstream failures: refused, hung, killed origins; health checks; breaker.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_begin
D_HOLE_PORT=$(sys_free_port)
D_O3_PORT=$(sys_free_port)
D_BRK_PORT=$(sys_free_port)
D_BRK2_PORT=$(sys_free_port)
D_GW2_PORT=$(sys_free_port)
D_ADMIN2_PORT=$(sys_free_port)

d_blackhole "$D_HOLE_PORT" || { ok 1 "blackhole listener starts"; tap_done; exit 1; }
d_origin_start o2 "$D_O2_PORT" || { ok 1 "nginx origin o2 starts"; tap_done; exit 1; }
d_origin_start o5 "$D_BRK2_PORT" || { ok 1 "nginx origin o5 starts"; tap_done; exit 1; }

d_gw_conf 2 <<EOF
upstreams:
  dead: { servers: ["127.0.0.1:$D_DEAD_PORT"], breaker: { consecutive_failures: 100, open_ms: 1000 } }
  slow: { servers: ["127.0.0.1:$D_HOLE_PORT"], timeout_ms: 500, retries: 0 }
  victim: { servers: ["127.0.0.1:$D_O2_PORT"], timeout_ms: 10000, breaker: { consecutive_failures: 100, open_ms: 1000 } }
  brk:
    servers: ["127.0.0.1:$D_BRK_PORT", "127.0.0.1:$D_BRK2_PORT"]
    retries: 0
    breaker: { consecutive_failures: 3, open_ms: 8000 }
routes:
  - { name: dead, match: { path_prefix: /dead/ }, upstream: dead }
  - { name: slow, match: { path_prefix: /slowup/ }, upstream: slow }
  - { name: hang, match: { path_prefix: /hang/ }, upstream: victim }
  - { name: slowbody, match: { path_prefix: /slow/ }, upstream: victim }
  - { name: brk, match: { path_prefix: /brk/ }, upstream: brk }
EOF
d_gw_start gw "$D_TMP/gw.yaml"
ok $? "gateway 1 starts"

# req PATH [CURL ARGS]: "CODE REASON SECONDS" for one request (max 15 s)
req() {
	local p=$1; shift
	curl -s --max-time 15 -o /dev/null -D "$D_TMP/h" -w '%{http_code} %{time_total}' "$@" \
		"$(d_gw "$p")" >"$D_TMP/r"
	local reason
	reason=$(tr -d '\r' <"$D_TMP/h" | awk -F': ' 'tolower($1) == "x-ordergate-reason" { print $2 }')
	read -r code t <"$D_TMP/r"
	echo "$code ${reason:--} $t"
}
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# --- connect refused: 502 at once ----------------------------------------------------------
read -r code reason t <<<"$(req /dead/x)"
is "$code" 502 "GET to a refused server: 502"
ok $([[ $reason == connect-* ]]; echo $?) "... with x-ordergate-reason ($reason)"
ok $(lt "$t" 1; echo $?) "... quickly (${t}s < 1 s)"
read -r code reason t <<<"$(req /dead/y --data-binary order=1)"
is "$code" 502 "POST to a refused server: 502 (nothing reached it, so nothing lost)"

# --- hung origin: 504 after timeout_ms -------------------------------------------------------
read -r code reason t <<<"$(req /slowup/x)"
is "$code" 504 "origin that never answers: 504"
ok $([ "$reason" != - ]; echo $?) "... with x-ordergate-reason ($reason)"
ok $(lt 0.4 "$t" && lt "$t" 2.5; echo $?) "... after the 500 ms timeout_ms (${t}s)"

# --- origin killed mid-request: 502, no hang ----------------------------------------------------
req /hang/x >"$D_TMP/kill1" &
cpid=$!
sleep 0.5
d_origin_stop o2
wait "$cpid"
read -r code reason t <"$D_TMP/kill1"
is "$code" 502 "origin killed while holding the request: 502"
ok $([ "$reason" != - ]; echo $?) "... with x-ordergate-reason ($reason)"
ok $(lt "$t" 3; echo $?) "... and no hang (${t}s)"
d_origin_start o2 "$D_O2_PORT" || ok 1 "origin o2 restarts"
curl -s --max-time 15 -o "$D_TMP/part" -w '%{http_code}' "$(d_gw /slow/1m)" >"$D_TMP/kill2" 2>/dev/null &
cpid=$!
sleep 0.5
d_origin_stop o2
wait "$cpid"
rc=$?
size=$(stat -c %s "$D_TMP/part" 2>/dev/null || echo 0)
ok $([ "$rc" -ne 0 ] && [ "$rc" -ne 28 ]; echo $?) \
	"origin killed mid-body: the client sees a cut transfer (curl exit $rc), not a hang"
ok $([ "$size" -lt 1048576 ]; echo $?) "... and not a complete-looking body ($size B)"

# --- breaker: opens after 3 failures, traffic goes to the other server, closes after open_ms --
# (a breaker never opens on the last usable server of a pool: d_origin_fail.sh)
codes=""
n502=0
for i in $(seq 8); do
	read -r code reason t <<<"$(req /brk/$i)"
	codes="$codes$code "
	[ "$code" = 502 ] && n502=$((n502 + 1)) && [ "$n502" = 3 ] &&
		start=$(date +%s%N) # the breaker opened at the 3rd failure
done
is "$n502" 3 "8 requests to a pool with one refused server: exactly 3 x 502 ($codes)"
BRK="ordergate_upstream_breaker_state{upstream=\"brk\",server=\"127.0.0.1:$D_BRK_PORT\"}"
is "$(d_metric "$BRK")" 2 "metrics: breaker state 2 (open)"
codes=""
for i in 1 2 3 4; do
	read -r code reason t <<<"$(req /brk/open$i)"
	codes="$codes$code "
	[ "$code" = 200 ] || diag "open$i: $code $reason"
done
is "$codes" "200 200 200 200 " "while it is open, the other server answers everything"
d_origin_start o4 "$D_BRK_PORT" || ok 1 "origin o4 starts on the breaker's port"
state=2
for ((i = 0; i < 140; i++)); do # open_ms 8000: give it up to 14 s
	req /brk/probe$i >/dev/null
	state=$(d_metric "$BRK")
	[ "$state" = 0 ] && break
	sleep 0.1
done
ms=$((($(date +%s%N) - start) / 1000000))
is "$state" 0 "breaker closes after a successful probe once open_ms passed and the server is back"
ok $([ "$ms" -ge 7900 ]; echo $?) "... not before open_ms 8000 ($ms ms after it opened)"
is "$(req /brk/after | cut -d' ' -f1)" 200 "traffic flows again"

d_gw_stop gw
is "$D_RC" 0 "gateway 1 exits 0 on SIGTERM"

# --- health checks: a dead server leaves the pool and comes back ------------------------------
d_origin_start o1 "$D_O1_PORT" || ok 1 "origin o1 starts"
d_origin_start o3 "$D_O3_PORT" || ok 1 "origin o3 starts"
D_GW_PORT=$D_GW2_PORT D_ADMIN_PORT=$D_ADMIN2_PORT
cat >"$D_TMP/gw2.yaml" <<EOF
workers: 2
listen: ["127.0.0.1:$D_GW_PORT"]
admin: { listen: "127.0.0.1:$D_ADMIN_PORT" }
upstreams:
  pair:
    servers: ["127.0.0.1:$D_O1_PORT", "127.0.0.1:$D_O3_PORT"]
    balance: round_robin
    health: { path: /healthz, interval_ms: 200, timeout_ms: 200, rise: 2, fall: 2 }
routes:
  - { name: pair, match: { path_prefix: / }, upstream: pair }
EOF
d_gw_start gw2 "$D_TMP/gw2.yaml"
ok $? "gateway 2 (health checks) starts"
H1="ordergate_upstream_server_healthy{upstream=\"pair\",server=\"127.0.0.1:$D_O1_PORT\"}"
H3="ordergate_upstream_server_healthy{upstream=\"pair\",server=\"127.0.0.1:$D_O3_PORT\"}"
# wait_metric SERIES VALUE SECONDS: poll /metrics; returns 0 when SERIES == VALUE in time
wait_metric() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(d_metric "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
who() { # who N: which origins answered N requests ("o1 o3" sorted unique)
	for ((i = 0; i < $1; i++)); do
		curl -s --max-time 5 "$(d_gw /who)" | sed -n 's/^origin=\([a-z0-9]*\) .*/\1/p'
	done | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }'
}
wait_metric "$H3" 1 3
ok $? "both servers healthy at start"
got=$(who 20)
ok $([[ $got =~ ^o1:([0-9]+)\ o3:([0-9]+)\ $ ]] && [ "${BASH_REMATCH[1]}" -ge 5 ] &&
	[ "${BASH_REMATCH[2]}" -ge 5 ]; echo $?) "round robin spreads over both servers ($got)"
d_origin_stop o3
wait_metric "$H3" 0 3
ok $? "o3 stopped: the health check marks it down (fall 2 x 200 ms)"
is "$(curl -s --max-time 5 -w '|%{http_code}' "$(d_admin /readyz)" | tr -d '\n')" "ready|200" \
	"/readyz still 200 with one healthy server"
is "$(who 20)" "o1:20 " "all traffic goes to the healthy server"
d_origin_stop o1
wait_metric "$H1" 0 3
ok $? "o1 stopped too: marked down"
out=$(curl -s --max-time 5 -w ' %{http_code}' "$(d_admin /readyz)")
ok $([[ $out == *pair*" 503" ]]; echo $?) "/readyz 503 naming the pool (${out//$'\n'/ })"
read -r code reason t <<<"$(req /x)"
is "$code $reason" "503 no-healthy-server" "a request with no healthy server: 503 no-healthy-server"
d_origin_start o1 "$D_O1_PORT" || ok 1 "origin o1 restarts"
start=$(date +%s%N)
wait_metric "$H1" 1 3
ok $? "o1 restarted: marked up again"
ms=$((($(date +%s%N) - start) / 1000000))
ok $([ "$ms" -le 1500 ]; echo $?) \
	"... within rise x interval + one interval + slack ($ms ms <= 1500)"
read -r code reason t <<<"$(req /x)"
is "$code" 200 "requests flow again"
is "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$(d_admin /readyz)")" 200 "/readyz 200 again"

d_gw_stop gw2
is "$D_RC" 0 "gateway 2 exits 0 on SIGTERM"
tap_done
