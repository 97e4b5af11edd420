#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A failing origin does not become a failing gateway: failure classes, last server, pool limits, stale keep-alive.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_begin
D_HOLE_PORT=$(sys_free_port)
D_STALE_PORT=$(sys_free_port)

d_blackhole "$D_HOLE_PORT" || { ok 1 "blackhole listener starts"; tap_done; exit 1; }
d_origin_o1
d_origin_start o2 "$D_O2_PORT" || { ok 1 "nginx origin o2 starts"; tap_done; exit 1; }

# An origin whose keep-alive connections go stale: it answers the first request of a
# connection and keeps it open, then closes it without answering the second one (the race
# of an application server's idle timeout with a request written into the connection).
"$SYS_PY" -c '
import socket, sys, threading, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
log = open(sys.argv[2], "a", buffering=1)
def head(c):
    b = b""
    while b"\r\n\r\n" not in b:
        x = c.recv(65536)
        if not x:
            return None
        b += x
    h, rest = b.split(b"\r\n\r\n", 1)
    n = 0
    for l in h.split(b"\r\n"):
        if l.lower().startswith(b"content-length:"):
            n = int(l.split(b":")[1])
    while len(rest) < n:
        rest += c.recv(65536)
    return h.split(b"\r\n")[0].decode()
def serve(c):
    first = head(c)
    if first is None:
        return c.close()
    log.write("answered " + first + "\n")
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    second = head(c)
    if second is not None:
        log.write("dropped " + second + "\n")
    c.close()
end = time.time() + 120
s.settimeout(1)
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$D_STALE_PORT" "$D_TMP/stale.log" &
sys_cleanup_push sys_kill_pid $!
sys_wait_port 127.0.0.1 "$D_STALE_PORT" "" 5 || ok 1 "stale origin starts"

d_gw_conf 1 <<EOF
upstreams:
  app: { servers: ["127.0.0.1:$D_O1_PORT"], retries: 0 }
  dead: { servers: ["127.0.0.1:$D_DEAD_PORT"], retries: 0, breaker: { consecutive_failures: 3, open_ms: 30000 }, outlier: { consecutive_5xx: 2 } }
  pair:
    servers: ["127.0.0.1:$D_DEAD_PORT", "127.0.0.1:$D_O2_PORT"]
    retries: 0
    breaker: { consecutive_failures: 3, open_ms: 30000 }
  strict: { servers: ["127.0.0.1:$D_O1_PORT"], retries: 0, breaker: { consecutive_failures: 3, statuses: [500, 503] } }
  hang: { servers: ["127.0.0.1:$D_HOLE_PORT"], max_connections: 2, timeout_ms: 20000 }
  short: { servers: ["127.0.0.1:$D_O2_PORT"], keepalive_timeout_ms: 300, keepalive_requests: 3 }
  stale: { servers: ["127.0.0.1:$D_STALE_PORT"], retries: 0 }
routes:
  - { name: app, match: { header: { name: x-up, value: app } }, upstream: app }
  - { name: strict, match: { header: { name: x-up, value: strict } }, upstream: strict }
  - { name: dead, match: { path_prefix: /dead/ }, upstream: dead }
  - { name: pair, match: { path_prefix: /pair/ }, upstream: pair }
  - { name: hang, match: { path_prefix: /hang/ }, upstream: hang }
  - { name: short, match: { path_prefix: /short/ }, upstream: short }
  - { name: stale, match: { path_prefix: /stale/ }, upstream: stale }
EOF
d_gw_start gw "$D_TMP/gw.yaml"
ok $? "gateway starts"

# codes N PATH [CURL ARGS]: the status codes of N sequential requests, space separated,
# each followed by ":reason" when the gateway gave one
codes() {
	local n=$1 p=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do
		curl -s --max-time 10 -o /dev/null -D "$D_TMP/h" -w '%{http_code}' "$@" "$(d_gw "$p$i")"
		tr -d '\r' <"$D_TMP/h" | awk -F': ' 'tolower($1) == "x-ordergate-reason" { printf ":%s", $2 }'
		echo
	done | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }'
}

# --- application errors are not server failures ----------------------------------------------
# issue 11: 30 orders the application refuses with 500, then other clients' orders
got=$(codes 30 /fail500/ -H 'x-up: app' -X POST -d order=1)
is "$got" "500:30 " "30 orders refused by the application: 30 x 500, relayed"
got=$(codes 20 /api/echo/ -H 'x-up: app' -X POST -d order=2)
is "$got" "200:20 " "the next 20 orders all reach the application (no breaker-open)"
BRK_APP="ordergate_upstream_breaker_state{upstream=\"app\",server=\"127.0.0.1:$D_O1_PORT\"}"
is "$(d_metric "$BRK_APP")" 0 "metrics: the app upstream's breaker stayed closed"
# statuses is configurable: 500 counts for "strict" (3 in a row would open it, but it is the
# last server of its pool, so it stays closed and reports the streak instead)
got=$(codes 5 /fail500/ -H 'x-up: strict')
is "$got" "500:5 " "strict (statuses [500, 503]): 500s relayed"
is "$(d_metric "ordergate_upstream_breaker_opens_total{upstream=\"strict\",server=\"127.0.0.1:$D_O1_PORT\"}")" 0 \
	"... and its only server's breaker never opened"

