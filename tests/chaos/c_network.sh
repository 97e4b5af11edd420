#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Chaos on the network under order load: packet loss and a partition between the gateway and
# an origin, a partition between the client and the gateway, and delay +- jitter toward an
# origin. Loss/partition use netem where the kernel has it, nftables where not; delay uses a
# delay relay the gateway's upstream points at (origin a is always reached through it).
# Exactly-once accounting after each drill, and the recovery time after the fault is removed.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/chaos/lib.bash
c_begin

# origin a behind a delay relay in the root namespace (0 ms until the delay drill)
R_PORT=$(sys_free_port)
R_CTL=$C_TMP/relay.ctl
echo "0 0" >"$R_CTL"
"$C_DRILL" relay --listen "127.0.0.1:$R_PORT" --to "$LAB_ORIGIN4:$C_P1" --relay-ctl "$R_CTL" \
	--duration 300 2>"$C_TMP/relay.err" >/dev/null &
R_PID=$!
sys_cleanup_push sys_kill_pid "$R_PID"
sys_wait_port 127.0.0.1 "$R_PORT" "" 5
ok $? "delay relay listens on 127.0.0.1:$R_PORT -> origin a"
c_setup "127.0.0.1:$R_PORT" "$LAB_ORIGIN4:$C_P2"

# recovered NAME: errors back to zero within 1 s after the drill's fault_off (one test)
recovered() {
	local rec_ms fails
	read -r rec_ms fails <<<"$(c_recovery "$1" "$(c_drill_val "$1" fault_off_ns)")"
	sys_diag "$1: $C_FAIL failed in all ($C_AMBIG taken by an origin); $fails sent after the fault was removed, the last $rec_ms ms after"
	ok $([ "$rec_ms" -le 1000 ]; echo $?) "$1: errors back to zero within 1 s after the fault is removed ($rec_ms ms)"
}

# --- loss: 10 % of the packets between the gateway and the origins, 3 s ----------------------
c_load loss
sleep 0.5
c_drill loss --pct 10 --iface "$LAB_IF_ORIGIN" --host "$LAB_ORIGIN4" --duration 3
ok $? "drill loss ran (mechanism $(c_drill_val loss mechanism))"
ok $([ "$(c_drill_val loss dropped_packets)" -gt 0 ]; echo $?) \
	"loss dropped packets ($(c_drill_val loss dropped_packets))"
c_load_finish loss 2
c_account loss
recovered loss

# --- partition: gateway <-> origin b (port), 3 s --------------------------------------------
c_load partb
sleep 0.5
c_drill partition --iface "$LAB_IF_ORIGIN" --host "$LAB_ORIGIN4" --port "$C_P2" --duration 3
ok $? "drill partition gateway<->origin b ran (mechanism $(c_drill_val partition mechanism))"
mv "$C_TMP/drill-partition.log" "$C_TMP/drill-partb.log"
c_load_finish partb 2
c_account partb
read -r on_ms on_fails <<<"$(c_recovery partb "$(c_drill_val partb fault_on_ns)")"
sys_diag "partb: last failed order sent $on_ms ms after the partition began (while it lasted 3000 ms)"
recovered partb

# --- partition: client <-> gateway, 2 s ------------------------------------------------------
c_load partc
sleep 0.5
c_drill partition --iface "$LAB_IF_CLIENT" --port "$C_GW_PORT" --duration 2
ok $? "drill partition client<->gateway ran"
mv "$C_TMP/drill-partition.log" "$C_TMP/drill-partc.log"
c_load_finish partc 2
c_account partc
ok $([ "$C_FAIL" -gt 0 ]; echo $?) "partc: the partition showed (orders timed out: $C_FAIL)"
recovered partc

# --- delay: 200 ms +- 100 toward origin a, 3 s ------------------------------------------------
c_load delay
sleep 0.5
c_drill delay --ms 200 --jitter 100 --relay-ctl "$R_CTL" --relay-pid "$R_PID" --duration 3
ok $? "drill delay ran (mechanism $(c_drill_val delay mechanism))"
c_load_finish delay 2
c_account delay
is "$C_FAIL" 0 "delay: no order failed (200 +- 100 ms stays inside the 1 s upstream timeout)"
ok $([ "$(awk '$7 >= 100000' "$C_TMP/delay.tl" | wc -l)" -gt 0 ]; echo $?) \
	"the delay showed: some 250 ms interval had p99 >= 100 ms"
is "$(cat "$R_CTL")" "0 0" "the relay's delay is back to 0 after the drill"
c_no_leftovers
tap_done
