#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Chaos on the gateway itself under order load: takeover (a new ordergated beside the old one,
# SO_REUSEPORT, then SIGTERM to the old: zero failed orders is the goal), a plain restart
# (a gap: orders fail, but each one explicitly), and a wall-clock skew of +1 h (faketime, the
# monotonic clock untouched: nothing may fail). Exactly-once accounting after each.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/chaos/lib.bash
c_begin
c_setup

# reap OLD: the replaced gateway was our child; collect its exit status into RC.
reap() { wait "$1" 2>/dev/null; RC=$?; }

# --- takeover ------------------------------------------------------------------------------
old=$C_GW_PID
c_load takeover
sleep 0.5
c_drill takeover --pid "$old" --config "$C_CONF" --port "$C_GW_PORT"
ok $? "drill takeover ran (mechanism $(c_drill_val takeover mechanism))"
C_GW_PID=$(c_drill_val takeover pid)
reap "$old"
is "$RC" 0 "the old gateway (pid $old) drained and exited 0"
c_load_finish takeover 2
c_account takeover
is "$C_FAIL" 0 "takeover: zero failed orders across the takeover ($C_SENT sent)"

# --- restart: stop, then start (a gap) -----------------------------------------------------
c_load restart
sleep 0.5
c_drill restart --pid "$C_GW_PID" --config "$C_CONF" --port "$C_GW_PORT"
ok $? "drill restart ran"
C_GW_PID=$(c_drill_val restart pid)
c_load_finish restart 2
c_account restart
sys_diag "restart: failures by kind: $(awk '$2 !~ /^2/ {print $2}' "$C_TMP/restart.out" | sort | uniq -c | tr '\n' ' ')"
read -r rec_ms fails <<<"$(c_recovery restart "$(c_drill_val restart fault_off_ns)")"
ok $([ "$rec_ms" -le 1000 ]; echo $?) "restart: errors back to zero within 1 s once the new gateway listens ($rec_ms ms)"

# --- clock skew: +1 h wall clock on the gateway for 3 s ------------------------------------
c_load skew
sleep 0.5
c_drill skew --offset +3600 --duration 3 --pid "$C_GW_PID" --config "$C_CONF" --port "$C_GW_PORT" \
	--url "http://$C_GW:$C_GW_PORT/time"
ok $? "drill skew ran (mechanism $(c_drill_val skew mechanism))"
C_GW_PID=$(grep -o 'pid=[0-9]*' "$C_TMP/drill-skew.log" | tail -1 | cut -d= -f2)
seen=$(sed -n "s/.*skewed gateway's Date: \(.*\) (true.*/\1/p" "$C_TMP/drill-skew.log")
d=$(( $(date -d "$seen" +%s 2>/dev/null || echo 0) - $(date +%s) ))
ok $([ "$d" -ge 3500 ] && [ "$d" -le 3700 ]; echo $?) "the skewed gateway's Date: header was ~1 h ahead ($d s)"
now=$(curl -s -m 2 -D - -o /dev/null "http://$C_GW:$C_GW_PORT/time" | tr -d '\r' | sed -n 's/^[Dd]ate: //p')
d=$(( $(date -d "$now" +%s 2>/dev/null || echo 0) - $(date +%s) ))
ok $([ "$d" -ge -5 ] && [ "$d" -le 5 ]; echo $?) "after the drill the gateway's clock is true again ($d s off)"
c_load_finish skew 2
c_account skew
is "$C_FAIL" 0 "skew: zero failed orders across +1 h of wall clock and two takeovers"
tap_done
