#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The drill kit itself: it refuses bad input, a partition really cuts and then heals, every
# drill removes what it set up (also when interrupted or, via `drill cleanup`, killed), it
# touches only its own nft table, and the exactly-once accounting catches a lost, a doubled
# and a phantom order (so the chaos suites can fail).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/chaos/lib.bash
c_begin
D=$C_DRILL

# --- input ------------------------------------------------------------------------------------
out=$("$D" check 2>&1)
ok $? "drill check runs"
echo "$out" | grep -q '^drill: netem: ' && echo "$out" | grep -q '^drill: nftables: '
ok $? "check names the netem and nftables mechanisms"
sys_diag "$out"
bad() { # bad WANT-IN-MESSAGE ARGS...: drill exits 2 and says WANT
	local want=$1 o rc
	shift
	o=$("$D" "$@" 2>&1)
	rc=$?
	ok $([ "$rc" = 2 ] && echo "$o" | grep -qF -- "$want"; echo $?) "drill $* -> exit 2, '$want' (got $rc: $o)"
}
bad "unknown drill" bogus
# (a link of this suite's lab, never lo: a drill that wrongly ran would hit only our lab)
L=$LAB_IF_ORIGIN
bad "--pct P" loss --pct 0 --iface "$L" --id "$C_ID"
bad "needs --iface" partition --duration 1 --id "$C_ID"
bad "--duration must be" loss --pct 5 --iface "$L" --duration 99999 --id "$C_ID"
bad "--id may hold" loss --pct 5 --iface "$L" --duration 1 --id 'a;b'
bad "loss cannot use mechanism gateway" loss --pct 5 --iface "$L" --mechanism gateway --id "$C_ID"
bad "no interface" partition --iface ogt-none-x --id "$C_ID"
bad "is not running" crash --pid 999999 --restart true --id "$C_ID"
bad "--relay-ctl" delay --ms 10 --mechanism relay --id "$C_ID"

# --- a partition cuts and heals; only our table is touched ------------------------------------
c_origin_start a "$C_P1" || { ok 1 "origin starts"; tap_done; exit 1; }
url=http://$C_O:$C_P1/healthz
is "$(sys_curl "" "$url")" 200 "before: the origin answers through $LAB_IF_ORIGIN"
nft add table inet "ogforeign_$C_ID" && sys_cleanup_push nft delete table inet "ogforeign_$C_ID"
c_drill_bg partition --iface "$LAB_IF_ORIGIN" --host "$C_O" --port "$C_P1" --duration 3
for ((i = 0; i < 40; i++)); do grep -q fault_on "$C_TMP/drill-partition.log" && break; sleep 0.05; done
is "$(sys_curl "" "$url")" 000 "during the partition: no answer"
wait "$C_DRILL_PID"
ok $? "the partition drill ends on its own after --duration (exit 0)"
is "$(sys_curl "" "$url")" 200 "after: the origin answers again"
nft list table inet "ogforeign_$C_ID" >/dev/null 2>&1
ok $? "a table the drill did not create is untouched"
c_no_leftovers

# --- in a namespace ---------------------------------------------------------------------------
c_drill_bg partition --netns "$LAB_NS_ORIGIN" --iface eth0 --port "$C_P1" --duration 3
for ((i = 0; i < 40; i++)); do grep -q fault_on "$C_TMP/drill-partition.log" && break; sleep 0.05; done
ip netns exec "$LAB_NS_ORIGIN" nft list table inet "ordergate_chaos_$C_ID" >/dev/null 2>&1
ok $? "--netns: the table lives in the origin namespace"
is "$(sys_curl "" "$url")" 000 "--netns: the partition cuts"
wait "$C_DRILL_PID"
c_no_leftovers

# --- interrupted drills clean up --------------------------------------------------------------
# A background job starts with SIGINT ignored (no job control), and bash cannot trap a signal
# ignored at entry: env --default-signal gives the drill the SIGINT a terminal would.
env --default-signal=INT "$D" loss --pct 50 --iface "$LAB_IF_ORIGIN" --duration 60 --id "$C_ID" \
	>"$C_TMP/drill-loss.log" 2>&1 &
