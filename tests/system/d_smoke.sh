#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Quick end-to-end smoke of ordergated: -t, direct /ping, proxy to a Debian nginx origin,
# POST body round trip, 404, keep-alive reuse, SIGHUP reload, SIGTERM exits 0.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh

D=${OG_DAEMON:-$SYS_BUILD/ordergated}
if [ ! -x "$D" ]; then
	ok 1 "daemon binary $D exists (run make)"
	tap_done
	exit 1
fi

sys_tmpdir
T=$SYS_TMPDIR
GW=$(sys_free_port)
ADM=$(sys_free_port)
OR=$(sys_free_port)
mkdir -p "$T/www/api" "$T/o/tmp"
head -c 300000 /dev/urandom >"$T/www/api/blob"

# Origin: /api/x answers with what it saw; /api/echo returns the request body (read into
# memory by the proxy module, handed back through a header to a second location).
cat >"$T/o/nginx.conf" <<EOF
daemon off; master_process on; worker_processes 1; pid $T/o/nginx.pid;
error_log $T/o/error.log warn;
events { worker_connections 256; }
http {
	log_format og '\$connection \$connection_requests \$request_method \$request_uri';
	access_log $T/o/access.log og;
	client_body_temp_path $T/o/tmp; proxy_temp_path $T/o/tmp;
	fastcgi_temp_path $T/o/tmp; uwsgi_temp_path $T/o/tmp; scgi_temp_path $T/o/tmp;
	keepalive_requests 10000;
	server {
		listen 127.0.0.1:$OR;
		root $T/www;
		location = /api/x {
			return 200 "origin:\$request_uri xff=\$http_x_forwarded_for rid=\$http_x_request_id conn=\$http_connection\n";
		}
		location = /api/echo {
			client_body_buffer_size 64k;
			proxy_set_header X-Body \$request_body;
			proxy_pass http://127.0.0.1:$OR/_body;
		}
		location = /_body { access_log off; return 200 "body=\$http_x_body\n"; }
		location /api/ { }
	}
}
EOF
nginx -p "$T/o" -c "$T/o/nginx.conf" -e "$T/o/error.log" >"$T/o/stdout.log" 2>&1 &
NGX=$!
sys_cleanup_push sys_kill_pid "$NGX"
sys_wait_port 127.0.0.1 "$OR" "" 5
ok $? "nginx origin listens on $OR"

cat >"$T/gw.yaml" <<EOF
workers: 2
listen: ["127.0.0.1:$GW"]
admin: { listen: "127.0.0.1:$ADM" }
trusted_proxies: ["127.0.0.1/32"]
upstreams:
  origin: { servers: ["127.0.0.1:$OR"], keepalive: 8 }
routes:
  - match: { path: /ping }
    respond: { status: 200, body: "pong" }
  - match: { path_prefix: /api/ }
    upstream: origin
EOF
out=$("$D" -t -c "$T/gw.yaml" 2>&1)
is "$?:$out" "0:$T/gw.yaml: ok" "-t accepts a good config"
printf 'workers: 1\nlisten: ["127.0.0.1:%s"]\nbogus: 1\n' "$GW" >"$T/bad.yaml"
out=$("$D" -t -c "$T/bad.yaml" 2>&1)
rc=$?
is "$rc" 1 "-t refuses a bad config with exit 1"
echo "$out" | grep -qE "^$T/bad.yaml:3:[0-9]+: "
ok $? "the error names file:line:column ($out)"

"$D" -c "$T/gw.yaml" 2>"$T/gw.err" &
GPID=$!
sys_cleanup_push sys_kill_pid "$GPID"
sys_wait_port 127.0.0.1 "$GW" "" 5
ok $? "gateway listens on $GW"

C=(curl -s --max-time 10)
is "$("${C[@]}" -w ' %{http_code}' "http://127.0.0.1:$GW/ping")" "pong 200" "/ping answered directly"
h=$("${C[@]}" -I "http://127.0.0.1:$GW/ping" | tr -d '\r')
echo "$h" | grep -q '^Content-Length: 4$'
ok $? "HEAD /ping carries Content-Length: 4 and no body"
r=$("${C[@]}" -D "$T/h404" "http://127.0.0.1:$GW/nope" -o /dev/null -w '%{http_code}')
is "$r" 404 "no route -> 404"
grep -qi '^x-ordergate-reason: no-route' "$T/h404"
ok $? "404 says x-ordergate-reason: no-route"

