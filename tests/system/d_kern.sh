#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ordergated's kernel link in the lab: it attaches the datapath on the gateway side, its slow
# loop throttles a SYN-flooding source in XDP with a TTL that lapses, a restart adopts the
# attach, and killing the daemon (kill -9) leaves traffic flowing and throttles lapsing.
#
# The slow loop runs every 200 ms with a SYN threshold of 400/s and gives a flooding source a
# 5 pps / burst 5 bucket for 8 s (limits.slow), so a burst of 300 parallel connects from
# the client namespace trips it and a burst of 50 afterwards mostly fails at XDP.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_dp_begin
sys_tmpdir
T=$SYS_TMPDIR
D=${OG_DAEMON:-$SYS_BUILD/ordergated}
P=$(sys_free_port)
A=$(sys_free_port)
N=$(sys_free_port)
sys_gw_server "$N"
ok $? "nginx on the gateway side (port $N), for traffic the daemon does not serve"

# the order lane: port $P (order worker 0 only) and the client's IPv6 address as an order source
cat >"$T/og.yaml" <<YAML
workers: 2
listen: ["$LAB_GW4:$P", "[$LAB_GW6]:$P"]
admin: { listen: "127.0.0.1:$A" }
xdp: { interface: $LAB_IF_CLIENT, mode: native, pin_path: "$SYS_PIN" }
lanes:
  order: { reserve_workers: 1, others_nice: 10, match: { dst_ports: [$P], src_cidrs: ["$LAB_CLIENT6/128"] } }
limits:
  slow_ms: 200
  slow: { syn_rate: 400, reject_rate: 20, throttle_ttl_ms: 8000, throttle_pps: 5, throttle_burst: 5, calm_windows: 1000 }
routes:
  - match: { path: /ping }
    respond: { status: 200, body: "pong" }
  - name: limited
    match: { path: /limited }
    respond: { status: 200, body: "ok" }
    limit: { rps: 1, burst: 1, key: source }
YAML
cp "$T/og.yaml" "$T/og0.yaml"
export ORDERGATE_STATE_DIR=$T/state
sys_cleanup_push "$SYS_BUILD/ordergatectl" detach "$LAB_IF_CLIENT" --purge --pin-path "$SYS_PIN"

# start NAME: run the daemon; waits for the admin /healthz (bounded). Sets GW_PID.
start() {
	"$D" -c "$T/og.yaml" >"$T/$1.out" 2>"$T/$1.err" &
	GW_PID=$!
	sys_cleanup_push sys_kill_pid "$GW_PID"
	for _ in $(seq 100); do
		curl -s -o /dev/null -m 1 "http://127.0.0.1:$A/healthz" && return 0
		kill -0 "$GW_PID" 2>/dev/null || break
		sleep 0.05
	done
	sys_diag "$(head -20 "$T/$1.err")"
	return 1
}

# burst N [PORT] [HOST]: N parallel connects from the client namespace within 1 s; prints
# how many completed. Bounded: one second, N sockets.
burst() { sys_burst "$LAB_NS_CLIENT" "${3:-$LAB_GW4}" "${2:-$P}" "$1"; }

# throttle_of ADDR: "live|expired|none" and the entry's expires_in_s
throttle_of() {
	"$SYS_BUILD/ordergatectl" throttle list --json --pin-path "$SYS_PIN" 2>/dev/null |
		jq -r --arg a "$1" '(.throttles[] | select(.addr == $a) |
			"\(if .live then "live" else "expired" end) \(.expires_in_s)") // "none 0"'
}