# --- the last usable server of a pool is never opened or ejected ------------------------------
got=$(codes 8 /dead/x)
is "$got" "502:connect-refused:8 " "single dead server: 8 x 502 connect-refused, never 503 breaker-open"
is "$(d_metric "ordergate_upstream_breaker_state{upstream=\"dead\",server=\"127.0.0.1:$D_DEAD_PORT\"}")" 0 \
	"... its breaker stays closed (last usable server)"
is "$(d_metric "ordergate_upstream_ejections_total{upstream=\"dead\",server=\"127.0.0.1:$D_DEAD_PORT\"}")" 0 \
	"... and it is never ejected"
# a pool of two: the dead one is opened, the live one carries everything
got=$(codes 12 /pair/api/echo/)
n502=$(echo "$got" | grep -o '502:connect-refused:[0-9]*' | cut -d: -f3)
ok $([ "${n502:-0}" -eq 3 ]; echo $?) "pool of two, one dead: exactly 3 failures before its breaker opens ($got)"
is "$(d_metric "ordergate_upstream_breaker_state{upstream=\"pair\",server=\"127.0.0.1:$D_DEAD_PORT\"}")" 2 \
	"... the dead server's breaker is open"
is "$(codes 6 /pair/api/echo/)" "200:6 " "... and the live server answers everything after"

# --- a full pool answers 503 pool-exhausted at once -------------------------------------------
pids=()
for i in 1 2; do
	curl -s --max-time 15 -o /dev/null "$(d_gw /hang/$i)" &
	pids+=($!)
done
for _ in $(seq 50); do
	[ "$(d_metric "ordergate_upstream_connections{upstream=\"hang\",server=\"127.0.0.1:$D_HOLE_PORT\",state=\"active\"}")" = 2 ] && break
	sleep 0.1
done
out=$(curl -s --max-time 5 -o /dev/null -D "$D_TMP/h" -w '%{http_code} %{time_total}' "$(d_gw /hang/3)")
reason=$(tr -d '\r' <"$D_TMP/h" | awk -F': ' 'tolower($1) == "x-ordergate-reason" { print $2 }')
is "${out% *} $reason" "503 pool-exhausted" "max_connections 2 busy: the third request gets 503 pool-exhausted"
ok $(awk -v t="${out#* }" 'BEGIN { exit !(t < 1) }'; echo $?) "... at once (${out#* }s)"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done

# --- keepalive_timeout_ms and keepalive_requests per upstream ----------------------------------
est() { ss -Htn state established "dport = :$D_O2_PORT" | wc -l | tr -d ' '; }
curl -s --max-time 5 -o /dev/null "$(d_gw /short/api/echo/a)"
ok $([ "$(est)" -ge 1 ]; echo $?) "a pooled connection to the short-idle upstream is open after a request"
for _ in $(seq 30); do [ "$(est)" = 0 ] && break; sleep 0.1; done
is "$(est)" 0 "... and closed by the gateway within keepalive_timeout_ms 300 (+ tick)"
O2LOG=$(d_origin_log o2)
before=$(wc -l <"$O2LOG")
for i in $(seq 7); do curl -s --max-time 5 -o /dev/null "$(d_gw /short/api/echo/k$i)"; done
maxreq=$(tail -n +$((before + 1)) "$O2LOG" | awk '$4 ~ /^\/short\// { if ($2 > m) m = $2 } END { print m + 0 }')
is "$maxreq" 3 "keepalive_requests 3: no upstream connection carries more than 3 requests"

# --- a stale pooled connection: retried on a fresh one when that is safe ----------------------
get() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$@"; }
is "$(get "$(d_gw /stale/warm)")" 200 "stale origin answers the first request of a connection"
is "$(get -X POST -H 'Idempotency-Key: k-1' -d order=1 "$(d_gw /stale/order1)")" 200 \
	"POST with an Idempotency-Key on a connection the origin drops: retried on a fresh one, 200"
is "$(get "$(d_gw /stale/warm2)")" 200 "(warm the pool again)"
is "$(get -X POST -d order=2 "$(d_gw /stale/order2)")" 502 \
	"POST without a key on a dropped connection: 502, never replayed"
is "$(grep -c 'answered POST /stale/order1' "$D_TMP/stale.log")" 1 "... the keyed order was answered exactly once"

d_gw_stop gw
is "$D_RC" 0 "gateway exits 0 on SIGTERM"
tap_done
