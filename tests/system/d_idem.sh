#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Idempotency-Key: a repeated key reaches the upstream once and gets the same answer; a
# duplicate in flight gets 409; another key, client or an expired window goes through; a
# failure before anything was sent does not poison the key. A key reused with another body of
# the same length (plain or chunked, however it arrives) gets 422 and never reaches the origin.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_require
d_ports
D_O3_PORT=$(sys_free_port)

# rec_start NAME PORT: a recording origin (tests/system/record_origin.py), log $D_TMP/NAME.log
declare -A REC_PID
rec_start() {
	: >"$D_TMP/$1.log"
	"$SYS_PY" tests/system/record_origin.py "$2" "$D_TMP/$1.log" 300 2>"$D_TMP/$1.err" &
	REC_PID[$1]=$!
	sys_cleanup_push sys_kill_pid "${REC_PID[$1]}"
	sys_wait_port 127.0.0.1 "$2" "" 5
}
# seen NAME KEY: how many requests with Idempotency-Key KEY origin NAME received
seen() { awk -v k="$2" '$3 == k' "$D_TMP/$1.log" | wc -l | tr -d ' '; }

rec_start rec "$D_O1_PORT" || { ok 1 "recording origin starts"; tap_done; exit 1; }

d_gw_conf 2 "body_timeout_ms: 2000" <<EOF
upstreams:
  orders: { servers: ["127.0.0.1:$D_O1_PORT"], retries: 0 }
  later: { servers: ["127.0.0.1:$D_O3_PORT"] }
routes:
  - name: orders
    match: { method: [POST, PATCH], path_prefix: /api/v1/orders }
    upstream: orders
    idempotency: { window_ms: 60000, max_entries: 1000, max_key: 64, max_response: 4k }
  - name: short
    match: { method: POST, path_prefix: /api/v1/short }
    upstream: orders
    idempotency: { window_ms: 3000 }
  - name: stream
    match: { method: POST, path_prefix: /api/v1/stream }
    upstream: orders
    request_buffer: 0
    idempotency: { window_ms: 60000 }
  - name: later
    match: { method: POST, path_prefix: /api/v1/later }
    upstream: later
    idempotency: { window_ms: 60000 }
EOF
d_gw_start gw "$D_TMP/gw.yaml"
ok $? "gateway starts"

# post PATH KEY BODY [CURL ARGS]: POST through the gateway; prints "CODE REASON REPLAYED",
# the body goes to $D_TMP/$OUT (default b), the head to $D_TMP/$OUT.h
post() {
	local p=$1 k=$2 b=$3 o=$D_TMP/${OUT:-b} code reason replayed
	shift 3
	code=$(curl -s --max-time 20 -o "$o" -D "$o.h" -w '%{http_code}' \
		${k:+-H "Idempotency-Key: $k"} --data-binary "$b" "$@" "$(d_gw "$p")")
	reason=$(tr -d '\r' <"$o.h" | awk -F': ' 'tolower($1) == "x-ordergate-reason" { print $2 }')
	replayed=$(tr -d '\r' <"$o.h" | awk -F': ' 'tolower($1) == "idempotent-replayed" { print $2 }')
	echo "$code ${reason:--} ${replayed:-no}"
}

# --- a repeated key: once to the origin, the same answer twice --------------------------------
is "$(post /api/v1/orders k-A qty=1)" "201 - no" "first POST with key k-A: 201 from the origin"
first=$(cat "$D_TMP/b")
is "$(post /api/v1/orders k-A qty=1)" "201 - true" "the same key again: 201, Idempotent-Replayed"
is "$(cat "$D_TMP/b")" "$first" "... with the first answer's body (same order id)"
is "$(seen rec k-A)" 1 "the origin saw k-A once"
is "$(post /api/v1/orders k-A qty=1 -X PATCH)" "422 idempotency-key-reused no" \
	"k-A with another method: 422 idempotency-key-reused"
is "$(post /api/v1/orders k-A qty=12)" "422 idempotency-key-reused no" \
	"k-A with another body length: 422"

