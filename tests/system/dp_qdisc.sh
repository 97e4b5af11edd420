#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# With the HTB qdisc on the client-facing link, replies on an order port go through class
# 1:10 and replies on a bulk port through 1:30 (og_tc_out sets skb->priority to the class).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_dp_begin
PORD=$(sys_free_port) PBULK=$(sys_free_port)
while [ "$PBULK" = "$PORD" ]; do PBULK=$(sys_free_port); done
sys_gw_server "$PORD" "$PBULK"
ok $? "nginx on the gateway side (ports $PORD order, $PBULK bulk)"

sys_dp_attach "$LAB_IF_CLIENT"
out=$("$SYS_CTL" qdisc apply "$LAB_IF_CLIENT" --rate 1gbit 2>&1)
ok $? "qdisc apply $LAB_IF_CLIENT --rate 1gbit"; sys_diag "$out"
check "port-lane $PORD order" -- "$SYS_CTL" port-lane "$PORD" order --pin-path "$SYS_PIN"
check "port-lane $PBULK bulk" -- "$SYS_CTL" port-lane "$PBULK" bulk --pin-path "$SYS_PIN"

classes=$(tc class show dev "$LAB_IF_CLIENT")
for c in 1:10 1:20 1:30; do
	echo "$classes" | grep -q "class htb $c "; ok $? "HTB class $c exists"
done
echo "$classes" | grep -q 'class htb 1:10 .*prio 0'; ok $? "1:10 has prio 0"
echo "$classes" | grep -q 'class htb 1:30 .*prio 2'; ok $? "1:30 has prio 2"
tc qdisc show dev "$LAB_IF_CLIENT" | grep -qE 'qdisc htb 1: root .*default (0x)?0*20\b'
ok $? "root qdisc htb 1: with default 1:20"
check "qdisc show $LAB_IF_CLIENT" -- "$SYS_CTL" qdisc show "$LAB_IF_CLIENT"

# class_bytes CLASS: "Sent N bytes" of CLASS on the client-facing link.
class_bytes() {
	tc -s class show dev "$LAB_IF_CLIENT" | awk -v c="$1" '
		$1 == "class" && $3 == c { f = 1; next }
		f && $1 == "Sent" { print $2; exit }'
}
MB2=$((2 * 1024 * 1024))
# fetch PORT: GET /2m from the client namespace (replies leave through the qdisc).
fetch() { sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$1/2m" -m 10; }

o0=$(class_bytes 1:10) b0=$(class_bytes 1:30) n0=$(class_bytes 1:20)
is "$(fetch "$PORD")" 200 "client fetched 2 MiB on the order port"
o1=$(class_bytes 1:10) b1=$(class_bytes 1:30) n1=$(class_bytes 1:20)
diag "order fetch: 1:10 +$((o1 - o0)) 1:20 +$((n1 - n0)) 1:30 +$((b1 - b0)) bytes"
ok "$([ $((o1 - o0)) -ge $MB2 ] && echo 0 || echo 1)" "1:10 grew by >= 2 MiB ($((o1 - o0)))"
ok "$([ $((b1 - b0)) -lt 65536 ] && echo 0 || echo 1)" "1:30 grew by < 64 KiB ($((b1 - b0)))"

is "$(fetch "$PBULK")" 200 "client fetched 2 MiB on the bulk port"
o2=$(class_bytes 1:10) b2=$(class_bytes 1:30) n2=$(class_bytes 1:20)
diag "bulk fetch: 1:10 +$((o2 - o1)) 1:20 +$((n2 - n1)) 1:30 +$((b2 - b1)) bytes"
ok "$([ $((b2 - b1)) -ge $MB2 ] && echo 0 || echo 1)" "1:30 grew by >= 2 MiB ($((b2 - b1)))"
ok "$([ $((o2 - o1)) -lt 65536 ] && echo 0 || echo 1)" "1:10 grew by < 64 KiB ($((o2 - o1)))"

# IPv6 replies are classified the same way.
o2=$(class_bytes 1:10)
is "$(sys_curl "$LAB_NS_CLIENT" "http://[$LAB_GW6]:$PORD/2m" -m 10)" 200 "client fetched 2 MiB over IPv6 on the order port"
o3=$(class_bytes 1:10)
ok "$([ $((o3 - o2)) -ge $MB2 ] && echo 0 || echo 1)" "IPv6: 1:10 grew by >= 2 MiB ($((o3 - o2)))"

# og_tc_out counts egress per lane too.
lj=$("$SYS_CTL" lanes --json --pin-path "$SYS_PIN" 2>/dev/null)
tx=$(echo "$lj" | jq -r '.lanes.order.tx_bytes // empty')
ok "$([ "${tx:-0}" -ge $MB2 ] && echo 0 || echo 1)" "lanes --json: order tx_bytes >= 2 MiB ($tx)"
tx=$(echo "$lj" | jq -r '.lanes.bulk.tx_bytes // empty')
ok "$([ "${tx:-0}" -ge $MB2 ] && echo 0 || echo 1)" "lanes --json: bulk tx_bytes >= 2 MiB ($tx)"

tap_done
