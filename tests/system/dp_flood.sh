#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A spoofed-source SYN flood through the lab evicts no established order flow from og_flows.
#
# og_flows is sized 256 entries; hping3 floods the order port from random sources for a
# bounded time (tens of times og_flows' size), twice: while one keep-alive order
# connection sends a request every 0.5 s, and while that connection sits idle (between
# two orders: at most one request per 3 s). A third flood, from a raw socket, sends every
# random source's SYN twice (a retransmit), which an LRU alone cannot tell from a real
# flow's packets. The order
# connection's og_flows entry must be there after each flood, with growing counters,
# and the connection must keep answering; the flood itself must create no og_flows state
# (og_xdp admits a flow only when a non-SYN packet repeats it) yet be counted, classified,
# in the order lane. SYN-ACKs to the spoofed sources are blackholed by a policy route, so
# nothing leaves the lab. Last, a real handshake storm (wrk, a new connection per request) to
# a bulk port overflows og_flows many times while the order connection idles: bulk flows are
# evicted, the order flow is not (eviction ranks non-order flows ~69 s older).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_dp_begin
if ! command -v hping3 >/dev/null; then
	echo "1..0 # SKIP hping3 not installed (bash deploy/deps.sh)"
	exit 0
fi
FLOWS=256
FLOOD_S=${DP_FLOOD_SECS:-3}
IDLE_S=2 # hping3 while the connection is idle: shorter than the client's 3 s idle request
P=$(sys_free_port)
PB=$(sys_free_port)
sys_gw_server "$P" "$PB"
ok $? "nginx on the gateway side (order port $P, bulk port $PB)"
out=$("$SYS_CTL" attach "$LAB_IF_CLIENT" --mode native --flows "$FLOWS" --pin-path "$SYS_PIN" 2>&1)
ok $? "attach $LAB_IF_CLIENT native with a $FLOWS-entry og_flows"
sys_diag "$out"
sys_cleanup_push "$SYS_CTL" detach "$LAB_IF_CLIENT" --purge --pin-path "$SYS_PIN"
check "port-lane $P order" -- "$SYS_CTL" port-lane "$P" order --pin-path "$SYS_PIN"
check "port-lane $PB bulk" -- "$SYS_CTL" port-lane "$PB" bulk --pin-path "$SYS_PIN"

# Replies from the gateway address go only to the client subnet; everything else
# (SYN-ACKs and RSTs to spoofed sources) is blackholed, never routed out of the lab.
TABLE=$((20000 + $$ % 10000))
ip route add "$LAB_CLIENT_NET.0/24" dev "$LAB_IF_CLIENT" table "$TABLE" &&
	ip route add blackhole default table "$TABLE" &&
	ip rule add from "$LAB_GW4" lookup "$TABLE" prio "$TABLE"
ok $? "policy route: replies from $LAB_GW4 stay in the lab (table $TABLE)"
sys_cleanup_push ip rule del from "$LAB_GW4" lookup "$TABLE" prio "$TABLE"
sys_cleanup_push ip route flush table "$TABLE"

sys_tmpdir
LP=$(sys_free_port "$LAB_NS_CLIENT")
# The order connection: one keep-alive TCP connection from local port LP, a GET /ping every
# 0.5 s for at most 60 s, one per 3 s while $SYS_TMPDIR/pause exists; each answered request
# appends a line to $SYS_TMPDIR/answers.
ip netns exec "$LAB_NS_CLIENT" "$SYS_PY" - "$LAB_GW4" "$P" "$LP" "$SYS_TMPDIR/answers" \
	"$SYS_TMPDIR/pause" >"$SYS_TMPDIR/client.log" 2>&1 <<'PY' &
import os, socket, sys, time
host, port, lport, path, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", lport))
s.settimeout(5)
s.connect((host, port))
end = time.monotonic() + 60
last = 0
while time.monotonic() < end:
    # paused: idle between orders, but one request per 3 s keeps nginx's keepalive (5 s)
    if os.path.exists(pause) and time.monotonic() - last < 3:
        time.sleep(0.05)
        continue
    last = time.monotonic()
    s.sendall(b"GET /ping HTTP/1.1\r\nHost: gw\r\n\r\n")
    buf = b""
    while not buf.endswith(b"pong\n"):
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("connection closed")
        buf += chunk
    with open(path, "a") as f:
        f.write("ok\n")
    time.sleep(0.5)
PY
CLIENT=$!
sys_cleanup_push sys_kill_pid "$CLIENT"