# wait_throttle ADDR STATE SECS: poll until ADDR's entry is STATE (bounded).
wait_throttle() {
	local end=$(($(date +%s) + $3))
	while [ "$(date +%s)" -le "$end" ]; do
		[ "$(throttle_of "$1" | cut -d' ' -f1)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

start gw1
ok $? "ordergated starts with xdp: { interface: $LAB_IF_CLIENT, pin_path: $SYS_PIN }"
grep -q "event=kern_attach ifname=$LAB_IF_CLIENT" "$T/gw1.err"
ok $? "it attached the datapath itself (log: event=kern_attach)"
st=$("$SYS_BUILD/ordergatectl" status --json --pin-path "$SYS_PIN" 2>/dev/null)
sys_diag "$st"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 200 "client -> daemon /ping through XDP"
is "$(burst 50)" 50 "unthrottled: 50 parallel connections complete"

# --- a SYN flood is throttled by the slow loop, in XDP, and lapses after the TTL ---
d0=$(sys_drops drop_throttle)

burst 300 >/dev/null
wait_throttle "$LAB_CLIENT4" live 10

ok $? "the slow loop throttled the flooding source $LAB_CLIENT4 in og_throttle"
read -r state left <<<"$(throttle_of "$LAB_CLIENT4")"
ok "$(awk -v l="$left" 'BEGIN { print (l > 0 && l <= 8.05) ? 0 : 1 }')" \
	"its entry carries the 8 s TTL (expires in ${left}s)"
line=$(grep "event=slow_decision action=throttle src=$LAB_CLIENT4 " "$T/gw1.err" | head -1)
ok "$([ -n "$line" ] && [[ $line == *why=syn_rate* ]] && [[ $line == *syn_rate=* ]] &&
	[[ $line == *ttl_ms=8000* ]] && echo 0 || echo 1)" "one structured decision log line with its inputs"
sys_diag "$line"
n=$(burst 50)
ok "$([ "$n" -le 20 ] && echo 0 || echo 1)" "throttled in XDP: at most 20 of 50 connect ($n)"
d1=$(sys_drops drop_throttle)
ok "$([ "$d1" -gt "$d0" ] && echo 0 || echo 1)" "drop_throttle rose ($d0 -> $d1)"
is "$(sys_curl "$LAB_NS_CLIENT" "http://[$LAB_GW6]:$P/ping")" 200 \
	"the same client over IPv6 (another source) is not throttled"
m=$(curl -s -m 2 "http://127.0.0.1:$A/metrics")
echo "$m" | grep -qE '^ordergate_slow_decisions_total\{action="throttle"\} [1-9]'
ok $? "metric ordergate_slow_decisions_total{action=throttle} counts it"
wait_throttle "$LAB_CLIENT4" expired 15
ok $? "after the TTL the entry has lapsed"
is "$(burst 50)" 50 "after the TTL: 50 parallel connections complete again"

# --- /flows joins og_flows with pins and throttles ---
fl=$(curl -s -m 2 "http://127.0.0.1:$A/flows?top=3")
is "$(echo "$fl" | jq '.shown')" 3 "admin /flows?top=3 shows 3 flows"
is "$(echo "$fl" | jq -r '[.flows[] | has("lane") and has("pinned") and has("throttled") and has("bytes")] | all')" \
	true "each with lane, pinned, throttled and bytes"
fl=$(curl -s -m 2 "http://127.0.0.1:$A/flows?top=1000")
is "$(echo "$fl" | jq -r --argjson p "$P" --arg c "$LAB_CLIENT4" \
	'[.flows[] | select(.dport == $p and .src == $c) | "\(.lane)/\(.lane_src)"] | unique | join(",")')" \
	order/port "the daemon wrote the order port into og_port_lane: its flows are lane order"
is "$(echo "$fl" | jq -r --arg c "$LAB_CLIENT6" \
	'[.flows[] | select(.src == $c) | "\(.lane)/\(.lane_src)"] | unique | join(",")')" \
	order/prefix "and the order source into og_src_rules: its flows are lane order by prefix"

out=$("$SYS_BUILD/ordergatectl" flows --admin "127.0.0.1:$A" --top 2 2>&1)
ok "$([ "$(echo "$out" | grep -c "^$LAB_CLIENT4 ")" -ge 1 ] &&
	echo "$out" | grep -q '^SRC .*PINNED.*THROTTLED' && echo "$out" | grep -q '(2 of ' &&
	echo 0 || echo 1)" "ordergatectl flows --admin prints the daemon's top flows"
