#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A per-source throttle caps a source's new connections at XDP and lapses after its TTL.
#
# --pps 5 --burst 5 lets about 5 + 5/s packets through; a burst of 50 parallel connects
# (each needs at least its SYN through) must then mostly fail within 1 s, and drop_throttle
# must rise. After the TTL the entry is ignored and the same burst succeeds.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_dp_begin
P=$(sys_free_port)
sys_gw_server "$P"
ok $? "nginx on the gateway side (port $P)"
sys_dp_attach "$LAB_IF_CLIENT"

# burst N: open N TCP connections at once from the client namespace, 1 s to complete;
# prints how many completed the handshake. Bounded: one second, N sockets.
burst() { sys_burst "$LAB_NS_CLIENT" "$LAB_GW4" "$P" "$1"; }

n=$(burst 50)
is "$n" 50 "unthrottled: all 50 parallel connections complete"
d0=$(sys_drops drop_throttle)
t_set=$(date +%s%N)
check "throttle set $LAB_CLIENT4 --pps 5 --burst 5 --ttl 3" -- \
	"$SYS_CTL" throttle set "$LAB_CLIENT4" --pps 5 --burst 5 --ttl 3 --pin-path "$SYS_PIN"
"$SYS_CTL" throttle list --pin-path "$SYS_PIN" 2>&1 | grep -q "$LAB_CLIENT4"
ok $? "throttle list shows $LAB_CLIENT4"
n=$(burst 50)
ok "$([ "$n" -le 20 ] && echo 0 || echo 1)" "throttled: at most 20 of 50 connections complete ($n)"
d1=$(sys_drops drop_throttle)
ok "$([ "$d1" -ge $((d0 + 25)) ] && echo 0 || echo 1)" "drop_throttle rose by >= 25 ($d0 -> $d1)"
"$SYS_CTL" throttle list --pin-path "$SYS_PIN" 2>&1 | sed 's/^/# /'

# Wait out the TTL (3 s from the set, plus 0.5 s for the coarse clock), bounded.
while [ $((($(date +%s%N) - t_set) / 1000000)) -lt 3500 ]; do sleep 0.1; done
# (FINs and late retransmits of the throttled burst may still have been dropped before the
# TTL ran out: count from here.)
d1=$(sys_drops drop_throttle)
n=$(burst 50)
is "$n" 50 "after the TTL: all 50 connections complete again"
d2=$(sys_drops drop_throttle)
is "$d2" "$d1" "after the TTL: the burst of 50 caused no throttle drop"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 200 "after the TTL: curl works"

# clear removes an entry before its TTL.
check "throttle set again, ttl 60" -- \
	"$SYS_CTL" throttle set "$LAB_CLIENT4" --pps 1 --burst 1 --ttl 60 --pin-path "$SYS_PIN"
n=$(burst 20)
ok "$([ "$n" -le 5 ] && echo 0 || echo 1)" "throttled at 1 pps: at most 5 of 20 complete ($n)"
check "throttle clear $LAB_CLIENT4" -- "$SYS_CTL" throttle clear "$LAB_CLIENT4" --pin-path "$SYS_PIN"
n=$(burst 20)
is "$n" 20 "after clear: all 20 complete"
out=$("$SYS_CTL" throttle set "$LAB_CLIENT4" --pps 0 --burst 5 --ttl 3 --pin-path "$SYS_PIN" 2>&1)
rc=$?
ok "$([ $rc -ne 0 ] && [ -n "$out" ] && echo 0 || echo 1)" "--pps 0 refused with a message (rc $rc: $out)"

tap_done
