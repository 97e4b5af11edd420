#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Fault injection per route: delays within their bounds and off the event loop, abort
# percentages within a statistical bound, aborted requests never reach the origin, metrics.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_begin o1

d_gw_conf 1 <<EOF
upstreams:
  o: { servers: ["127.0.0.1:$D_O1_PORT"] }
routes:
  - { name: ping, match: { path: /ping }, respond: { body: pong } }
  - name: delay
    match: { path_prefix: /delay/ }
    upstream: o
    fault: { delay_ms: 300, delay_jitter_ms: 100 }
  - name: half
    match: { path_prefix: /half/ }
    upstream: o
    fault: { delay_ms: 400, delay_percent: 50 }
  - name: abort
    match: { path_prefix: /abort/ }
    upstream: o
    fault: { abort_percent: 30 }
  - name: all500
    match: { path_prefix: /all500/ }
    upstream: o
    fault: { abort_status: 500, abort_percent: 100 }
  - name: hold
    match: { path_prefix: /hold/ }
    upstream: o
    fault: { delay_ms: 2000 }
  - name: clean
    match: { path_prefix: / }
    upstream: o
EOF
d_gw_start gw "$D_TMP/gw.yaml"
ok $? "gateway starts"
LOG=$(d_origin_log o1)
# origin_count PREFIX: requests the origin received under PREFIX
origin_count() { grep -c " $1" "$LOG" | tr -d ' '; }
ms_of() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }

# --- delay 300 +- 100 ms on every request --------------------------------------------------------
lo=100000 hi=0 codes=""
for ((i = 0; i < 20; i++)); do
	read -r code t < <(curl -s --max-time 10 -o /dev/null -w '%{http_code} %{time_total}\n' \
		"$(d_gw /delay/$i)")
	m=$(ms_of "$t")
	((m < lo)) && lo=$m
	((m > hi)) && hi=$m
	codes="$codes$code"
done
is "$codes" "$(printf '200%.0s' {1..20})" "20 requests on a delayed route: all 200 from the origin"
ok $([ "$lo" -ge 190 ]; echo $?) "no answer before delay_ms - jitter (fastest $lo ms >= 200 - 10 ms of rounding)"
ok $([ "$hi" -le 1200 ]; echo $?) \
	"none far after delay_ms + jitter (slowest $hi ms <= 400 ms + a tick + a loaded machine's slack)"
ok $([ $((hi - lo)) -ge 30 ]; echo $?) "the jitter spreads them ($lo .. $hi ms)"
is "$(origin_count /delay/)" 20 "the origin saw every delayed request"

# --- the loop is not blocked while requests wait -------------------------------------------------
for ((i = 0; i < 8; i++)); do
	curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' "$(d_gw /hold/$i)" >"$D_TMP/hold$i" &
	pids[i]=$!
done
for ((i = 0; i < 100; i++)); do # wait until all 8 are held (counted when drawn)
	[ "$(d_metric 'ordergate_fault_delays_total{route="hold"}')" = 8 ] && break
	sleep 0.05
done
start=$(date +%s%N)
pong=$(curl -s --max-time 5 "$(d_gw /ping)")
ping_ms=$((($(date +%s%N) - start) / 1000000))
is "$pong" pong "while 8 requests are held for 2 s, the same worker answers /ping"
ok $([ "$ping_ms" -lt 1000 ]; echo $?) "... at once ($ping_ms ms), not after the delays"
start=$(date +%s%N)
for ((i = 0; i < 8; i++)); do wait "${pids[i]}"; done
all_ms=$((($(date +%s%N) - start) / 1000000))
is "$(cat "$D_TMP"/hold* | sort -u | tr -d '\n')" 200 "the 8 held requests are answered 200"
ok $([ "$all_ms" -lt 4000 ]; echo $?) "... together within one delay, not one after another ($all_ms ms)"

# --- 50 % delayed ---------------------------------------------------------------------------------
slow=0
N=60
for ((i = 0; i < N; i++)); do
	t=$(curl -s --max-time 10 -o /dev/null -w '%{time_total}' "$(d_gw /half/$i)")
	[ "$(ms_of "$t")" -ge 380 ] && slow=$((slow + 1))
done
delays=$(d_metric 'ordergate_fault_delays_total{route="half"}')
ok $([ "$delays" -ge 15 ] && [ "$delays" -le 45 ]; echo $?) \
	"delay_percent 50: $delays of $N delayed (within 15..45, binomial sd 3.9)"
ok $([ "$slow" -ge "$delays" ] && [ "$slow" -le $((delays + 6)) ]; echo $?) \
	"... and that many took >= 400 ms ($slow; a few more on a loaded machine)"

# --- 30 % aborted -----------------------------------------------------------------------------------
N=300
n503=0 n200=0 other=0
for ((i = 0; i < N; i++)); do
	read -r code reason < <(curl -s --max-time 10 -o /dev/null -D "$D_TMP/h" -w '%{http_code} ' \
		"$(d_gw /abort/$i)"; tr -d '\r' <"$D_TMP/h" | awk -F': ' 'tolower($1) == "x-ordergate-reason" { print $2 }')
	case "$code ${reason:-}" in
	"503 fault-abort") n503=$((n503 + 1)) ;;
	"200 ") n200=$((n200 + 1)) ;;
	*) other=$((other + 1)) ;;
	esac
done
ok $([ "$n503" -ge 60 ] && [ "$n503" -le 120 ]; echo $?) \
	"abort_percent 30: $n503 of $N answered 503 fault-abort (within 60..120, binomial sd 7.9)"
is "$((n200 + n503)) $other" "$N 0" "the rest 200 from the origin, nothing else"
is "$(origin_count /abort/)" "$n200" "aborted requests never reached the origin"
is "$(d_metric 'ordergate_fault_aborts_total{route="abort"}')" "$n503" "metrics: aborts counted per route"
is "$(d_metric 'ordergate_errors_total{reason="fault-abort"}')" "$n503" "metrics: errors_total{reason=fault-abort}"

# --- abort_status --------------------------------------------------------------------------------------
is "$(d_code "$(d_gw /all500/x)")" 500 "abort_status 500, abort_percent 100: 500"
is "$(origin_count /all500/)" 0 "... and the origin saw none"
is "$(d_code "$(d_gw /plain)")" 200 "a route without fault: untouched"
is "$(d_metric 'ordergate_fault_delays_total{route="clean"}')" "" "no fault series for a route without fault"

# --- a client that leaves while held -----------------------------------------------------------------
curl -s --max-time 0.3 -o /dev/null "$(d_gw /hold/gone)"
for ((i = 0; i < 100; i++)); do # the hold (2 s) ends: the request goes on, the client is gone
	[ "$(origin_count /hold/gone)" = 1 ] && break
	sleep 0.05
done
is "$(d_code "$(d_gw /ping)")" 200 "a client gone during the delay leaves the gateway serving"

d_gw_stop gw
is "$D_RC" 0 "gateway exits 0"
tap_done