# raw PATH KEY MODE PIECE...: a POST written by hand, for what curl cannot do. MODE: length
# (Content-Length, the pieces 0.3 s apart), chunked (one chunk per piece, 0.3 s apart),
# expect (Expect: 100-continue, the body only after an interim 100, printed as a 4th field),
# stall (Content-Length PIECE, then no body at all), quit (Content-Length 7, PIECE, then the
# client closes: prints nothing). Prints "CODE REASON REPLAYED[ GOT100]",
# the body goes to $D_TMP/b.
raw() {
	"$SYS_PY" - "$D_GW_PORT" "$D_TMP/b" "$@" <<'PY'
import socket, sys, time
port, out, path, key, mode = sys.argv[1:6]
pieces = [p.encode() for p in sys.argv[6:]]
s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
head = "POST %s HTTP/1.1\r\nHost: x\r\nIdempotency-Key: %s\r\nConnection: close\r\n" % (path, key)
if mode == "chunked":
    head += "Transfer-Encoding: chunked\r\n"
elif mode == "stall":
    head += "Content-Length: %d\r\n" % int(pieces[0])
    pieces = []
elif mode == "quit":
    s.sendall(("%sContent-Length: 7\r\n\r\n" % head).encode() + pieces[0])
    time.sleep(0.3)  # let the gateway read the head and the piece before the close
    sys.exit(0)
else:
    head += "Content-Length: %d\r\n" % sum(map(len, pieces))
if mode == "expect":
    head += "Expect: 100-continue\r\n"
s.sendall((head + "\r\n").encode())
data, got100 = b"", "no100"
if mode == "expect":
    data = s.recv(65536)
    if data.startswith(b"HTTP/1.1 100 "):
        got100 = "got100"
        data = data[data.find(b"\r\n\r\n") + 4:]
try:
    for i, p in enumerate(pieces):
        if i:
            time.sleep(0.3)
        s.sendall(b"%x\r\n%s\r\n" % (len(p), p) if mode == "chunked" else p)
    if mode == "chunked":
        s.sendall(b"0\r\n\r\n")
except OSError:
    pass  # answered (and closed) before the body: the answer is read below
while True:
    try:
        c = s.recv(65536)
    except (socket.timeout, ConnectionResetError):
        break
    if not c:
        break
    data += c
h, _, body = data.partition(b"\r\n\r\n")
lines = h.decode("latin-1").split("\r\n")
f = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
open(out, "wb").write(body)
code = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "000"
print(code, f.get("x-ordergate-reason", "-"), f.get("idempotent-replayed", "no"),
      *([got100] if mode == "expect" else []))
PY
}

# --- the same key with another body of the same length: 422, never the first's answer ------
is "$(post /api/v1/orders k-J qty=100)" "201 - no" "first k-J (qty=100): 201 from the origin"
firstj=$(cat "$D_TMP/b")
is "$(post /api/v1/orders k-J qty=900)" "422 idempotency-key-reused no" \
	"k-J with qty=900 (same length, another order): 422 idempotency-key-reused, not a replay"
is "$(post /api/v1/orders k-J qty=100)" "201 - true" "k-J with the same body again: replayed"
is "$(cat "$D_TMP/b")" "$firstj" "... with the first answer"
is "$(raw /api/v1/orders k-J length qty =9 00)" "422 idempotency-key-reused no" \
	"qty=900 arriving slowly in three pieces: still 422"
is "$(raw /api/v1/orders k-J length q ty= 100)" "201 - true" \
	"qty=100 arriving slowly in three pieces: replayed"
is "$(cat "$D_TMP/b")" "$firstj" "... with the first answer"
is "$(raw /api/v1/orders k-J expect qty=900)" "422 idempotency-key-reused no got100" \
	"Expect: 100-continue with another body: 100 Continue, then 422"
is "$(raw /api/v1/orders k-J expect qty=100)" "201 - true got100" \
	"Expect: 100-continue with the same body: 100 Continue, then the replay"
start=$(date +%s%N)
is "$(raw /api/v1/orders k-J stall 7)" "408 body-timeout no" \
	"a repeat that never sends its body: 408 body-timeout, not a replay"
ms=$((($(date +%s%N) - start) / 1000000))
ok $([ "$ms" -ge 1900 ]; echo $?) "... after body_timeout_ms (2000), not before ($ms ms)"
is "$(seen rec k-J)" 1 "the origin saw k-J once"
is "$(grep -c ' k-J qty=900$' "$D_TMP/rec.log")" 0 "... and never the qty=900 order"

# chunked: the decoded bytes are the body, however they are cut into chunks
is "$(post /api/v1/orders k-K qty=100 -H 'Transfer-Encoding: chunked')" "201 - no" \
	"first k-K, chunked (qty=100): 201"
firstk=$(cat "$D_TMP/b")
is "$(post /api/v1/orders k-K qty=900 -H 'Transfer-Encoding: chunked')" \
	"422 idempotency-key-reused no" "k-K chunked with qty=900: 422"
