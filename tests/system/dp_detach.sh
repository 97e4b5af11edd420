#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# detach leaves the link exactly as attach found it: XDP hook, qdiscs, TC filters, pins.
#
# Two starting points: a bare veth (attach creates clsact, detach must remove it) and a
# veth that already has a clsact qdisc with someone else's filters (both must stay).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_dp_begin
IF=$LAB_IF_CLIENT
IDX=$(cat "/sys/class/net/$IF/ifindex")
P=$(sys_free_port)
sys_gw_server "$P"
ok $? "nginx on the gateway side (port $P)"

# snap: everything attach may touch on $IF, as text.
snap() {
	echo "== bpftool net list"; bpftool net list dev "$IF" 2>&1
	echo "== xdp"; ip -d link show dev "$IF" | grep -oE 'xdp[a-z]*|prog/xdp.*' | sed 's/id [0-9]*/id N/'
	echo "== qdisc"; tc qdisc show dev "$IF" 2>&1
	echo "== ingress"; tc filter show dev "$IF" ingress 2>&1
	echo "== egress"; tc filter show dev "$IF" egress 2>&1
	echo "== dispatcher pins"; ls /sys/fs/bpf/xdp 2>/dev/null | grep -E "^dispatch-$IDX-" || true
}
ctl() { "$SYS_CTL" "$@" --pin-path "$SYS_PIN"; }
sys_cleanup_push "$SYS_CTL" detach "$IF" --purge --pin-path "$SYS_PIN"

# --- 1. bare link -----------------------------------------------------------------------
before=$(snap)
out=$(ctl attach "$IF" --mode native 2>&1); ok $? "attach to the bare link"; sys_diag "$out"
during=$(snap)
[ "$during" != "$before" ]; ok $? "attach changed the link (sanity)"
echo "$during" | grep -q 'og_tc_in'; ok $? "og_tc_in on ingress"
echo "$during" | grep -q 'og_tc_out'; ok $? "og_tc_out on egress"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 200 "traffic passes while attached"
out=$(ctl detach "$IF" 2>&1); ok $? "detach (no --purge)"; sys_diag "$out"
after=$(snap)
[ "$after" = "$before" ]; ok $? "bare link: bpftool net list, qdiscs, filters identical after detach"
[ "$after" = "$before" ] || diff <(echo "$before") <(echo "$after") | sed 's/^/# /'
test -e "$SYS_PIN/og_flows"; ok $? "detach without --purge keeps the pinned maps"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 200 "traffic passes after detach"
out=$(ctl detach "$IF" 2>&1); ok $? "a second detach is not an error ($out)"

# Counters survive a re-attach on the same pins (the daemon restart story).
ctl attach "$IF" --mode native >/dev/null 2>&1; ok $? "re-attach on the existing pins"
rx=$(ctl lanes --json 2>/dev/null | jq '[.. | objects | .rx_pkts? | numbers] | add // 0')
ok "$([ "${rx:-0}" -gt 0 ] && echo 0 || echo 1)" "lane counters from the first attach survived ($rx rx_pkts)"
out=$(ctl detach "$IF" --purge 2>&1); ok $? "detach --purge"; sys_diag "$out"
test ! -e "$SYS_PIN/og_flows"; ok $? "--purge unpinned the maps"
[ "$(snap)" = "$before" ]; ok $? "link identical after detach --purge"

# --- 2. clsact with foreign filters already there ---------------------------------------
tc qdisc add dev "$IF" clsact
# u32 needs no action module (this kernel has none); it matches only TEST-NET-1, so it
# never classifies lab traffic ahead of ordergate's filters.
tc filter add dev "$IF" ingress prio 7 protocol ip u32 match ip src 192.0.2.1/32 flowid 1:1
tc filter add dev "$IF" egress prio 7 protocol ip u32 match ip dst 192.0.2.1/32 flowid 1:1
before=$(snap)
echo "$before" | grep -q 'pref 7'; ok $? "set-up: clsact with a foreign filter at pref 7"
out=$(ctl attach "$IF" --mode native 2>&1); ok $? "attach next to the existing clsact"; sys_diag "$out"
during=$(snap)
echo "$during" | grep -q 'og_tc_in'; ok $? "og_tc_in added on ingress"
[ "$(echo "$during" | grep -c 'pref 7 ')" -ge 2 ]; ok $? "the foreign filters are still there while attached"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 200 "traffic passes with both"
out=$(ctl detach "$IF" --purge 2>&1); ok $? "detach"; sys_diag "$out"
after=$(snap)
[ "$after" = "$before" ]; ok $? "pre-existing clsact: qdisc and foreign filters identical after detach"
[ "$after" = "$before" ] || diff <(echo "$before") <(echo "$after") | sed 's/^/# /'
tc qdisc show dev "$IF" | grep -q clsact; ok $? "the clsact qdisc attach did not create is still there"
tc qdisc del dev "$IF" clsact

tap_done
