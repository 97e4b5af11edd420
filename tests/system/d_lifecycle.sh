#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ordergated lifecycle: SIGHUP reload (good and bad), SIGUSR1 log reopen, takeover under wrk, drain.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_begin
command -v wrk >/dev/null || { ok 1 "wrk installed (make deps)"; tap_done; exit 1; }

d_origin_o1
CONF=$D_TMP/gw.yaml
ALOG=$D_TMP/access.json
write_conf() { # write_conf PING_BODY [EXTRA ROUTE YAML]
	cat >"$CONF.tmp" <<EOF
workers: 2
listen: ["127.0.0.1:$D_GW_PORT"]
admin: { listen: "127.0.0.1:$D_ADMIN_PORT" }
access_log: { path: "$ALOG" }
shutdown_grace_ms: 5000
upstreams:
  origin: { servers: ["127.0.0.1:$D_O1_PORT"], keepalive: 32 }
routes:
  - name: ping
    match: { path: /ping }
    respond: { status: 200, body: "$1" }
${2:-}
  - name: proxy
    match: { path_prefix: / }
    upstream: origin
EOF
	mv "$CONF.tmp" "$CONF" # atomic: a reload never reads half a file
}
write_conf pong
d_gw_start a "$CONF"
ok $? "gateway A starts"
is "$(curl -s --max-time 5 "$(d_gw /ping)")" pong "serves /ping -> pong"

# --- SIGHUP with a good config: the change is live without a restart ------------------------
write_conf pong2 '  - name: added
    match: { path: /added }
    respond: { status: 201, body: "new route" }'
kill -HUP "${D_GW_PID[a]}"
for ((i = 0; i < 40; i++)); do
	[ "$(curl -s --max-time 2 "$(d_gw /ping)")" = pong2 ] && break
	sleep 0.05
done
is "$(curl -s --max-time 5 "$(d_gw /ping)")" pong2 "after SIGHUP /ping answers the new body"
is "$(curl -s --max-time 5 -w ' %{http_code}' "$(d_gw /added)")" "new route 201" \
	"after SIGHUP the added route exists"
is "$(d_metric 'ordergate_config_reloads_total{result="ok"}')" 1 "metrics: 1 reload ok"
is "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$(d_gw /api/echo?after-reload)")" 200 \
	"proxying still works after the reload"

# --- SIGHUP with a bad config: keeps serving, names file:line:column -------------------------
cp "$CONF" "$D_TMP/good.yaml"
{ head -4 "$D_TMP/good.yaml"; echo "bogus_key: 1"; tail -n +5 "$D_TMP/good.yaml"; } >"$CONF.tmp"
mv "$CONF.tmp" "$CONF"
kill -HUP "${D_GW_PID[a]}"
for ((i = 0; i < 40; i++)); do
	[ "$(d_metric 'ordergate_config_reloads_total{result="failed"}')" = 1 ] && break
	sleep 0.05
done
is "$(d_metric 'ordergate_config_reloads_total{result="failed"}')" 1 "metrics: 1 reload refused"
grep -q "$CONF:5:1" "$D_TMP/a.err"
ok $? "the refusal is logged as $CONF:5:1 ($(grep -o "$CONF:[0-9]*:[0-9]*[^\"]*" "$D_TMP/a.err" | head -1))"
is "$(curl -s --max-time 5 "$(d_gw /ping)")" pong2 "the running config keeps serving"
curl -s --max-time 5 "$(d_admin /config)" | grep -q bogus_key
ok $((!$?)) "/config still shows the running config, not the refused one"
cp "$D_TMP/good.yaml" "$CONF"

