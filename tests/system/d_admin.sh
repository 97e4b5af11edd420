#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ordergated admin API and access log: /metrics (promtool), counters move, /healthz /readyz /config, JSON lines.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_begin o1

ALOG=$D_TMP/access.json
d_gw_conf_origin 2 8 "access_log: { path: \"$ALOG\" }" <<EOF
  - name: api
    match: { path_prefix: /api/ }
    upstream: origin
  - name: slow
    match: { path_prefix: /slow/ }
    upstream: origin
EOF
d_gw_start gw "$D_TMP/gw.yaml"
ok $? "gateway starts"

# --- /healthz /readyz, unknown paths and methods ----------------------------------------------
is "$(curl -s --max-time 5 -w '|%{http_code}' "$(d_admin /healthz)" | tr -d '\n')" "ok|200" \
	"/healthz: 200 ok"
is "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$(d_admin /readyz)")" 200 \
	"/readyz: 200 with listeners up and the origin healthy"
is "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$(d_admin /nope)")" 404 "unknown path: 404"
is "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST "$(d_admin /metrics)")" 405 \
	"POST /metrics: 405"
ss -Hltn "sport = :$D_ADMIN_PORT" | grep -q "127.0.0.1:$D_ADMIN_PORT"
ok $? "admin listens on loopback only (as configured)"

# --- /metrics: valid exposition, and the counters move with traffic ---------------------------
curl -s --max-time 5 -D "$D_TMP/mh" -o "$D_TMP/m1" "$(d_admin /metrics)"
tr -d '\r' <"$D_TMP/mh" | grep -qi '^content-type: text/plain; version=0.0.4'
ok $? "/metrics Content-Type is the Prometheus text format 0.0.4"
out=$(promtool check metrics <"$D_TMP/m1" 2>&1)
ok $? "promtool check metrics accepts /metrics${out:+: $out}"
for fam in ordergate_requests_total ordergate_request_duration_seconds \
	ordergate_upstream_request_duration_seconds ordergate_client_connections \
	ordergate_upstream_connections ordergate_upstream_server_healthy \
	ordergate_upstream_breaker_state ordergate_build_info ordergate_config_reloads_total \
	ordergate_process_start_time_seconds ordergate_access_log_dropped_total; do
	grep -q "^# TYPE $fam " "$D_TMP/m1"
	ok $? "/metrics has $fam"
done
M_API='ordergate_requests_total{route="api",code_class="2xx"}'
M_PING='ordergate_requests_total{route="ping",code_class="2xx"}'
M_NONE='ordergate_requests_total{route="_none",code_class="4xx"}'
M_HIST='ordergate_request_duration_seconds_count{route="api"}'
M_UP='ordergate_upstream_request_duration_seconds_count{upstream="origin"}'
M_UPREQ="ordergate_upstream_requests_total{upstream=\"origin\",server=\"127.0.0.1:$D_O1_PORT\",code_class=\"2xx\"}"
M_HEALTHY="ordergate_upstream_server_healthy{upstream=\"origin\",server=\"127.0.0.1:$D_O1_PORT\"}"
v() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$2"; }
for i in $(seq 1 10); do curl -s --max-time 5 -o /dev/null "$(d_gw "/api/echo?n=$i")"; done
for i in $(seq 1 7); do curl -s --max-time 5 -o /dev/null "$(d_gw /ping)"; done
for i in $(seq 1 3); do curl -s --max-time 5 -o /dev/null "$(d_gw /nothing-here)"; done
curl -s --max-time 5 -o "$D_TMP/m2" "$(d_admin /metrics)"
is $(($(v "$M_API" "$D_TMP/m2") - $(v "$M_API" "$D_TMP/m1"))) 10 "requests_total{route=api,2xx} +10"
is $(($(v "$M_PING" "$D_TMP/m2") - $(v "$M_PING" "$D_TMP/m1"))) 7 "requests_total{route=ping,2xx} +7"
is $(($(v "$M_NONE" "$D_TMP/m2") - $(v "$M_NONE" "$D_TMP/m1"))) 3 "unrouted 404s counted under _none"
is $(($(v "$M_HIST" "$D_TMP/m2") - $(v "$M_HIST" "$D_TMP/m1"))) 10 "duration histogram count +10"
is $(($(v "$M_UP" "$D_TMP/m2") - $(v "$M_UP" "$D_TMP/m1"))) 10 "upstream duration histogram count +10"
is $(($(v "$M_UPREQ" "$D_TMP/m2") - $(v "$M_UPREQ" "$D_TMP/m1"))) 10 "upstream requests by server +10"
is "$(v "$M_HEALTHY" "$D_TMP/m2")" 1 "origin server reported healthy"
M_NR='ordergate_errors_total{reason="no-route"}'
is $(($(v "$M_NR" "$D_TMP/m2") - $(v "$M_NR" "$D_TMP/m1"))) 3 "errors_total{reason=no-route} +3"
M_UPC="ordergate_upstream_connections{upstream=\"origin\",server=\"127.0.0.1:$D_O1_PORT\""
idle=$(v "$M_UPC,state=\"idle\"}" "$D_TMP/m2")
ok $([ "$idle" -ge 1 ] && [ "$idle" -le 16 ]; echo $?) \
	"upstream pool holds idle keep-alive connections after traffic ($idle, keepalive 8 x 2 workers)"
