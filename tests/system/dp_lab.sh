#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# deploy/lab: up and down are idempotent, the three parties see what they should, down
# removes everything (with ordergate attached and the HTB qdisc applied when it is built).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_require_root || exit 0

# ordergated holds the gateway seat when it is built (the nginx stand-in otherwise).
gw=nginx; [ -x "$SYS_BUILD/ordergated" ] && gw=ordergated
export LAB_PREFIX=ogl$(sys_uid) LAB_ORIGIN=nginx LAB_ORIGIN_PORT=18080 LAB_GATEWAY=$gw
# The gateway binds the lab's own addresses, but a wildcard listener elsewhere on the host
# would still collide with a fixed port: take free ones (and one for its admin API).
PO=$(sys_free_port) PN=$(sys_free_port) PB=$(sys_free_port)
export LAB_ADMIN_PORT=$(sys_free_port)
export LAB_PORTS="$PO $PN $PB"
sys_subnet_pick || { ok 1 "free lab subnet"; tap_done; exit 1; }
sys_pin_dir
export LAB_PIN_PATH=$SYS_PIN
have_ctl=0; [ -x "$SYS_BUILD/ordergatectl" ] && have_ctl=1
export LAB_ATTACH=$have_ctl
sys_cleanup_push deploy/lab down
eval "$(deploy/lab env | sed 's/^/export /')"

fwd0=$(sysctl -n net.ipv4.ip_forward) fwd60=$(sysctl -n net.ipv6.conf.all.forwarding)
out=$(deploy/lab up 2>&1); ok $? "lab up"; sys_diag "$out"
out2=$(deploy/lab up 2>&1); ok $? "lab up again (idempotent)"
ip netns list | grep -q "^$LAB_NS_CLIENT\b"; ok $? "client netns $LAB_NS_CLIENT"
ip netns list | grep -q "^$LAB_NS_ORIGIN\b"; ok $? "origin netns $LAB_NS_ORIGIN"
is "$(ip -4 -o addr show dev "$LAB_IF_CLIENT" | grep -c "$LAB_GW4/24")" 1 "gateway client-facing address once"
is "$(ip -n "$LAB_NS_CLIENT" -6 -o addr show dev eth0 | grep -c "$LAB_CLIENT6/64")" 1 "client IPv6 address once"

# The gateway (root ns) reaches the origin nginx; the client reaches the gateway, not the origin.
is "$(curl -s -m 3 "http://$LAB_ORIGIN4:$LAB_ORIGIN_PORT/ping")" pong "gateway -> origin over IPv4"
is "$(curl -s -m 3 "http://[$LAB_ORIGIN6]:$LAB_ORIGIN_PORT/ping")" pong "gateway -> origin over IPv6"
sys_tmpdir
P=$(sys_free_port)
sys_gw_server "$P"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 200 "client -> gateway over IPv4"
is "$(sys_curl "$LAB_NS_CLIENT" "http://[$LAB_GW6]:$P/ping")" 200 "client -> gateway over IPv6"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_ORIGIN4:$LAB_ORIGIN_PORT/ping")" 000 \
	"client cannot reach the origin directly (nothing is routed)"
is "$(sysctl -n net.ipv4.ip_forward) $(sysctl -n net.ipv6.conf.all.forwarding)" "$fwd0 $fwd60" \
	"the host's IPv4/IPv6 forwarding settings are untouched"

# Three parties: client -> gateway ($gw in the root ns) -> origin.
is "$(ip netns exec "$LAB_NS_CLIENT" curl -s -m 3 "http://$LAB_GW4:$PO/ping")" pong \
	"client -> gateway :$PO -> origin (IPv4)"
is "$(ip netns exec "$LAB_NS_CLIENT" curl -s -m 3 "http://[$LAB_GW6]:$PB/ping")" pong \
	"client -> gateway :$PB -> origin (IPv6)"
