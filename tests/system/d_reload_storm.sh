#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ordergated reload storm: 100 SIGHUPs while the listen set changes and requests are queued and
# in flight; every old config generation is freed, the last one serves, no request fails.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
RELOADS=${RELOADS:-100}
d_begin
command -v wrk >/dev/null || { ok 1 "wrk installed (make deps)"; tap_done; exit 1; }
d_origin_o1
# Two extra listen ports that swap on every reload: each reload closes one listener while
# connections (their requests already sent) wait in its accept queue, and opens the other.
P1=$(sys_free_port)
P2=$(sys_free_port)
CONF=$D_TMP/gw.yaml
write_conf() { # write_conf N: generation N's config (body "pongN", listen port P1 or P2)
	local p=$P1
	[ $(($1 % 2)) -eq 1 ] && p=$P2
	cat >"$CONF.tmp" <<EOF
workers: 2
listen: ["127.0.0.1:$D_GW_PORT", "127.0.0.1:$p"]
admin: { listen: "127.0.0.1:$D_ADMIN_PORT" }
upstreams: { origin: { servers: ["127.0.0.1:$D_O1_PORT"], keepalive: 32 } }
routes:
  - { name: ping, match: { path: /ping }, respond: { status: 200, body: "pong$1" } }
  - { name: proxy, match: { path_prefix: / }, upstream: origin }
EOF
	mv "$CONF.tmp" "$CONF" # atomic: a reload never reads half a file
}
write_conf 0
d_gw_start a "$CONF"
ok $? "gateway starts"
GW=${D_GW_PID[a]}
fds0=$(ls /proc/"$GW"/fd | wc -l)

touch "$D_TMP/storm" # the background loops run while it exists
# Load on the stable address for the whole storm: keep-alive requests (direct and proxied)
# in flight at every reload. wrk's summary counts socket errors and non-2xx answers.
wrk -t1 -c8 -d300s --timeout 5s "$(d_gw /ping)" >"$D_TMP/wrk-ping.txt" 2>&1 &
WRK1=$!
sys_cleanup_push sys_kill_pid "$WRK1"
wrk -t1 -c4 -d300s --timeout 5s "$(d_gw /api/echo)" >"$D_TMP/wrk-proxy.txt" 2>&1 &
WRK2=$!
sys_cleanup_push sys_kill_pid "$WRK2"
# New connections on the stable address (accept path during reloads): one request each.
(
	end=$((SECONDS + 300))
	while [ -e "$D_TMP/storm" ] && [ $SECONDS -lt $end ]; do
		c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$(d_gw /ping)")
		echo "$c" >>"$D_TMP/curl-codes"
	done
) &
CURLS=$!
sys_cleanup_push sys_kill_pid "$CURLS"
# Connections to the swapping ports that send their request at once and are then queued:
# whether they are answered or refused (port closed) is not asserted, only that the
# daemon survives serving them from inside a reload.
"$SYS_PY" -c '
import socket, sys, time, os
ports = [int(sys.argv[1]), int(sys.argv[2])]; flag = sys.argv[3]; end = time.time() + 300
req = b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
while os.path.exists(flag) and time.time() < end:
    held = []
    for p in ports:
        for _ in range(16):
            s = socket.socket(); s.settimeout(2)
            try:
                s.connect(("127.0.0.1", p)); s.sendall(req); held.append(s)
            except OSError:
                s.close()
    for s in held:
        try:
            s.recv(4096)
        except OSError:
            pass
        s.close()
' "$P1" "$P2" "$D_TMP/storm" >/dev/null 2>&1 &
QUEUER=$!
sys_cleanup_push sys_kill_pid "$QUEUER"
sys_wait_port 127.0.0.1 "$P1" "" 5