answers() { [ -f "$SYS_TMPDIR/answers" ] && wc -l <"$SYS_TMPDIR/answers" || echo 0; }
# flow_pkts: pkts of the order connection's og_flows entry ("" when absent).
flow_pkts() {
	"$SYS_CTL" flows --json --top 0 --pin-path "$SYS_PIN" 2>/dev/null | jq -r --arg a "$LAB_CLIENT4" \
		--argjson p "$P" --argjson lp "$LP" '[.flows[] | select((.dport|tonumber) == $p and
		(.sport|tonumber) == $lp and (.src|tostring|split("/")[0]) == $a)] | .[0].pkts // empty'
}
flow_count() { "$SYS_CTL" flows --json --pin-path "$SYS_PIN" 2>/dev/null | jq '.count'; }
lane_sum() {
	"$SYS_CTL" lanes --json --pin-path "$SYS_PIN" 2>/dev/null |
		jq --arg f "$1" '[.lanes[] | .[$f]] | add // 0'
}

# Wait (bounded) until the connection has answered 3 requests: handshake done, entry made.
for ((i = 0; i < 100 && $(answers) < 3; i++)); do sleep 0.1; done
ok "$([ "$(answers)" -ge 3 ] && echo 0 || echo 1)" "order connection established ($(answers) answers)"
pk0=$(flow_pkts)
ok "$([ -n "$pk0" ] && [ "$pk0" -ge 4 ] && echo 0 || echo 1)" \
	"its flow $LAB_CLIENT4:$LP -> :$P is in og_flows (pkts=$pk0)"

# syn_twice N: N random sources in 100.64.0.0/10 each send a SYN to the order port twice,
# from a raw socket on the client's link (bounded: N sources, 15 seconds). The TCP
# checksum is left 0, so the gateway's stack discards them after og_xdp saw them.
syn_twice() {
	local ifc mac_c mac_g
	ifc=$(ip -n "$LAB_NS_CLIENT" -o link show | awk -F': ' '$2 != "lo" {sub(/@.*/, "", $2); print $2; exit}')
	mac_c=$(ip -n "$LAB_NS_CLIENT" -j link show "$ifc" | jq -r '.[0].address')
	mac_g=$(ip -j link show "$LAB_IF_CLIENT" | jq -r '.[0].address')
	ip netns exec "$LAB_NS_CLIENT" timeout -k 1 15 "$SYS_PY" - "$ifc" "$mac_c" "$mac_g" \
		"$LAB_GW4" "$P" "$1" <<'PY'
import random, socket, struct, sys
ifc, mac_c, mac_g, dst, port, n = sys.argv[1:7]
port, n = int(port), int(n)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifc, 0))
eth = bytes.fromhex(mac_g.replace(":", "")) + bytes.fromhex(mac_c.replace(":", "")) + b"\x08\x00"
daddr = socket.inet_aton(dst)
def csum(b):
    t = sum(struct.unpack("!10H", b))
    t = (t >> 16) + (t & 0xffff)
    return ~(t + (t >> 16)) & 0xffff
sent = 0
for i in range(n):
    saddr = struct.pack("!I", 0x64400000 | random.getrandbits(22))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xffff, 0, 64, 6, 0, saddr, daddr)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    tcp = struct.pack("!HHIIBBHHH", random.getrandbits(16) | 1024, port, random.getrandbits(32),
                      0, 5 << 4, 0x02, 64240, 0, 0)
    pkt = eth + ip + tcp
    s.send(pkt)
    s.send(pkt)
    sent += 2
print(f"{sent} packets transmitted from {n} sources (each SYN twice)")
PY
}