body=$("${C[@]}" -H 'X-Forwarded-For: 10.9.9.9' "http://127.0.0.1:$GW/api/x?q=1")
echo "$body" | grep -q '^origin:/api/x?q=1 xff=10.9.9.9, 127.0.0.1 rid=[0-9a-f]\{24\} conn= *$'
ok $? "/api/x proxied: uri kept, XFF appended (client trusted), request id added, Connection stripped ($body)"
body=$("${C[@]}" -H 'X-Request-Id: abc-123' "http://127.0.0.1:$GW/api/x")
echo "$body" | grep -q 'rid=abc-123 '
ok $? "an incoming X-Request-Id is passed on"

is "$("${C[@]}" -X POST --data-binary "hello-ordergate-$$" "http://127.0.0.1:$GW/api/echo")" \
	"body=hello-ordergate-$$" "POST body round trip through the origin"
is "$("${C[@]}" -X POST -H 'Transfer-Encoding: chunked' --data-binary "chunked-$$" \
	"http://127.0.0.1:$GW/api/echo")" "body=chunked-$$" "chunked POST body round trip"
"${C[@]}" -o "$T/blob.out" "http://127.0.0.1:$GW/api/blob"
cmp -s "$T/blob.out" "$T/www/api/blob"
ok $? "300 kB static file proxied byte for byte"

# keep-alive on both sides: five requests on one client connection reuse one origin
# connection (origin log field 1 = connection id)
: >"$T/o/access.log.mark"
n0=$(wc -l <"$T/o/access.log")
"${C[@]}" -o /dev/null "http://127.0.0.1:$GW/api/x?k=1" -o /dev/null "http://127.0.0.1:$GW/api/x?k=2" \
	-o /dev/null "http://127.0.0.1:$GW/api/x?k=3" -o /dev/null "http://127.0.0.1:$GW/api/x?k=4"
conns=$(tail -n +$((n0 + 1)) "$T/o/access.log" | grep 'k=' | awk '{print $1}' | sort -u | wc -l)
is "$conns" 1 "four proxied requests on one client connection used one origin connection"

# pipelining: two requests in one write, answers in order
resp=$(printf 'GET /ping HTTP/1.1\r\nHost: a\r\n\r\nGET /api/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
	timeout 5 nc -q 3 127.0.0.1 "$GW" | grep -aoE 'HTTP/1.1 200 OK|pong|origin:/api/x' | tr '\n' '|')
is "$resp" "HTTP/1.1 200 OK|pong|HTTP/1.1 200 OK|origin:/api/x|" "pipelined requests answered in order"

# a malformed request gets 400 and Connection: close, not a silent close
resp=$(printf 'GET /ping HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n' |
	timeout 5 nc -q 3 127.0.0.1 "$GW" | tr -d '\r')
echo "$resp" | head -1 | grep -q '^HTTP/1.1 400 '
ok $? "CL+TE smuggling attempt -> 400"
echo "$resp" | grep -qi '^Connection: close$'
ok $? "the 400 says Connection: close"

# reload: a bad config is refused and the old one keeps serving; a good one applies
cp "$T/gw.yaml" "$T/gw.good"
printf 'workers: 2\nlisten: [\n' >"$T/gw.yaml"
kill -HUP "$GPID"
sleep 0.5
grep -q 'event=reload status=refused' "$T/gw.err"
ok $? "SIGHUP with a bad config is refused and logged"
is "$("${C[@]}" "http://127.0.0.1:$GW/ping")" pong "the running config keeps serving"
sed 's/body: "pong"/body: "pong2"/' "$T/gw.good" >"$T/gw.yaml"
kill -HUP "$GPID"
for _ in $(seq 1 40); do
	[ "$("${C[@]}" "http://127.0.0.1:$GW/ping")" = pong2 ] && break
	sleep 0.05
done
is "$("${C[@]}" "http://127.0.0.1:$GW/ping")" pong2 "SIGHUP with a good config applies it"

kill -TERM "$GPID"
for _ in $(seq 1 100); do kill -0 "$GPID" 2>/dev/null || break; sleep 0.05; done
wait "$GPID"
is "$?" 0 "SIGTERM: drained and exited 0"
grep -q 'event=start' "$T/gw.err" && grep -q 'event=drain' "$T/gw.err"
ok $? "start and drain are logged"
tap_done