out=$(deploy/lab traffic 1 2>&1); ok $? "lab traffic 1"; sys_diag "$out"
echo "$out" | grep -qE 'bulk: [1-9][0-9]* downloads'; ok $? "traffic completed bulk downloads"
echo "$out" | grep -q 'Requests/sec'; ok $? "traffic ran wrk on the order port"

st=$(deploy/lab status 2>&1); ok $? "lab status"
echo "$st" | grep -q "lab $LAB_PREFIX: up"; ok $? "status says up"
echo "$st" | grep -q "$LAB_CLIENT4"; ok $? "status shows the client's address"
if [ "$have_ctl" = 1 ]; then
	bpftool net list dev "$LAB_IF_CLIENT" | grep -q 'og_tc_in'; ok $? "lab attached ordergate to $LAB_IF_CLIENT"
	tc class show dev "$LAB_IF_CLIENT" | grep -q 'class htb 1:10'; ok $? "lab applied the HTB qdisc"
	echo "$st" | grep -q 'og_tc_out'; ok $? "status shows the attachments"
	echo "$st" | grep -q '1:30'; ok $? "status shows the qdisc classes"
	"$SYS_BUILD/ordergatectl" flows --json --pin-path "$SYS_PIN" | jq -e --argjson p "$PO" \
		'[.flows[] | select(.dport == $p and .lane == "order")] | length > 0' >/dev/null
	ok $? "the lab's port-lane rule put the order port's flows in lane order"
	"$SYS_BUILD/ordergatectl" flows --json --pin-path "$SYS_PIN" | jq -e --argjson p "$PB" \
		'[.flows[] | select(.dport == $p and .lane == "bulk")] | length > 0' >/dev/null
	ok $? "and the bulk port's flows in lane bulk"
	b=$(tc -s class show dev "$LAB_IF_CLIENT" | awk '$3 == "1:30" {f=1; next} f && $1 == "Sent" {print $2; exit}')
	ok "$([ "${b:-0}" -ge 2097152 ] && echo 0 || echo 1)" "bulk downloads went out through 1:30 ($b bytes)"
else
	echo "$out" | grep -q 'skipped attach'; ok $? "without ordergatectl, up says it skipped the attach"
fi
if [ "$gw" = ordergated ]; then
	grep -q "event=kern_adopt ifname=$LAB_IF_CLIENT" "/run/ordergate-lab/$LAB_PREFIX/gateway/ordergated.log"
	ok $? "ordergated in the gateway seat adopted the lab's attach"
	out=$("$SYS_BUILD/ordergatectl" flows --admin "127.0.0.1:$LAB_ADMIN_PORT" --top 5 2>&1)
	ok $? "ordergatectl flows --admin reads the gateway's /flows"
	sys_diag "$out"
fi

out=$(deploy/lab down 2>&1); ok $? "lab down"; sys_diag "$out"
ip netns list | grep -qE "^($LAB_NS_CLIENT|$LAB_NS_ORIGIN)\b"; ok $((!$?)) "namespaces gone"
ip link show dev "$LAB_IF_CLIENT" >/dev/null 2>&1; ok $((!$?)) "links gone"
ss -Hltn "sport = :$LAB_ORIGIN_PORT" 2>/dev/null | grep -q "$LAB_ORIGIN4"; ok $((!$?)) "origin nginx stopped"
ss -Hltn "sport = :$PO" 2>/dev/null | grep -q "$LAB_GW4"; ok $((!$?)) "stand-in gateway stopped"
test ! -e "$LAB_PIN_PATH/og_flows"; ok $? "pins up created are removed"
test ! -e "/run/ordergate-lab/$LAB_PREFIX"; ok $? "lab state removed"
out=$(deploy/lab down 2>&1); ok $? "lab down again (idempotent)"
st=$(deploy/lab status 2>&1)
echo "$st" | grep -q "lab $LAB_PREFIX: down"; ok $? "status says down"
out=$(LAB_PREFIX=waytoolongprefix deploy/lab up 2>&1); rc=$?
ok "$([ $rc -ne 0 ] && echo 0 || echo 1)" "a prefix too long for interface names is refused ($out)"

tap_done
