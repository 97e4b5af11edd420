#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Real TCP flows from the lab's client namespace appear in og_flows with the lane the rules give.
#
# Lane precedence checked here: destination port (og_port_lane) for a plain flow, then a
# source prefix (og_src_rules) beating the port for a new flow from that source; both over
# IPv4 and IPv6. Read back through `ordergatectl flows --json` and bpftool's BTF dump.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_dp_begin
PORD=$(sys_free_port) PNORM=$(sys_free_port)
while [ "$PNORM" = "$PORD" ]; do PNORM=$(sys_free_port); done
sys_gw_server "$PORD" "$PNORM"
ok $? "nginx on the gateway side ($LAB_GW4 and [$LAB_GW6], ports $PORD $PNORM)"

# 1024 flows (256 sets): bpftool dumps every set, and the default's 16384 take minutes to format.
sys_dp_attach "$LAB_IF_CLIENT" "attach $LAB_IF_CLIENT native --pin-path $SYS_PIN --flows 1024" --flows 1024
check "port-lane $PORD order" -- "$SYS_CTL" port-lane "$PORD" order --pin-path "$SYS_PIN"

# flow_field FAMILY_ADDR DPORT FIELD: FIELD of the flow from ADDR to DPORT in flows --json.
flow_field() {
	"$SYS_CTL" flows --json --pin-path "$SYS_PIN" 2>/dev/null | jq -r --arg a "$1" --argjson p "$2" \
		--arg f "$3" '[.. | objects | select(has("dport") and (.dport == $p or .dport == ($p|tostring))
		  and ((.saddr // .src // .src_addr // "") | tostring | split("/")[0] | ascii_downcase) == $a)]
		  | .[0][$f] // empty'
}

is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$PORD/1k")" 200 "client GET /1k on the order port"
is "$(flow_field "$LAB_CLIENT4" "$PORD" lane)" order "flows --json: $LAB_CLIENT4 -> :$PORD is in lane order"
is "$(flow_field "$LAB_CLIENT4" "$PORD" lane_src)" port "flows --json: chosen by the port rule"
pk=$(flow_field "$LAB_CLIENT4" "$PORD" pkts)
ok "$([ "${pk:-0}" -ge 4 ] && echo 0 || echo 1)" "flow counted the handshake, request and ACKs (pkts=$pk >= 4)"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$PNORM/1k")" 200 "client GET /1k on an unmapped port"
ln=$(flow_field "$LAB_CLIENT4" "$PNORM" lane)
is "$ln" normal "flows --json: the unmapped port gets the default lane"
is "$(flow_field "$LAB_CLIENT4" "$PNORM" lane_src)" default "flows --json: chosen by the default"

is "$(sys_curl "$LAB_NS_CLIENT" "http://[$LAB_GW6]:$PORD/1k")" 200 "client GET over IPv6 on the order port"
is "$(flow_field "$LAB_CLIENT6" "$PORD" lane)" order "flows --json: [$LAB_CLIENT6] -> :$PORD is in lane order"

# bpftool prints the maps with BTF names: key and value fields by name, not hex bytes.
# Plain output is BTF-formatted; with -j the names sit under "formatted".
plain=$(bpftool map dump pinned "$SYS_PIN/og_flows" 2>&1)
dump=$(bpftool -j map dump pinned "$SYS_PIN/og_flows" 2>&1)
for f in family proto sport dport saddr daddr pkts bytes first_ns last_ns syns lane lane_src; do
	echo "$plain" | grep -q "\"$f\": " && echo "$dump" | jq -e --arg f "$f" '[.. | objects | has($f)] | any' >/dev/null
	ok $? "bpftool map dump og_flows names field '$f' (plain and -j)"
done
# og_flows holds the ways, og_flow_dir a word per way: a way holds a flow while its tag
# (the word's low 16 bits) is odd. Way w of set i is og_flows[i * 4 + w].
live=$(bpftool -j map dump pinned "$SYS_PIN/og_flow_dir" 2>&1 |
	jq -c '[.[] | (.formatted // .) | .key as $i | .value.w | to_entries[] | select(.value % 2 == 1) | $i * 4 + .key]')
ok "$(echo "$live" | jq -e 'length >= 2' >/dev/null && echo 0 || echo 1)" "og_flow_dir has live ways ($live)"
ways='[.[] | (.formatted // .) | select(.key as $k | $live | index($k) != null) | .value]'
# The client's IPv4 address as bpftool prints saddr[0] (a __be32 read as a host-order
# number on this little-endian machine).
IFS=. read -r a b c d <<<"$LAB_CLIENT4"
be=$(( (d << 24) | (c << 16) | (b << 8) | a ))
n=$(echo "$dump" | jq --argjson s "$be" --argjson live "$live" "$ways | map(select(.key.saddr[0] == \$s and .key.family == 2)) | length")
ok "$([ "${n:-0}" -ge 2 ] && echo 0 || echo 1)" "bpftool og_flows holds the client's IPv4 flows in live ways (found $n)"
lanes=$(echo "$dump" | jq -r --argjson s "$be" --argjson live "$live" --argjson p "$(( ((PORD & 255) << 8) | (PORD >> 8) ))" \
	"$ways | map(select(.key.saddr[0] == \$s and .key.dport == \$p) | .s.lane) | unique | join(\",\")")
is "$lanes" 1 "bpftool: that flow's way carries lane 1 (order)"

# A source prefix rule (lane bulk for the client's /24) beats the port rule for new flows.
check "src-lane $LAB_CLIENT_NET.0/24 bulk" -- \
	"$SYS_CTL" src-lane "$LAB_CLIENT_NET.0/24" bulk --pin-path "$SYS_PIN"
rules=$("$SYS_CTL" rules --pin-path "$SYS_PIN" 2>&1)
echo "$rules" | grep -q "$LAB_CLIENT_NET.0/24"; ok $? "ordergatectl rules lists $LAB_CLIENT_NET.0/24"
sys_diag "$rules"
# curl picks a new source port, hence a new flow resolved under the new rules.
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$PORD/1k" --local-port 41001)" 200 \
	"client GET on the order port from source port 41001"
lanes=$("$SYS_CTL" flows --json --pin-path "$SYS_PIN" 2>/dev/null | jq -r --arg a "$LAB_CLIENT4" \
	'[.. | objects | select(has("sport") and (.sport == 41001 or .sport == "41001"))] | .[0] | "\(.lane) \(.lane_src // .source // "")"')
is "$lanes" "bulk prefix" "the new flow takes the prefix's lane over the port's (lane, lane_src)"

tap_done
