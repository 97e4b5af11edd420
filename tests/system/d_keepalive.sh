#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ordergated keep-alive: reuse visible in the origin's connection ids, pooling, pipelining order.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_begin o1

d_gw_conf_origin 2 8 <<EOF
  - name: proxy
    match: { path_prefix: / }
    upstream: origin
EOF
d_gw_start gw "$D_TMP/gw.yaml"
ok $? "gateway starts"
OLOG=$(d_origin_log o1)
# conns_for PATTERN: distinct origin connection ids ($connection) of log lines whose URI
# starts with PATTERN, and how many lines
conns_for() { awk -v p="$1" 'index($4, p) == 1 { n++; c[$1] = 1 } END { print length(c), n + 0 }' "$OLOG"; }

# --- 100 requests on one client connection ------------------------------------------
urls=()
for i in $(seq 1 100); do urls+=("$(d_gw "/api/echo?ka1=$i")"); done
curl -s --max-time 30 -w '%{stderr}%{num_connects} %{http_code}\n' "${urls[@]}" \
	>/dev/null 2>"$D_TMP/ka1"
is "$(awk '$2 == 200' "$D_TMP/ka1" | wc -l)" 100 "100 sequential requests on one connection: all 200"
is "$(awk '{ s += $1 } END { print s }' "$D_TMP/ka1")" 1 \
	"the client connection was kept alive (curl connected once)"
read -r nconn nlines <<<"$(conns_for "/api/echo?ka1=")"
is "$nlines" 100 "origin saw all 100 requests"
ok $([ "$nconn" -le 2 ]; echo $?) "origin saw them on $nconn connection(s) (<= 2: upstream keep-alive)"
maxreq=$(awk 'index($4, "/api/echo?ka1=") == 1 && $2 > m { m = $2 } END { print m + 0 }' "$OLOG")
ok $([ "$maxreq" -ge 50 ]; echo $?) "one origin connection carried $maxreq requests (>= 50)"

# --- 100 client connections, one request each: still pooled upstream --------------------
for i in $(seq 1 100); do
	curl -s --max-time 5 -o /dev/null -w '%{http_code}\n' "$(d_gw "/api/echo?ka2=$i")"
done >"$D_TMP/ka2"
is "$(grep -c '^200$' "$D_TMP/ka2")" 100 "100 separate client connections: all 200"
read -r nconn nlines <<<"$(conns_for "/api/echo?ka2=")"
is "$nlines" 100 "origin saw all 100"
ok $([ "$nconn" -le 4 ]; echo $?) \
	"origin saw them on $nconn connection(s) (<= 4: pooled per worker, not per client)"
reused=$(d_metric ordergate_upstream_reused_total)
ok $([ "${reused:-0}" -ge 150 ]; echo $?) "ordergate_upstream_reused_total = ${reused:-none} (>= 150)"

# --- pipelining: responses in request order, even when the first is the slowest ----------
cat >"$D_TMP/pipe.py" <<'PY'
# pipe.py PORT REQ...: send every request in ONE write, then parse the responses in order
# (Content-Length or chunked) and print "status uri-from-body-or-length" per response.
import socket, sys
port, reqs = int(sys.argv[1]), sys.argv[2:]
s = socket.create_connection(("127.0.0.1", port), timeout=15)
s.sendall("".join(reqs).encode().replace(b"\\r\\n", b"\r\n"))
buf = b""
def need(n):
    global buf
    while len(buf) < n:
        c = s.recv(65536)
        if not c:
            raise EOFError
        buf += c
def line():
    global buf
    while b"\r\n" not in buf:
        need(len(buf) + 1)
    i = buf.index(b"\r\n"); l = buf[:i]; buf = buf[i + 2:]; return l
out = []
try:
    for _ in reqs:
        status = line().split(b" ")[1].decode()
        hdrs = {}
        while True:
            l = line()
            if not l:
                break
            k, v = l.split(b":", 1); hdrs[k.strip().lower()] = v.strip()
        body = b""
        if b"content-length" in hdrs:
            n = int(hdrs[b"content-length"]); need(n); body = buf[:n]; buf = buf[n:]
        elif hdrs.get(b"transfer-encoding", b"").lower() == b"chunked":
            while True:
                n = int(line().split(b";")[0], 16)
                if n == 0:
                    while line():
                        pass
                    break
                need(n + 2); body += buf[:n]; buf = buf[n + 2:]
        txt = body.decode("latin-1")
        out.append(status + " " + (txt.split("uri=")[1].split()[0] if "uri=" in txt else "len=%d" % len(body)))
except (EOFError, socket.timeout) as e:
    out.append("EOF")
print(" | ".join(out))
PY
R() { printf 'GET %s HTTP/1.1\\r\\nHost: x\\r\\n%s\\r\\n' "$1" "${2:-}"; }
got=$("$SYS_PY" "$D_TMP/pipe.py" "$D_GW_PORT" "$(R /slow/64k)" "$(R /api/echo?p=2)" \
	"$(R /api/echo?p=3 'Connection: close\r\n')")
is "$got" "200 len=65536 | 200 /api/echo?p=2 | 200 /api/echo?p=3" \
	"3 pipelined requests, slow first: answered in order"
reqs=()
for i in $(seq 1 20); do reqs+=("$(R "/api/echo?p=$i")"); done
want=$(for i in $(seq 1 20); do printf '200 /api/echo?p=%s | ' "$i"; done)
got=$("$SYS_PY" "$D_TMP/pipe.py" "$D_GW_PORT" "${reqs[@]}")
is "$got | " "$want" "20 pipelined GETs in one write: 20 answers in order"
P() { printf 'POST %s HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\n\\r\\nhello' "$1"; }
got=$("$SYS_PY" "$D_TMP/pipe.py" "$D_GW_PORT" "$(P /api/echo?p=post1)" "$(R /api/echo?p=get2)" \
	"$(P /api/echo?p=post3)")
is "$got" "200 /api/echo?p=post1 | 200 /api/echo?p=get2 | 200 /api/echo?p=post3" \
	"pipelined POST/GET/POST with bodies: in order"
is "$(awk 'index($4, "/api/echo?p=post") == 1 { n++ } END { print n + 0 }' "$OLOG")" 2 \
	"origin saw both pipelined POSTs exactly once"

# --- a client that reads late: direct answers wait for the socket, none is torn --------
# 40000 pipelined /ping (5 MB of answers, more than a socket send buffer grows to) on one
# connection whose receive buffer is 4 KiB, read only after a
# second: the gateway's writes go short and wait, which is where a cached whole response
# is re-pointed at its pieces (respond_direct_unshare). Every answer must come whole.
cat >"$D_TMP/late.py" <<'PY'
import re, socket, sys, threading, time
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(20)
s.connect(("127.0.0.1", port))
req = b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"
threading.Thread(target=lambda: s.sendall(req * (n - 1) + req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")), daemon=True).start()
time.sleep(1)
buf = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    buf += c
one = (rb"HTTP/1\.1 200 OK\r\nServer: ordergate\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n"
       rb"Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n(Connection: close\r\n)?\r\npong")
whole = len(re.findall(one, buf))
rest = len(re.sub(one, b"", buf))
print(whole, rest)
PY
read -r whole rest <<<"$("$SYS_PY" "$D_TMP/late.py" "$D_GW_PORT" 40000 2>&1)"
is "$whole" 40000 "40000 pipelined direct answers to a late reader all came whole"
is "$rest" 0 "... and nothing else came (no torn or doubled bytes)"

d_gw_stop gw
is "$D_RC" 0 "gateway exits 0 on SIGTERM"
tap_done
