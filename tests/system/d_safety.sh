#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ordergated never hands an upstream an incomplete or malformed request, and routes on the normalised path.
#
# The origin is nginx answering `return 200` on every path: it answers as soon as the head is
# in, before reading the body, as many application frameworks do, so whatever the gateway
# forwards of an incomplete request shows up as a 200 and a line in its access log.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_begin o1

d_gw_conf 2 "body_timeout_ms: 1000" <<EOF
upstreams:
  origin: { servers: ["127.0.0.1:$D_O1_PORT"], keepalive: 16 }
routes:
  - name: deny_admin
    match: { path_prefix: /api/v1/admin }
    respond: { status: 403, body: "denied" }
  - name: stream
    match: { path_prefix: /stream/ }
    upstream: origin
    request_buffer: 0
  - name: all
    match: { path_prefix: / }
    upstream: origin
EOF
d_gw_start gw "$D_TMP/gw.yaml"
ok $? "gateway starts with a catch-all route to an origin that answers before reading bodies"
OLOG=$(d_origin_log o1)
touch "$OLOG"
olines() { wc -l <"$OLOG" | tr -d ' '; }

# raw MODE DATA: send DATA (printf-style escapes) on one connection; MODE "eof" half-closes
# after it, "wait" keeps it open, "ka" stops at the end of the first response head. Prints
# the status code of the first response ("none" when the gateway sent none) and "closed"
# or "open".
raw() {
	"$SYS_PY" -c '
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
data = sys.argv[3].encode("latin-1").decode("unicode_escape").encode("latin-1")
s = socket.create_connection(("127.0.0.1", port), 5)
s.sendall(data)
if mode == "eof":
    s.shutdown(socket.SHUT_WR)
s.settimeout(10)
got, closed, end = b"", "open", time.time() + 10
while time.time() < end:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    except ConnectionResetError:
        closed = "closed"
        break
    if not b:
        closed = "closed"
        break
    got += b
    if mode == "ka" and b"\r\n\r\n" in got:
        break
line = got.split(b"\r\n", 1)[0].decode("latin-1")
print((line.split(" ")[1] if line.startswith("HTTP/1.1 ") else "none") + " " + closed)
' "$D_GW_PORT" "$1" "$2"
}

# --- 1. incomplete bodies never reach the origin ------------------------------------------
H='Host: t\r\n'
n0=$(olines)
read -r code cl <<<"$(raw eof "POST /orders HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\nshort")"
is "$code $cl" "400 closed" "body shorter than Content-Length, then EOF: 400 and close"
read -r code cl <<<"$(raw wait "POST /orders HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\nshort")"
is "$code $cl" "408 closed" "body shorter than Content-Length, then silence: 408 after body_timeout_ms, close"
read -r code cl <<<"$(raw eof "POST /orders HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")"
is "$code $cl" "400 closed" "chunked body without its last chunk, then EOF: 400 and close"
read -r code cl <<<"$(raw wait "POST /orders HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")"
is "$code $cl" "408 closed" "chunked body without its last chunk, then silence: 408 and close"
read -r code cl <<<"$(raw eof "POST /orders HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n")"
is "$code $cl" "400 closed" "chunked body with bad framing: 400 and close"
is "$(olines)" "$n0" "the origin saw none of these requests (access log unchanged)"

# complete ones are forwarded whole, once
read -r code cl <<<"$(raw ka "POST /orders/ok HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello")"
is "$code" 200 "a complete small body is forwarded"
read -r code cl <<<"$(raw ka "POST /orders/okc HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")"
is "$code" 200 "a complete chunked body is forwarded"
for _ in $(seq 50); do [ "$(olines)" -ge $((n0 + 2)) ] && break; sleep 0.1; done
is "$(awk '$4 == "/orders/ok" || $4 == "/orders/okc"' "$OLOG" | wc -l | tr -d ' ')" 2 \
	"... and the origin saw each exactly once"
# the bytes arrive intact: nginx keeps the body it read in a file (body_file in its log)
for mode in length chunked; do
	hdr=()
	[ $mode = chunked ] && hdr=(-H 'Transfer-Encoding: chunked')
	curl -s --max-time 5 -o /dev/null "${hdr[@]}" --data-binary "order-$mode-$$" "$(d_gw /api/upload/$mode)"
	for _ in $(seq 30); do grep -q " /api/upload/$mode " "$OLOG" && break; sleep 0.1; done
	f=$(awk -v u=/api/upload/$mode '$4 == u' "$OLOG" | tail -1 | awk -F'"' '{ print $6 }')
	is "$(cat "$f" 2>/dev/null)" "order-$mode-$$" "a buffered $mode body reaches the origin byte for byte"
done
code=$(head -c 200000 /dev/zero | tr '\0' x |
	curl -s --max-time 10 -o /dev/null -w '%{http_code}' --data-binary @- "$(d_gw /big)")
is "$code" 200 "a body larger than request_buffer still streams (200 KB)"

# request_buffer: 0 streams as before: the incomplete body reaches the origin (control)
n1=$(olines)
read -r code cl <<<"$(raw eof "POST /stream/x HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\nshort")"
for _ in $(seq 30); do [ "$(olines)" -gt "$n1" ] && break; sleep 0.1; done
ok $([ "$(olines)" -gt "$n1" ]; echo $?) \
	"request_buffer: 0 streams: the origin saw that incomplete request (control case)"

# --- 2. non-ASCII bytes in the request target: 400 ----------------------------------------
n2=$(olines)
read -r code cl <<<"$(raw eof "GET /caf\xc3\xa9 HTTP/1.1\r\n${H}\r\n")"
is "$code" 400 "raw UTF-8 in the target: 400"
read -r code cl <<<"$(raw eof "GET /a\xc0\xaf HTTP/1.1\r\n${H}\r\n")"
is "$code" 400 "overlong UTF-8 in the target: 400"

# --- 3. route policy on the normalised path -----------------------------------------------
for p in /api/v1/admin /api/v1/%61dmin //api/v1/admin /api/v1/./admin /api/v1/x/../admin \
	/api/v1/%2e/admin /api//v1/admin/ /api/v1/%61%64%6d%69%6e/users; do
	code=$(curl -s --path-as-is --max-time 5 -o /dev/null -w '%{http_code}' "$(d_gw "$p")")
	is "$code" 403 "$p is denied like /api/v1/admin"
done
for p in /api/v1/a%2Fdmin /api/v1/%00admin /api/v1/a%5cdmin; do
	code=$(curl -s --path-as-is --max-time 5 -o /dev/null -w '%{http_code}' "$(d_gw "$p")")
	is "$code" 400 "$p cannot be normalised safely: 400"
done
is "$(olines)" "$n2" "the origin saw none of the refused or denied requests"
code=$(curl -s --path-as-is --max-time 5 -o /dev/null -w '%{http_code}' \
	"$(d_gw '//api/v2/./x/../%7Eorders?q=%2F..')")
is "$code" 200 "an allowed path with odd spelling is proxied"
for _ in $(seq 30); do [ "$(olines)" -gt "$n2" ] && break; sleep 0.1; done
is "$(tail -1 "$OLOG" | awk '{ print $4 }')" "/api/v2/~orders?q=%2F.." \
	"... and the origin got the normalised target (query untouched)"

tap_done