# flood_phase WHAT TOOL: flood the order port from random sources (TOOL hping3 for FLOOD_S
# seconds, IDLE_S when WHAT is idle*; twice: syn_twice), then check the order connection's
# entry and the flood's footprint.
flood_phase() {
	local what=$1 tool=$2 n0 nf0 st0 rx0 a0 pk0 mid flood rx1 nf1 n1 pk1 i
	n0=$(flow_count) nf0=$(lane_sum new_flows) st0=$(lane_sum stateless)
	rx0=$("$SYS_CTL" lanes --json --pin-path "$SYS_PIN" | jq '.lanes.order.rx_pkts')
	pk0=$(flow_pkts)
	local secs=$FLOOD_S
	if [[ "$what" = idle* ]]; then
		touch "$SYS_TMPDIR/pause"
		sleep 0.3
		pk0=$(flow_pkts) secs=$IDLE_S
	fi
	if [ "$tool" = hping3 ]; then
		ip netns exec "$LAB_NS_CLIENT" timeout -s INT -k 1 "$secs" \
			hping3 --flood --rand-source -S -p "$P" "$LAB_GW4" >"$SYS_TMPDIR/flood.log" 2>&1
	else
		syn_twice 20000 >"$SYS_TMPDIR/flood.log" 2>&1
	fi
	mid=$(flow_pkts)
	rm -f "$SYS_TMPDIR/pause"
	sys_diag "$what: $(grep -i 'packets transmitted' "$SYS_TMPDIR/flood.log" | head -1)"
	a0=$(answers)
	flood=$(($(lane_sum stateless) - st0))
	ok "$([ "$flood" -ge $((20 * FLOWS)) ] && echo 0 || echo 1)" \
		"$what: the flood reached og_xdp: $flood stateless packets, >= 20x og_flows' $FLOWS entries"
	rx1=$("$SYS_CTL" lanes --json --pin-path "$SYS_PIN" | jq '.lanes.order.rx_pkts')
	ok "$([ $((rx1 - rx0)) -ge "$flood" ] && echo 0 || echo 1)" \
		"$what: the flood was classified into the order lane (rx_pkts +$((rx1 - rx0)))"
	ok "$([ -n "$mid" ] && echo 0 || echo 1)" \
		"$what: after the flood the order flow is still in og_flows (pkts $pk0 -> ${mid:-gone})"
	nf1=$(lane_sum new_flows)
	ok "$([ $((nf1 - nf0)) -le 4 ] && echo 0 || echo 1)" \
		"$what: the flood created no og_flows entries (new_flows +$((nf1 - nf0)))"
	n1=$(flow_count)
	ok "$([ "$n1" -le $((n0 + 4)) ] && echo 0 || echo 1)" \
		"$what: og_flows holds $n1 entries (before: $n0), not the flood"
	# The connection keeps working, its counters growing.
	for ((i = 0; i < 60 && $(answers) < a0 + 3; i++)); do sleep 0.1; done
	ok "$([ "$(answers)" -ge $((a0 + 3)) ] && echo 0 || echo 1)" \
		"$what: the order connection kept answering ($a0 -> $(answers) answers)"
	pk1=$(flow_pkts)
	ok "$([ -n "$pk1" ] && [ -n "$mid" ] && [ "$pk1" -gt "$mid" ] && echo 0 || echo 1)" \
		"$what: its og_flows entry kept counting ($pk0 -> ${mid:-gone} -> ${pk1:-gone} pkts)"
}

flood_phase active hping3
flood_phase idle hping3
flood_phase "idle, SYN retransmits" twice

lane_of() {
	"$SYS_CTL" lanes --json --pin-path "$SYS_PIN" 2>/dev/null | jq --arg l "$1" --arg f "$2" '.lanes[$l][$f] // 0'
}
# A handshake storm of real connections to the bulk port (bounded: 3 s of wrk) while the order
# connection idles: every connection is admitted, og_flows' ways overflow many times over.
storm_phase() {
	local nb0 eb0 eo0 pk0 mid a0 nb eb eo pk1 i
	touch "$SYS_TMPDIR/pause"
	sleep 0.3
	nb0=$(lane_of bulk new_flows) eb0=$(lane_of bulk flows_evicted) eo0=$(lane_of order flows_evicted)
	pk0=$(flow_pkts)
	ip netns exec "$LAB_NS_CLIENT" timeout -k 1 10 wrk -t2 -c32 -d3s -H "Connection: close" \
		"http://$LAB_GW4:$PB/ping" >"$SYS_TMPDIR/storm.log" 2>&1
	mid=$(flow_pkts)
	rm -f "$SYS_TMPDIR/pause"
	sys_diag "storm: $(grep -E 'requests in' "$SYS_TMPDIR/storm.log")"
	nb=$(($(lane_of bulk new_flows) - nb0)) eb=$(($(lane_of bulk flows_evicted) - eb0))
	eo=$(($(lane_of order flows_evicted) - eo0))
	ok "$([ "$nb" -ge $((4 * FLOWS)) ] && echo 0 || echo 1)" \
		"storm: $nb bulk connections admitted, >= 4x og_flows' $FLOWS flows"
	ok "$([ "$eb" -ge "$FLOWS" ] && echo 0 || echo 1)" "storm: $eb bulk flows evicted (sets full)"
	ok "$([ "$eo" -eq 0 ] && echo 0 || echo 1)" "storm: no order flow evicted (flows_evicted +$eo)"
	ok "$([ -n "$mid" ] && echo 0 || echo 1)" \
		"storm: the idle order flow is still in og_flows (pkts $pk0 -> ${mid:-gone})"
	a0=$(answers)
	for ((i = 0; i < 60 && $(answers) < a0 + 3; i++)); do sleep 0.1; done
	pk1=$(flow_pkts)
	ok "$([ -n "$pk1" ] && [ -n "$mid" ] && [ "$pk1" -gt "$mid" ] && echo 0 || echo 1)" \
		"storm: the order connection kept answering and counting ($a0 -> $(answers) answers, ${mid:-gone} -> ${pk1:-gone} pkts)"
}
storm_phase
ok "$(grep -q . "$SYS_TMPDIR/client.log" && echo 1 || echo 0)" "the client reported no error"
sys_diag "$(cat "$SYS_TMPDIR/client.log")"

tap_done