is "$(raw /api/v1/orders k-K chunked qty =9 00)" "422 idempotency-key-reused no" \
	"k-K with qty=900 in three slow chunks: 422"
is "$(raw /api/v1/orders k-K chunked q ty= 100)" "201 - true" \
	"k-K with qty=100 cut into other chunks, slowly: replayed"
is "$(cat "$D_TMP/b")" "$firstk" "... with the first answer"
is "$(raw /api/v1/orders k-K chunked qty=100 extra)" "422 idempotency-key-reused no" \
	"k-K chunked with a longer body: 422"
is "$(raw /api/v1/orders k-K stall 7)" "422 idempotency-key-reused no" \
	"k-K with a Content-Length instead of chunked: 422 at once (another length)"
is "$(seen rec k-K)" 1 "the origin saw k-K once"
is "$(grep -c ' k-K qty=900$' "$D_TMP/rec.log")" 0 "... and never the qty=900 order"

# a route that streams bodies (request_buffer: 0) keeps the head's fingerprint
is "$(post /api/v1/stream k-L qty=100)" "201 - no" "streamed route: first k-L 201"
is "$(post /api/v1/stream k-L qty=900)" "201 - true" \
	"streamed route: the body is not compared (documented): same length is replayed"
is "$(seen rec k-L)" 1 "... and the origin saw k-L once"

# --- a duplicate while the first is in flight: 409 ---------------------------------------------
# (the origin holds the first for 4 s: room for a loaded machine to send the second)
OUT=slow post "/api/v1/orders?delay=4000" k-B qty=2 >"$D_TMP/slow.r" &
slow=$!
for ((i = 0; i < 200; i++)); do [ "$(seen rec k-B)" = 1 ] && break; sleep 0.05; done
is "$(post "/api/v1/orders?delay=4000" k-B qty=2)" "409 idempotency-in-flight no" \
	"k-B again while the first is at the origin: 409 idempotency-in-flight"
wait "$slow"
is "$(cat "$D_TMP/slow.r")" "201 - no" "the first k-B gets the origin's 201"
is "$(post "/api/v1/orders?delay=4000" k-B qty=2)" "201 - true" "k-B after it finished: replayed"
is "$(cat "$D_TMP/b")" "$(cat "$D_TMP/slow")" "... with the first k-B's answer"
is "$(seen rec k-B)" 1 "the origin saw k-B once"

# --- other keys, other clients, no key -------------------------------------------------------------
is "$(post /api/v1/orders k-C qty=3)" "201 - no" "a different key goes through"
is "$(seen rec k-C)" 1 "... to the origin"
is "$(post /api/v1/orders k-A qty=1 --interface 127.0.0.2)" "201 - no" \
	"k-A from another client address goes through (keys are per client: scope source)"
ok $([ "$(cat "$D_TMP/b")" != "$first" ]; echo $?) "... and gets its own answer, not k-A's"
post /api/v1/orders "" qty=4 >/dev/null
post /api/v1/orders "" qty=4 >/dev/null
is "$(grep -c ' - qty=4$' "$D_TMP/rec.log")" 2 "requests without the header are untouched (2 sent, 2 seen)"

# --- chunked answers are replayed with a length; answers too large are not replayable ---------
is "$(post "/api/v1/orders?chunked" k-D qty=5)" "201 - no" "chunked answer relayed"
chunked=$(cat "$D_TMP/b")
is "$(post "/api/v1/orders?chunked" k-D qty=5)" "201 - true" "... replayed"
is "$(cat "$D_TMP/b")" "$chunked" "... with the same (decoded) body"
is "$(post "/api/v1/orders?big" k-E qty=6)" "201 - no" "a 100 KB answer is relayed"
is "$(post "/api/v1/orders?big" k-E qty=6)" "409 idempotency-not-replayable no" \
	"... but over max_response (4k) it is not stored: the duplicate gets 409 not-replayable"
is "$(seen rec k-E)" 1 "... and never reaches the origin again"

# --- the origin reset after receiving it: outcome unknown, never sent twice ---------------------
is "$(post "/api/v1/orders?reset" k-F qty=7 | cut -d' ' -f1)" 502 "origin resets after reading: 502"
is "$(post "/api/v1/orders?reset" k-F qty=7)" "409 idempotency-not-replayable no" \
	"the origin may have acted: the same key gets 409, not a second try"
is "$(seen rec k-F)" 1 "the origin saw k-F once"

# --- nothing sent: the key is not poisoned -------------------------------------------------------
is "$(post /api/v1/later k-G qty=8 | cut -d' ' -f1,2)" "502 connect-refused" \
	"upstream down: 502 connect-refused (nothing was sent)"