C_DRILL_PID=$!
sys_cleanup_push sys_kill_pid "$C_DRILL_PID"
for ((i = 0; i < 40; i++)); do grep -q fault_on "$C_TMP/drill-loss.log" && break; sleep 0.05; done
nft list table inet "ordergate_chaos_$C_ID" >/dev/null 2>&1
ok $? "loss drill set up its table"
t0=$(date +%s%N)
kill -INT "$C_DRILL_PID"
wait "$C_DRILL_PID"
ms=$((($(date +%s%N) - t0) / 1000000))
ok $([ "$ms" -lt 2000 ]; echo $?) "SIGINT ends the drill at once ($ms ms)"
grep -q fault_off_ns "$C_TMP/drill-loss.log"
ok $? "... and it reports fault_off"
c_no_leftovers

c_drill_bg slow --pid "${C_OPID[a]}" --stall-ms 400 --every-ms 500 --duration 60
sleep 0.5
kill -TERM "$C_DRILL_PID"
wait "$C_DRILL_PID"
sleep 0.1
isnt_stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != T ]; }
isnt_stopped "${C_OPID[a]}"
ok $? "SIGTERM to a slow drill leaves the origin running, not stopped"

c_drill_bg crash --pid "${C_OPID[a]}" --restart "$(c_origin_cmd a "$C_P1")" --duration 60
for ((i = 0; i < 40; i++)); do grep -q killed "$C_TMP/drill-crash.log" && break; sleep 0.05; done
kill -TERM "$C_DRILL_PID"
wait "$C_DRILL_PID"
newpid=$(c_drill_val crash pid)
[ -n "$newpid" ] && C_OPID[a]=$newpid
ok $([ -n "$newpid" ] && sys_wait_port "$C_O" "$C_P1" "$LAB_NS_ORIGIN" 5; echo $?) \
	"SIGTERM to a crash drill still restarts the origin (pid ${newpid:-none})"

"$D" partition --iface "$LAB_IF_ORIGIN" --duration 60 --id "$C_ID" >/dev/null 2>&1 &
kpid=$!
disown "$kpid"
for ((i = 0; i < 40; i++)); do nft list table inet "ordergate_chaos_$C_ID" >/dev/null 2>&1 && break; sleep 0.05; done
hold_pid=$(pgrep -P "$kpid" -x sleep) # its hold timer, which the KILL orphans
kill -KILL "$kpid"
[ -n "$hold_pid" ] && kill "$hold_pid" 2>/dev/null
nft list table inet "ordergate_chaos_$C_ID" >/dev/null 2>&1
ok $? "SIGKILL leaves the table (nothing can trap that)"
out=$("$D" cleanup --id "$C_ID" 2>&1)
ok $? "drill cleanup --id removes it: $out"
c_no_leftovers

# --- the accounting can fail ------------------------------------------------------------------
# Fake outcomes and records for ids acct-1..3, then break one thing at a time: c_account must
# report "not ok" for each (run in a subshell that does not touch this suite's counts).
acct() { # acct RECORDS-LINES...: run c_account on outcomes 1:200 2:200 3:502 (plus 200 fillers)
	(
		C_REC=$C_TMP/fake.rec
		printf '%s\n' "$@" >"$C_REC"
		for ((n = 4; n <= 200; n++)); do echo "acct-$n a" >>"$C_REC"; done
		{ echo "acct-1 200 1 2"; echo "acct-2 200 1 2"; echo "acct-3 502 1 2"
		  for ((n = 4; n <= 200; n++)); do echo "acct-$n 200 1 2"; done; } >"$C_TMP/acct.out"
		_tap_n=0
		c_account acct
	) | grep -c '^not ok'
}
is "$(acct 'acct-1 a' 'acct-2 b')" 0 "accounting: a clean run passes"
is "$(acct 'acct-1 a')" 2 "accounting: a 2xx order nobody recorded fails it"
is "$(acct 'acct-1 a' 'acct-2 b' 'acct-2 a')" 2 "accounting: an order recorded twice fails it"
is "$(acct 'acct-1 a' 'acct-2 b' 'acct-999 a')" 1 "accounting: a recorded order never sent fails it"
tap_done