# --- SIGUSR1 reopens the access log -----------------------------------------------------------
for i in 1 2 3; do curl -s --max-time 5 -o /dev/null -H "X-Request-Id: before-$i" "$(d_gw /ping)"; done
wait_lines() { # wait_lines FILE PATTERN N: up to 3 s for N lines matching PATTERN
	local i
	for ((i = 0; i < 60; i++)); do
		[ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}
wait_lines "$ALOG" '"before-' 3
ok $? "access log has the 3 requests"
mv "$ALOG" "$ALOG.1"
kill -USR1 "${D_GW_PID[a]}"
sleep 0.3
for i in 1 2; do curl -s --max-time 5 -o /dev/null -H "X-Request-Id: after-$i" "$(d_gw /ping)"; done
wait_lines "$ALOG" '"after-' 2
ok $? "after mv + SIGUSR1 a new $ALOG gets the new lines"
is "$(grep -c '"after-' "$ALOG.1")" 0 "the rotated file gets none of them"
jq -e . "$ALOG" >/dev/null 2>&1
ok $? "the new file is valid JSON lines"

# --- takeover under wrk: B starts beside A, A drains, no client sees an error ----------------
cat >"$D_TMP/count.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
	if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
	local n = 0
	for _, t in ipairs(threads) do n = n + t:get("non2xx") end
	local e = summary.errors
	io.write(string.format("RESULT requests=%d non2xx=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
		summary.requests, n, e.connect, e.read, e.write, e.status, e.timeout))
end
LUA
wrk -t2 -c20 -d5s --timeout 3s -s "$D_TMP/count.lua" "$(d_gw /api/echo?wrk)" >"$D_TMP/wrk.out" 2>&1 &
wpid=$!
sleep 1.5
d_gw_start b "$CONF"
ok $? "gateway B starts beside A on the same port"
# d_gw_start's readiness (the port listens, /healthz answers) is already true through A, so
# wait for B's own listener (bounded; an ASan build binds later).
for ((i = 0; i < 100 * D_SLOW; i++)); do
	ss -Hltnp "sport = :$D_GW_PORT" | grep -q "pid=${D_GW_PID[b]}," && break
	sleep 0.05
done
ss -Hltnp "sport = :$D_GW_PORT" | grep -q "pid=${D_GW_PID[b]},"
ok $? "B listens on port $D_GW_PORT too"
sleep 0.5
kill -TERM "${D_GW_PID[a]}"
d_wait_exit "${D_GW_PID[a]}" $((10 * D_SLOW))
ok $? "A exits within its grace period"
wait "${D_GW_PID[a]}"
is "$?" 0 "A exit status 0"
D_GW_PID[a]=
d_save_err a
wait "$wpid"
res=$(grep '^RESULT' "$D_TMP/wrk.out")
diag "wrk: $res"
req=$(echo "$res" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
ok $([ "${req:-0}" -ge 1000 ]; echo $?) "wrk ran ${req:-0} requests through the takeover (>= 1000)"
is "$(echo "$res" | sed 's/^RESULT requests=[0-9]* //')" \
	"non2xx=0 connect=0 read=0 write=0 status=0 timeout=0" "zero errors and zero non-2xx under takeover"
is "$(curl -s --max-time 5 "$(d_gw /ping)")" pong2 "B serves after A left"

# --- SIGTERM drains: an in-flight slow request completes, new connections are refused --------
curl -s --max-time 20 -o "$D_TMP/slow.out" -w '%{http_code}' "$(d_gw /slow/1m)" >"$D_TMP/slow.code" &
cpid=$!
sleep 0.4
t0=$(date +%s%N)
kill -TERM "${D_GW_PID[b]}"
sleep 0.3
curl -s --max-time 3 -o /dev/null "$(d_gw /ping)"
is "$?" 7 "after SIGTERM new connections are refused (listener closed)"
wait "$cpid"
is "$(cat "$D_TMP/slow.code")" 200 "the in-flight slow request (2 s) completed with 200"
is "$(d_sha "$D_TMP/slow.out")" "$(d_sha "$D_TMP/www/files/1m")" "... with the whole body"
d_wait_exit "${D_GW_PID[b]}" $((10 * D_SLOW))
ok $? "B exits after the drain"
wait "${D_GW_PID[b]}"
is "$?" 0 "B exit status 0"
ms=$((($(date +%s%N) - t0) / 1000000))
ok $([ "$ms" -lt 5000 ]; echo $?) "... within shutdown_grace_ms ($ms ms)"
D_GW_PID[b]=
d_save_err b
tap_done