sys_diag "$out"
out=$("$SYS_BUILD/ordergatectl" lanes --admin "127.0.0.1:$A" --pin-path "$SYS_PIN" 2>&1)
echo "$out" | grep -q '^order ' && echo "$out" | grep -q "^L7 lanes (daemon 127.0.0.1:$A/lanes)"
ok $? "ordergatectl lanes shows kernel lanes and asks the daemon for its L7 lanes"
out=$(ORDERGATE_ADMIN=127.0.0.1:1 "$SYS_BUILD/ordergatectl" lanes --pin-path "$SYS_PIN" 2>&1)
ok "$([ $? -eq 0 ] && ! echo "$out" | grep -q 'L7 lanes' && echo 0 || echo 1)" \
	"with no daemon answering, lanes shows the kernel lanes only"
"$SYS_BUILD/ordergatectl" limits --admin 127.0.0.1:1 >/dev/null 2>"$T/lim.err"
ok "$([ $? -ne 0 ] && grep -q 'no daemon admin API at 127.0.0.1:1' "$T/lim.err" && echo 0 || echo 1)" \
	"ordergatectl limits says plainly when no daemon answers"

# --- the controller reads og_lane_stats through the kernel link ---
lj=$(curl -s -m 2 "http://127.0.0.1:$A/lanes")
is "$(echo "$lj" | jq -r '.kernel')" true "/lanes: the controller reads og_lane_stats (ctrl_attach_dp)"
ok "$(echo "$lj" | jq -e '.lanes[] | select(.lane == "order") | .kern_rx_pkts > 0' >/dev/null && echo 0 || echo 1)" \
	"and counts the order lane's packets from the kernel ($(echo "$lj" | jq -c '[.lanes[] | .kern_rx_pkts]'))"

# --- a source refused again and again at L7 (429) is throttled by the slow loop ---
# 60 requests on one connection, the whole stream cut after 4 s: once the source is throttled
# its remaining requests crawl through the 5 pps bucket, and none may be left to flood again
# when the entry lapses
urls=()
for _ in $(seq 60); do urls+=("http://[$LAB_GW6]:$P/limited"); done
codes=$(sys_in "$LAB_NS_CLIENT" timeout 4 curl -s -o /dev/null -w '%{http_code}\n' --connect-timeout 1 -m 4 "${urls[@]}")
n429=$(grep -c '^429$' <<<"$codes")
ok "$([ "$n429" -ge 20 ] && echo 0 || echo 1)" "60 requests over the route limit: $n429 answered 429"
wait_throttle "$LAB_CLIENT6" live 10
ok $? "the slow loop throttled the refused source $LAB_CLIENT6 (lanes_slow_note_reject on each 429)"
line=$(grep "event=slow_decision action=throttle src=$LAB_CLIENT6 " "$T/gw1.err" | head -1)
ok "$([[ $line == *why=rejects* ]] && echo 0 || echo 1)" "its decision line says why=rejects"
sys_diag "$line"
wait_throttle "$LAB_CLIENT6" expired 15
ok $? "and the entry lapses after its TTL"

# --- a reload: order ports reach og_port_lane; xdp: and slow thresholds say what they do ---
port_lanes() {
	"$SYS_BUILD/ordergatectl" rules --json --pin-path "$SYS_PIN" 2>/dev/null |
		jq -r '[.port_lanes[] | "\(.port)=\(.lane)"] | sort | join(",")'
}
is "$(port_lanes)" "$P=order" "og_port_lane holds the order port from the config"
sed -e "s|dst_ports: \[$P\]|dst_ports: [$N]|" -e 's|mode: native|mode: generic|' \
	-e 's|syn_rate: 400|syn_rate: 401|' "$T/og0.yaml" >"$T/og.yaml"