reloads_ok() { d_metric 'ordergate_config_reloads_total{result="ok"}'; }
# applied reloads from the daemon's log: cheaper than /metrics while the machine is loaded
reloads_logged() { grep -c 'event=reload status=ok' "$D_TMP/a.err"; }
missed=0
t0=$SECONDS
for ((i = 1; i <= RELOADS; i++)); do
	write_conf "$i"
	kill -HUP "$GW" 2>/dev/null || break
	for ((t = 0; t < 200; t++)); do
		[ "$(reloads_logged)" = "$i" ] && break
		sleep 0.01
	done
	[ "$(reloads_logged)" = "$i" ] || missed=$((missed + 1))
done
rm -f "$D_TMP/storm"
diag "storm took $((SECONDS - t0)) s"
kill -0 "$GW" 2>/dev/null
ok $? "the gateway survived $RELOADS reloads"
is "$(reloads_ok)" "$RELOADS" "$RELOADS reloads applied ($missed waited > 2 s)"

# The load keeps running a moment on the last generation, then stops cleanly.
sleep 0.5
kill -INT "$WRK1" "$WRK2" 2>/dev/null
wait "$WRK1" "$WRK2" 2>/dev/null
wait "$CURLS" "$QUEUER" 2>/dev/null
sed 's/^/# /' "$D_TMP/wrk-ping.txt" "$D_TMP/wrk-proxy.txt"
for f in wrk-ping wrk-proxy; do
	n=$(awk '/requests in/ { print $1 }' "$D_TMP/$f.txt")
	[ "${n:-0}" -gt 100 ]
	ok $? "$f: requests were served during the storm (${n:-0})"
	! grep -qE 'Socket errors|Non-2xx' "$D_TMP/$f.txt"
	ok $? "$f: no socket error and no non-2xx answer"
done
ncurl=$(wc -l <"$D_TMP/curl-codes")
nbad=$(grep -vc '^200$' "$D_TMP/curl-codes")
[ "$ncurl" -gt 10 ] && [ "$nbad" -eq 0 ]
ok $? "new connections on the stable address: $ncurl requests, $nbad not 200"

# Every old generation is freed (5 s grace for admin readers), the last one is in use.
last=$((RELOADS + 1))
for ((t = 0; t < 300; t++)); do
	[ "$(d_metric ordergate_config_generations_live)" = 1 ] && break
	sleep 0.05
done
is "$(d_metric ordergate_config_generations_live)" 1 "every old config generation was freed"
is "$(d_metric ordergate_config_generation)" "$last" "generation $last is the running one"
for w in 0 1; do
	is "$(d_metric "ordergate_worker_config_generation{worker=\"$w\"}")" "$last" \
		"worker $w runs generation $last"
done
is "$(curl -s --max-time 5 "$(d_gw /ping)")" "pong$RELOADS" "the stable address serves the last config"
lp=$P1
[ $((RELOADS % 2)) -eq 1 ] && lp=$P2
op=$P1
[ "$lp" = "$P1" ] && op=$P2
is "$(curl -s --max-time 5 "http://127.0.0.1:$lp/ping")" "pong$RELOADS" \
	"the last config's added address serves"
! ss -Hltn "sport = :$op" | grep -q .
ok $? "the removed address is not listened on any more"
# Listeners and client connections of the storm are gone: 2 workers x 2 addresses + admin
# listen, and the descriptors are those at the start plus the pooled upstream connections.
nl=$(ss -Hltnp | grep -c "pid=$GW,")
is "$nl" 5 "listening sockets: one per worker per address, and the admin one"
for ((t = 0; t < 100; t++)); do
	fds1=$(ls /proc/"$GW"/fd | wc -l)
	nup=$(ss -Htnp state established "dport = :$D_O1_PORT" | grep -c "pid=$GW,")
	[ "$fds1" -le $((fds0 + nup)) ] && break
	sleep 0.05
done
[ "$fds1" -le $((fds0 + nup)) ]
ok $? "no descriptor leaked (start $fds0, now $fds1 with $nup pooled upstream connections)"

d_gw_stop a
is "$D_RC" 0 "the gateway drains and exits 0"
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error' "$D_TMP/a.err"; then
	ok 1 "no sanitizer report"
fi
tap_done