is "$(post /api/v1/later k-G qty=8 | cut -d' ' -f1,2)" "502 connect-refused" \
	"the same key again is tried again (not 409): the failed attempt did not poison it"
rec_start rec3 "$D_O3_PORT" || ok 1 "second recording origin starts"
is "$(post /api/v1/later k-G qty=8)" "201 - no" "once the upstream is back, the key goes through"
is "$(post /api/v1/later k-G qty=8)" "201 - true" "... and is replayed after that"
is "$(seen rec3 k-G)" 1 "... reaching the upstream once"

# --- the window: after window_ms the key goes through again --------------------------------------
start=$(date +%s%N)
post /api/v1/short k-H qty=9 >/dev/null
is "$(post /api/v1/short k-H qty=9 | cut -d' ' -f3)" true "within the window (3000 ms) k-H is replayed"
got=""
for ((i = 0; i < 50; i++)); do
	got=$(post /api/v1/short k-H qty=9)
	[ "$got" = "201 - no" ] && break
	sleep 0.1
done
ms=$((($(date +%s%N) - start) / 1000000))
is "$got" "201 - no" "after the window (3000 ms) k-H goes through again"
ok $([ "$ms" -ge 2900 ]; echo $?) "... not before the window ended ($ms ms)"
is "$(seen rec k-H)" 2 "... so the origin saw k-H twice, once per window"

# a repeat reading its body holds the key's entry; one that gives up must let it go, or the
# key would never expire
start=$(date +%s%N)
post /api/v1/short k-N qty=9 >/dev/null
is "$(raw /api/v1/short k-N stall 5)" "408 body-timeout no" "k-N repeat that never sends its body: 408"
raw /api/v1/short k-N quit qty >/dev/null
got=""
for ((i = 0; i < 50; i++)); do
	got=$(post /api/v1/short k-N qty=9)
	[ "$got" = "201 - no" ] && break
	sleep 0.1
done
ms=$((($(date +%s%N) - start) / 1000000))
is "$got" "201 - no" "after a timed-out and an abandoned repeat, k-N still expires with its window"
ok $([ "$ms" -ge 2900 ]; echo $?) "... not before the window ended ($ms ms)"
is "$(seen rec k-N)" 2 "... so the origin saw k-N twice, once per window"

# --- keep-alive: a replay on a reused connection, then a normal request -------------------------
out=$(curl -s --max-time 10 -H 'Idempotency-Key: k-A' --data-binary qty=1 "$(d_gw /api/v1/orders)" \
	--next -s --max-time 10 -H 'Idempotency-Key: k-I' --data-binary qty=10 "$(d_gw /api/v1/orders)" \
	-w '%{num_connects}')
ok $([[ $out == "$first"*"order qty=10 accepted"*0 ]]; echo $?) \
	"a replay and a new order on one keep-alive connection"

# --- a reload keeps the keys of a route whose table sizes did not change -------------------------
gen=$(curl -s --max-time 5 "$(d_admin /metrics)" | awk '$1 == "ordergate_config_generation" { print $2 }')
kill -HUP "${D_GW_PID[gw]}"
for ((i = 0; i < 100; i++)); do
	g=$(curl -s --max-time 5 "$(d_admin /metrics)" | awk '$1 == "ordergate_config_generation" { print $2 }')
	[ -n "$g" ] && [ "$g" != "$gen" ] && break
	sleep 0.05
done
ok $([ -n "$g" ] && [ "$g" != "$gen" ]; echo $?) "SIGHUP: a new config generation ($gen -> $g)"
is "$(post /api/v1/orders k-A qty=1)" "201 - true" "k-A is still replayed after the reload"
is "$(cat "$D_TMP/b")" "$first" "... with the same answer"

# --- metrics --------------------------------------------------------------------------------------
M='ordergate_idempotency_requests_total{route="orders",outcome='
ok $([ "$(d_metric "${M}\"replayed\"}")" -ge 4 ]; echo $?) "metrics: replays counted"
is "$(d_metric "${M}\"in_flight\"}")" 1 "metrics: one in-flight conflict"
is "$(d_metric 'ordergate_errors_total{reason="idempotency-in-flight"}')" 1 \
	"metrics: 409 idempotency-in-flight counted as an error reason"
ok $([ "$(d_metric 'ordergate_idempotency_claims_total{route="later",end="released"}')" -eq 2 ]; echo $?) \
	"metrics: the two claims that sent nothing were released"
d_gw_stop gw
is "$D_RC" 0 "gateway exits 0"
tap_done