is "$(v "$M_UPC,state=\"active\"}" "$D_TMP/m2")" 0 "no upstream connection active when idle"
inf=$(v 'ordergate_request_duration_seconds_bucket{route="api",le="+Inf"}' "$D_TMP/m2")
is "$inf" "$(v "$M_HIST" "$D_TMP/m2")" "histogram +Inf bucket equals _count"
promtool check metrics <"$D_TMP/m2" >/dev/null 2>&1
ok $? "promtool still accepts /metrics after traffic"
# idle keep-alive client connections show up in the gauge
"$SYS_PY" - "$D_GW_PORT" "$D_ADMIN_PORT" >"$D_TMP/idle" <<'PY' &
import socket, sys, time, urllib.request
port, admin = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(5):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    d = b""
    while not d.endswith(b"pong"):
        d += s.recv(4096)
    socks.append(s)
time.sleep(0.3)
m = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=5).read().decode()
for l in m.splitlines():
    if l.startswith('ordergate_client_connections{state="idle"}'):
        print(l.split()[1])
PY
wait $!
idle=$(cat "$D_TMP/idle")
ok $([ "${idle:-0}" -ge 5 ]; echo $?) "5 idle keep-alive clients: client_connections{idle} = ${idle:-none}"

# --- /config round-trips through ordergated -t ---------------------------------------------------
curl -s --max-time 5 -o "$D_TMP/dump.yaml" -w '%{http_code}' "$(d_admin /config)" >"$D_TMP/cc"
is "$(cat "$D_TMP/cc")" 200 "/config: 200"
grep -q "127.0.0.1:$D_O1_PORT" "$D_TMP/dump.yaml" && grep -q "/api/" "$D_TMP/dump.yaml"
ok $? "/config shows the upstream server and the routes"
out=$("$OG_DAEMON" -t -c "$D_TMP/dump.yaml" 2>&1)
ok $? "ordergated -t accepts the /config dump${out:+ ($(echo "$out" | head -1))}"
# the dump of the dump is the same document (effective config is a fixed point)
ALT_ADMIN=$(sys_free_port) ALT_PORT=$(sys_free_port)
sed -e "s/127.0.0.1:$D_ADMIN_PORT/127.0.0.1:$ALT_ADMIN/; s/127.0.0.1:$D_GW_PORT/127.0.0.1:$ALT_PORT/" \
	"$D_TMP/dump.yaml" >"$D_TMP/dump2.yaml"
"$OG_DAEMON" -c "$D_TMP/dump2.yaml" >/dev/null 2>"$D_TMP/dump2.err" &
dpid=$!
for ((i = 0; i < 60 * D_SLOW; i++)); do
	curl -s --max-time 1 -o "$D_TMP/dump3.yaml" "http://127.0.0.1:$ALT_ADMIN/config" && break
	sleep 0.05
done
kill -TERM "$dpid" 2>/dev/null
d_wait_exit "$dpid" 10 || kill -KILL "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null
[ -n "${OG_STDERR_DIR:-}" ] && cp "$D_TMP/dump2.err" "$OG_STDERR_DIR/d_admin-dump2-$$.err"
diff <(sed "s/$ALT_ADMIN/ADM/; s/$ALT_PORT/GW/" "$D_TMP/dump3.yaml" | grep -v '^#') \
	<(sed "s/$D_ADMIN_PORT/ADM/; s/$D_GW_PORT/GW/" "$D_TMP/dump.yaml" | grep -v '^#') \
	>"$D_TMP/dump.diff" 2>&1
