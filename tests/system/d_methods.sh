#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ordergated proxying every method, bodies 0 B..10 MiB both ways, chunked both ways, 413, 100-continue.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_begin o1

d_gw_conf_origin 2 16 <<EOF
  - name: small
    match: { path_prefix: /small/ }
    upstream: origin
    max_body: 1024
  - name: proxy
    match: { path_prefix: / }
    upstream: origin
    max_body: 64m
EOF
d_gw_start gw "$D_TMP/gw.yaml"
ok $? "gateway starts with a two-worker config"
OLOG=$(d_origin_log o1)

# origin_line URI: the origin's log line for exactly URI (the last one).
origin_line() { awk -v u="$1" '$4 == u' "$OLOG" | tail -1; }
# field N of a log line, quotes stripped
fld() { echo "$1" | awk -v n="$2" '{ gsub(/"/, "", $n); print $n }'; }

# --- every method -----------------------------------------------------------
for m in GET POST PUT DELETE PATCH OPTIONS; do
	body=()
	case $m in POST | PUT | PATCH) body=(--data-binary hello) ;; esac
	out=$(curl -s --max-time 10 -X "$m" "${body[@]}" -w '|%{http_code}' "$(d_gw "/api/echo?m=$m")" |
		tr -d '\n')
	want_len=""
	[ ${#body[@]} -gt 0 ] && want_len=5
	is "$out" "origin=o1 method=$m uri=/api/echo?m=$m len=$want_len|200" \
		"$m proxied: client got the origin's answer"
	line=$(origin_line "/api/echo?m=$m")
	is "$(fld "$line" 3)" "$m" "$m: origin saw method $m"
done
line=$(origin_line "/api/echo?m=GET")
is "$(fld "$line" 12)" "127.0.0.1" "origin saw X-Forwarded-For: 127.0.0.1"
rid=$(fld "$line" 11)
ok $([ -n "$rid" ] && [ "$rid" != "-" ]; echo $?) "origin saw a generated X-Request-Id ($rid)"
curl -s --max-time 10 -o /dev/null -H 'X-Request-Id: client-id-42' "$(d_gw /api/echo?m=rid)"
is "$(fld "$(origin_line /api/echo?m=rid)" 11)" "client-id-42" "a client X-Request-Id is passed on"

# --- HEAD: headers only, and nothing stray on the keep-alive connection ------
hdr=$(curl -s --max-time 10 -I "$(d_gw /files/64k)" | tr -d '\r')
echo "$hdr" | grep -qi '^content-length: 65536$'
ok $? "HEAD /files/64k: Content-Length 65536"
is "$(fld "$(origin_line /files/64k)" 3)" "HEAD" "origin saw HEAD"
# HEAD then GET pipelined on one connection: the GET's status line must follow the HEAD's
# header block at once (a body after HEAD would shift it)
raw=$("$SYS_PY" - "$D_GW_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"HEAD /files/64k HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /api/echo?m=afterhead HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    try:
        c = s.recv(65536)
    except socket.timeout:
        break
    if not c:
        break
    data += c
i = data.find(b"\r\n\r\n")
print(data[i + 4:i + 4 + 15].decode("latin-1"))
PY
)
is "$raw" "HTTP/1.1 200 OK" "HEAD response has no body: the next response follows immediately"

# --- response bodies 0 B .. 10 MiB ------------------------------------------
for f in 0 1 64k 1m 10m; do
	code=$(curl -s --max-time 30 -o "$D_TMP/dl.$f" -w '%{http_code}' "$(d_gw /files/$f)")
	is "$code" 200 "GET /files/$f: 200"
	is "$(d_sha "$D_TMP/dl.$f")" "$(d_sha "$D_TMP/www/files/$f")" "GET /files/$f: sha256 matches"
	line=$(origin_line "/files/$f")
	sent=$(fld "$line" 7)
	ok $([ "${sent:-0}" -ge "$(stat -c %s "$D_TMP/www/files/$f")" ]; echo $?) \
		"origin sent all of /files/$f ($sent bytes incl. head)"
done

# --- request bodies 0 B .. 10 MiB (POST, and PUT for 1m): what the origin stored -----
upload() { # upload METHOD FILE ID [CURL ARGS]: status + checks on what the origin saw
	local m=$1 f=$2 id=$3; shift 3
	local out code line bf size
	size=$(stat -c %s "$f")
	out=$(curl -s --max-time 60 -X "$m" --data-binary @"$f" "$@" -w '|%{http_code}' \
		"$(d_gw "/api/upload?id=$id")" | tr -d '\n')
	is "$out" "stored|200" "$m $id ($size B): 200 from the origin"
	line=$(origin_line "/api/upload?id=$id")
	ok $([ -n "$line" ]; echo $?) "$m $id: origin saw the request"
	if [ "$size" -eq 0 ]; then
		cl=$(fld "$line" 8)
		ok $([ "$cl" = 0 ] || [ "$cl" = - ]; echo $?) "$m $id: origin saw an empty body ($cl)"
	else
		bf=$D_TMP/o1/bodies/$(basename "$(fld "$line" 10)")
		is "$(d_sha "$bf" 2>/dev/null)" "$(d_sha "$f")" "$m $id: origin received the whole body"
	fi
}
for f in 0 1 64k 1m 10m; do
	upload POST "$D_TMP/www/files/$f" "post-$f"
done
upload PUT "$D_TMP/www/files/1m" put-1m

# --- chunked both ways ------------------------------------------------------------
upload POST "$D_TMP/www/files/1m" chunked-1m -H 'Transfer-Encoding: chunked'
upload POST "$D_TMP/www/files/1" chunked-1 -H 'Transfer-Encoding: chunked'
is "$(fld "$(origin_line /api/upload?id=chunked-1m)" 9)" chunked \
	"the chunked request body was streamed to the origin chunked (not buffered to a length)"
for f in 1 1m 10m; do
	code=$(curl -s --max-time 30 -D "$D_TMP/ch.h" -o "$D_TMP/ch.$f" -w '%{http_code}' \
		"$(d_gw /chunk/$f)")
	is "$code" 200 "chunked response /chunk/$f: 200"
	grep -qi '^transfer-encoding: chunked' "$D_TMP/ch.h"
	ok $? "/chunk/$f reached the client chunked"
	is "$(d_sha "$D_TMP/ch.$f")" "$(d_sha "$D_TMP/www/files/$f")" "/chunk/$f: body matches"
done
for f in 64k 10m; do
	code=$(curl -s --max-time 30 --compressed -D "$D_TMP/gz.h" -o "$D_TMP/gz.$f" \
		-w '%{http_code}' "$(d_gw /gz/$f)")
	is "$code" 200 "chunked gzip response /gz/$f: 200"
	grep -qi '^transfer-encoding: chunked' "$D_TMP/gz.h"
	ok $? "/gz/$f reached the client chunked"
	is "$(d_sha "$D_TMP/gz.$f")" "$(d_sha "$D_TMP/www/files/$f")" "/gz/$f: decoded body matches"
done

# --- max_body: 413 before anything reaches the origin -------------------------------
head -c 2048 /dev/urandom >"$D_TMP/2k"
hdr=$(curl -s --max-time 10 -D - -o /dev/null --data-binary @"$D_TMP/2k" "$(d_gw /small/x)" |
	tr -d '\r')
echo "$hdr" | head -1 | grep -q ' 413'
ok $? "2 KiB body on a max_body 1024 route: 413"
echo "$hdr" | grep -qi '^x-ordergate-reason: '
ok $? "413 carries x-ordergate-reason ($(echo "$hdr" | grep -i '^x-ordergate-reason' | tr -d '\n'))"
is "$(origin_line /small/x)" "" "the refused request never reached the origin"
is "$(d_code "$(d_gw /small/y)" --data-binary @"$D_TMP/2k" -H 'Transfer-Encoding: chunked')" 413 \
	"chunked 2 KiB body on a max_body 1024 route: 413"
is "$(d_code "$(d_gw /small/z)" --data-binary 12345)" 200 "small body on the same route: 200"

# --- Expect: 100-continue ------------------------------------------------------------
out=$(curl -sv --max-time 10 -H 'Expect: 100-continue' --data-binary @"$D_TMP/www/files/64k" \
	-w 'code=%{http_code} t=%{time_total}\n' "$(d_gw /api/upload?id=expect)" 2>&1)
echo "$out" | grep -q '^< HTTP/1.1 100 Continue'
ok $? "Expect: 100-continue gets an interim 100 Continue"
echo "$out" | grep -q '^code=200 '
ok $? "Expect: 100-continue: final 200"
t=$(echo "$out" | sed -n 's/^code=.* t=//p')
ok $(awk -v t="$t" 'BEGIN { exit !(t < 0.9) }'; echo $?) \
	"the body went without waiting out curl's 1 s expect timeout (${t}s)"
bf=$D_TMP/o1/bodies/$(basename "$(fld "$(origin_line /api/upload?id=expect)" 10)")
is "$(d_sha "$bf" 2>/dev/null)" "$(d_sha "$D_TMP/www/files/64k")" "Expect: origin got the whole body"
out=$(curl -sv --max-time 10 -H 'Expect: 100-continue' --data-binary @"$D_TMP/2k" \
	-w 'code=%{http_code}\n' "$(d_gw /small/expect)" 2>&1)
echo "$out" | grep -q '^code=413'
ok $? "Expect: 100-continue with a too-large body: 413"
echo "$out" | grep -q '^< HTTP/1.1 100 Continue'
ok $((!$?)) "... and no 100 Continue before it"

d_gw_stop gw
is "$D_RC" 0 "gateway exits 0 on SIGTERM"
tap_done