kill -HUP "$GW_PID"
for _ in $(seq 100); do [ "$(port_lanes)" = "$N=order" ] && break; sleep 0.05; done
is "$(port_lanes)" "$N=order" "after a reload moving the order port to $N: og_port_lane follows, $P is gone"
for _ in $(seq 100); do grep -q "event=slow_params syn_rate=401 " "$T/gw1.err" && break; sleep 0.05; done
grep -q "event=slow_params syn_rate=401 " "$T/gw1.err"
ok $? "the slow loop takes the reloaded thresholds (event=slow_params)"
grep -q 'event=reload note="xdp: takes effect on restart; the datapath stays as it is' "$T/gw1.err"
ok $? "a reload that changes xdp: says it takes effect on restart"
cp "$T/og0.yaml" "$T/og.yaml"
kill -HUP "$GW_PID"
for _ in $(seq 100); do [ "$(port_lanes)" = "$P=order" ] && break; sleep 0.05; done
is "$(port_lanes)" "$P=order" "reloading the first config puts $P back"

# --- a restart adopts the attach; SIGTERM detaches nothing ---
pid1=$(ip -j link show "$LAB_IF_CLIENT" | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // empty')
kill -TERM "$GW_PID"; wait "$GW_PID" 2>/dev/null
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$N/ping")" 200 "daemon stopped: XDP still passes traffic"
# the second daemon drops root after start (user: nobody): the kernel link must keep working
sed -i '1i user: nobody' "$T/og.yaml"
start gw2
ok $? "ordergated starts again"
grep -q "event=privdrop user=nobody .*caps=net_bind_service,bpf" "$T/gw2.err" &&
	[ "$(awk '/^Uid:/ { print $3 }' "/proc/$GW_PID/status")" = 65534 ]
ok $? "and drops to user nobody, keeping CAP_BPF for the kernel link"
grep -q "event=kern_adopt ifname=$LAB_IF_CLIENT" "$T/gw2.err" && ! grep -q "event=kern_attach" "$T/gw2.err"
ok $? "and adopts the running attach instead of attaching again"
pid2=$(ip -j link show "$LAB_IF_CLIENT" | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // empty')
is "$pid2" "$pid1" "the XDP program was not replaced (id $pid1)"

# --- kill -9 while a throttle is live: traffic flows, the throttle lapses ---
# the new daemon's slow loop needs one read of og_flows as its baseline: flows that start
# before it are not new to it
for _ in $(seq 100); do
	t=$(curl -s -m 1 "http://127.0.0.1:$A/metrics" | awk '$1 == "ordergate_slow_ticks_total" { print $2 }')
	[ "${t:-0}" -ge 2 ] && break
	sleep 0.05
done
burst 300 >/dev/null
wait_throttle "$LAB_CLIENT4" live 10
ok $? "throttled again by the second daemon (running as nobody)"
is "$(curl -s -m 5 "http://127.0.0.1:$A/flows?top=1" | jq -r '.shown')" 1 \
	"admin /flows still reads the pinned maps after the drop"
# og_config's lock file is root's (0600): the writer opened it before the drop and keeps it,
# or its read-modify-writes of og_config would run unlocked against ordergatectl
lk=$(ls -l "/proc/$GW_PID/fd" 2>/dev/null | grep -c 'og_config\.[0-9]*\.lock')
ok $([ "$lk" -ge 1 ] && ! grep -q "event=kern_lock" "$T/gw2.err"; echo $?) \
	"running as nobody, the kernel writer still holds og_config's lock file ($lk open)"
ww=$(find "$SYS_PIN" /run/ordergate -perm -o+w ! -type l 2>/dev/null | head -3)
is "$ww" "" "no pinned map or state file is world-writable"
kill -KILL "$GW_PID"; wait "$GW_PID" 2>/dev/null
is "$(sys_curl "$LAB_NS_CLIENT" "http://[$LAB_GW6]:$N/ping")" 200 \
	"daemon killed: traffic from other sources still flows through XDP"
wait_throttle "$LAB_CLIENT4" expired 15
ok $? "with no daemon the throttle lapses by its TTL"
is "$(burst 50 "$N")" 50 "and the source connects freely again (50 of 50 to nginx)"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$N/ping")" 200 "curl through the datapath works"
sys_diag "$(grep -h "event=slow_decision\|event=kern_" "$T"/gw*.err)"
if grep -l "Sanitizer" "$T"/*.err 2>/dev/null; then ok 1 "no sanitizer report"; sys_diag "$(grep -h -A15 Sanitizer "$T"/*.err | head -40)"; fi
tap_done
