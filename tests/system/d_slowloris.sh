#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Slowloris + slow-read floods (slowhttptest) while an order stream runs, daemon started with 1024 fds.
#
# The gateway starts under `ulimit -n 1024` (soft and hard: the worst a shell gives), with an
# order listener in order_reserve. 3000 slowloris and 300 slow-read connections hit the public
# listener for 25 s while a client places orders, each on a new connection, on the order
# listener. Orders must all succeed with a p99 near the unloaded one; the attackers must be
# closed by the header and write timeouts, shed, or refused at the limit (counted by reason).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_begin
if ! command -v slowhttptest >/dev/null; then
	ok 1 "slowhttptest installed (deploy/deps.sh)"
	tap_done
	exit 1
fi
D_ORDER_PORT=$(sys_free_port)
d_origin_o1
cat >"$D_TMP/gw.yaml" <<EOF
workers: 2
listen: ["127.0.0.1:$D_GW_PORT", "127.0.0.1:$D_ORDER_PORT"]
admin: { listen: "127.0.0.1:$D_ADMIN_PORT" }
header_timeout_ms: 5000
write_timeout_ms: 3000
order_reserve: { percent: 20, ports: [$D_ORDER_PORT] }
upstreams:
  origin: { servers: ["127.0.0.1:$D_O1_PORT"] }
routes:
  - { name: all, match: { path_prefix: / }, upstream: origin }
EOF
# the worst shell: soft and hard limit 1024 (the daemon cannot raise it further)
(
	ulimit -n 1024
	exec "$OG_DAEMON" -c "$D_TMP/gw.yaml"
) >"$D_TMP/gw.out" 2>"$D_TMP/gw.err" &
D_GW_PID[gw]=$!
sys_cleanup_push d_gw_reap gw
for _ in $(seq 100); do
	curl -s -o /dev/null --max-time 1 "$(d_admin /healthz)" && break
	sleep 0.05
done
ok $(curl -s -o /dev/null --max-time 1 "$(d_admin /healthz)"; echo $?) "gateway starts under ulimit -n 1024"

# orders SECONDS RATE OUT: place orders on new connections to the order listener at RATE/s;
# OUT gets "n errors p50_ms p99_ms max_ms"
orders() {
	"$SYS_PY" -c '
import socket, sys, time
port, secs, rate = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
body = b"{\"sym\":\"X\",\"qty\":1,\"px\":9}"
req = (b"POST /api/echo/order HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
       b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)) + body
lat, err, start = [], 0, time.time()
i = 0
while time.time() - start < secs:
    due = start + i / rate
    now = time.time()
    if due > now:
        time.sleep(due - now)
    i += 1
    t0 = time.time()
    try:
        s = socket.create_connection(("127.0.0.1", port), 15)
        s.settimeout(15)
        s.sendall(req)
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        s.close()
        if not got.startswith(b"HTTP/1.1 200"):
            err += 1
    except OSError:
        err += 1
    lat.append((time.time() - t0) * 1000)
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(len(lat), err, "%.1f %.1f %.1f" % (q(0.5), q(0.99), lat[-1]))
' "$D_ORDER_PORT" "$1" "$2" >"$3"
}

orders 5 50 "$D_TMP/base"
read -r n0 e0 p50_0 p99_0 max0 <"$D_TMP/base"
is "$e0" 0 "unloaded: $n0 orders, no error (p50 ${p50_0} ms, p99 ${p99_0} ms)"

# the attack: bounded in connections and time
timeout 60 slowhttptest -H -c 3000 -r 1000 -i 2 -x 10 -l 25 -p 3 \
	-u "http://127.0.0.1:$D_GW_PORT/api/echo/x" >"$D_TMP/loris.log" 2>&1 &
loris=$!
timeout 60 slowhttptest -X -c 300 -r 150 -w 1 -y 2 -n 5 -z 16 -k 10 -l 25 -p 3 \
	-u "http://127.0.0.1:$D_GW_PORT/files/1m" >"$D_TMP/slowread.log" 2>&1 &
sread=$!
sleep 4 # let the floods build up
orders 18 50 "$D_TMP/attack"
wait "$loris" "$sread" 2>/dev/null
read -r n1 e1 p50_1 p99_1 max1 <"$D_TMP/attack"
is "$e1" 0 "under slowloris + slow read: $n1 orders, no error"
bound=$(awk -v b="$p99_0" 'BEGIN { x = b * 3; if (x < 50) x = 50; print x }')
ok $(awk -v a="$p99_1" -v b="$bound" 'BEGIN { exit !(a <= b) }'; echo $?) \
	"... order p99 ${p99_1} ms stays near unloaded ${p99_0} ms (<= $bound ms; p50 ${p50_1}, max ${max1})"
m() { d_metric "ordergate_client_connections_closed_total{reason=\"$1\"}"; }
ht=$(m header_timeout) wt=$(m write_timeout) sh=$(m shed) lim=$(m limit)
diag "closed by the gateway: header_timeout=$ht write_timeout=$wt shed=$sh limit=$lim"
ok $([ "${ht:-0}" -gt 0 ]; echo $?) "slowloris connections were closed by the header timeout ($ht)"
ok $([ "${wt:-0}" -gt 0 ]; echo $?) "slow readers were closed by the write timeout ($wt)"
ok $([ $((${sh:-0} + ${lim:-0})) -gt 0 ]; echo $?) \
	"the flood hit the connection limit: shed $sh incomplete heads, refused $lim"
grep -q "event=fdlimit" "$D_TMP/gw.err"
ok $? "the daemon logged its descriptor budget ($(grep -m1 -o 'conn_cap=[0-9]*' "$D_TMP/gw.err"))"
kill -0 "${D_GW_PID[gw]}" 2>/dev/null
ok $? "gateway still running"
cp "$D_TMP"/*.log /tmp/ 2>/dev/null; tap_done
