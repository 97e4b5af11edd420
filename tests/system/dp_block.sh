#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `ordergatectl block` drops a source at XDP (counted as drop_block); unblock lets it back in.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_dp_begin
P=$(sys_free_port)
sys_gw_server "$P"
ok $? "nginx on the gateway side (port $P)"
sys_dp_attach "$LAB_IF_CLIENT"


is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 200 "before: client reaches the gateway (IPv4)"
is "$(sys_curl "$LAB_NS_CLIENT" "http://[$LAB_GW6]:$P/ping")" 200 "before: client reaches the gateway (IPv6)"
d0=$(sys_drops drop_block)

check "block $LAB_CLIENT4/32" -- "$SYS_CTL" block "$LAB_CLIENT4/32" --pin-path "$SYS_PIN"
"$SYS_CTL" rules --pin-path "$SYS_PIN" 2>&1 | grep -q "$LAB_CLIENT4/32"
ok $? "rules lists $LAB_CLIENT4/32"
t0=$(date +%s%N)
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 000 "blocked: no answer over IPv4"
el=$((($(date +%s%N) - t0) / 1000000))
ok "$([ "$el" -lt 2500 ] && echo 0 || echo 1)" "blocked: curl gave up within its 1 s connect timeout (${el} ms)"
d1=$(sys_drops drop_block)
ok "$([ "$d1" -gt "$d0" ] && echo 0 || echo 1)" "drop_block rose ($d0 -> $d1)"
is "$(sys_curl "$LAB_NS_CLIENT" "http://[$LAB_GW6]:$P/ping")" 200 "an IPv4 block leaves the client's IPv6 address alone"

check "block $LAB_CLIENT6/128" -- "$SYS_CTL" block "$LAB_CLIENT6/128" --pin-path "$SYS_PIN"
is "$(sys_curl "$LAB_NS_CLIENT" "http://[$LAB_GW6]:$P/ping")" 000 "blocked: no answer over IPv6"
d2=$(sys_drops drop_block)
ok "$([ "$d2" -gt "$d1" ] && echo 0 || echo 1)" "drop_block rose again ($d1 -> $d2)"

check "unblock $LAB_CLIENT4/32" -- "$SYS_CTL" unblock "$LAB_CLIENT4/32" --pin-path "$SYS_PIN"
check "unblock $LAB_CLIENT6/128" -- "$SYS_CTL" unblock "$LAB_CLIENT6/128" --pin-path "$SYS_PIN"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 200 "unblocked: client reaches the gateway (IPv4)"
is "$(sys_curl "$LAB_NS_CLIENT" "http://[$LAB_GW6]:$P/ping")" 200 "unblocked: client reaches the gateway (IPv6)"
d3=$(sys_drops drop_block)
is "$d3" "$d2" "no block drops after unblock"
"$SYS_CTL" rules --pin-path "$SYS_PIN" 2>&1 | grep -q "$LAB_CLIENT4/32"
ok $((!$?)) "rules no longer lists $LAB_CLIENT4/32"

# A wider prefix covers the client too; a bad CIDR is refused with a message.
check "block $LAB_CLIENT_NET.0/24" -- "$SYS_CTL" block "$LAB_CLIENT_NET.0/24" --pin-path "$SYS_PIN"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 000 "a /24 block covers the client"
check "unblock $LAB_CLIENT_NET.0/24" -- "$SYS_CTL" unblock "$LAB_CLIENT_NET.0/24" --pin-path "$SYS_PIN"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 200 "and unblock of the /24 restores it"
out=$("$SYS_CTL" block 10.1.2.3/33 --pin-path "$SYS_PIN" 2>&1)
rc=$?
ok "$([ $rc -ne 0 ] && [ -n "$out" ] && echo 0 || echo 1)" "block 10.1.2.3/33 refused with a message (rc $rc: $out)"

tap_done