ok $? "a daemon run from the dump dumps the same config$( [ -s "$D_TMP/dump.diff" ] && echo ": $(head -3 "$D_TMP/dump.diff" | tr '\n' ' ')")"

# --- access log: one valid JSON object per request with every field ----------------------------
curl -s --max-time 5 -o /dev/null -H 'X-Request-Id: adm-1' "$(d_gw '/api/echo?q=a%22b&x=1')"
# a request the parser refuses (space in the target) is still a request: it gets a line
printf 'GET /bad path HTTP/1.1\r\nHost: x\r\n\r\n' |
	timeout 5 "$SYS_PY" -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),timeout=3); s.sendall(sys.stdin.buffer.read()); s.recv(4096)' "$D_GW_PORT"
curl -s --max-time 5 -o /dev/null -H 'X-Request-Id: adm-2' "$(d_gw /ping)"
# Workers log into their own buffers, flushed by one thread: the refused request's line (another
# worker, maybe) can land after adm-2's, so wait for both, and for every line, on a busy machine.
for ((i = 0; i < 200; i++)); do
	grep -q '"adm-2"' "$ALOG" 2>/dev/null && grep -q '"status":400' "$ALOG" &&
		[ "$(wc -l <"$ALOG")" -ge 28 ] && break
	sleep 0.05
done
n=$(wc -l <"$ALOG")
ok $([ "$n" -ge 28 ]; echo $?) "access log has a line per request ($n lines >= 28)"
jq -e . "$ALOG" >/dev/null 2>&1
ok $? "every access log line is valid JSON"
bad=$(jq -c 'select((keys - ["ts","req_id","client","method","path","route","status","bytes_in","bytes_out","duration_ms","upstream","upstream_ms"] | length) > 0 or (["ts","req_id","client","method","path","route","status","bytes_in","bytes_out","duration_ms","upstream","upstream_ms"] - keys | length) > 0)' "$ALOG" | wc -l)
is "$bad" 0 "every line has exactly the 12 fields"
l1=$(jq -c 'select(.req_id == "adm-1")' "$ALOG")
is "$(echo "$l1" | jq -r '[.method, .path, .route, .status, .upstream] | map(tostring) | join(" ")')" \
	"GET /api/echo?q=a%22b&x=1 api 200 127.0.0.1:$D_O1_PORT" "proxied request logged with route and upstream"
echo "$l1" | jq -e '(.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")) and (.client | startswith("127.0.0.1:")) and .bytes_in > 0 and .bytes_out > 0 and .duration_ms >= .upstream_ms and .upstream_ms > 0' >/dev/null
ok $? "ts is RFC 3339 UTC with ms; client, bytes, durations plausible"
# durations are real time: 64 KiB from an origin that sends 512 KiB/s takes ~125 ms
curl -s --max-time 10 -o /dev/null -H 'X-Request-Id: adm-slow' "$(d_gw /slow/64k)"
for ((i = 0; i < 60; i++)); do grep -q '"adm-slow"' "$ALOG" 2>/dev/null && break; sleep 0.05; done
ls=$(jq -c 'select(.req_id == "adm-slow")' "$ALOG")
echo "$ls" | jq -e '.status == 200 and .upstream_ms >= 80 and .duration_ms >= .upstream_ms and .duration_ms < 5000' >/dev/null
ok $? "a slow upstream answer is timed: upstream_ms >= 80, duration_ms >= upstream_ms ($ls)"
l2=$(jq -c 'select(.req_id == "adm-2")' "$ALOG")
is "$(echo "$l2" | jq -r '[.route, .status, .upstream, .upstream_ms] | map(tostring) | join(" ")')" \
	"ping 200 null null" "direct response: upstream and upstream_ms null"
is "$(jq -r 'select(.status == 400) | .status' "$ALOG" | head -1)" 400 \
	"the request refused by the parser is logged too (status 400)"
nreq=$(jq -r 'select(.route == "api") | .req_id' "$ALOG" | sort -u | wc -l)
napi=$(jq -r 'select(.route == "api") | .req_id' "$ALOG" | wc -l)
is "$nreq" "$napi" "generated request ids are unique ($napi api lines)"
is "$(v ordergate_access_log_dropped_total <(curl -s --max-time 5 "$(d_admin /metrics)"))" 0 \
	"no access log line dropped"

d_gw_stop gw
is "$D_RC" 0 "gateway exits 0 on SIGTERM"
tap_done
