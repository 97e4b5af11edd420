#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# HTTP/1.1 conformance: replay the public vectors through ordergated -> nginx origin, assert the rejections.
#
# Three actors on loopback, free ports: an nginx origin that answers every request with what it
# saw (and logs one line per request), build/ordergated routing / to it (plus a direct respond
# route), and tests/conformance/replay.py as the client. Corpus: ../shared/corpus/http1 beside
# the repo. GATEWAY=nginx replays through an nginx reverse proxy instead (reproduces the
# baselines in the corpus; used to check the replay tool itself).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
BUILD=${BUILD:-build}
GATEWAY=${GATEWAY:-ordergated}
repo=$(pwd)
corpus=${OG_HTTP1_CORPUS:-$(cd "$repo/.." && pwd)/shared/corpus/http1}

if [ ! -f "$corpus/README.md" ] || [ ! -d "$corpus/vectors" ]; then
	ok 1 "HTTP/1.1 corpus missing: expected $corpus (../shared/corpus/http1 beside the repo; set OG_HTTP1_CORPUS to override)"
	tap_done
	exit 1
fi

tmp=$(mktemp -d /tmp/og-conf.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

wait_port() { # wait_port PORT PID: up to 10 s for a listener, while PID lives
	for _ in $(seq 100); do
		kill -0 "$2" 2>/dev/null || return 1
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- origin: nginx answering 200 with the request line it saw, logging one line per request --
# The front server reads the whole request body before it answers (proxy_request_buffering,
# the default), like an application would: an origin that answered before the body arrived
# would hide whether the gateway waits for incomplete bodies. The sink behind it only echoes.
oport=$(free_port)
sport=$(free_port)
mkdir -p "$tmp/origin"
cat >"$tmp/origin/nginx.conf" <<EOF
daemon off; master_process on; worker_processes 1; pid $tmp/origin/nginx.pid;
error_log $tmp/origin/error.log;
events { worker_connections 1024; }
http {
	log_format seen '\$connection \$request_length "\$request" host="\$http_host" cl="\$http_content_length" te="\$http_transfer_encoding"';
	client_body_temp_path $tmp/origin/body; proxy_temp_path $tmp/origin/proxy;
	fastcgi_temp_path $tmp/origin/fcgi; uwsgi_temp_path $tmp/origin/uwsgi; scgi_temp_path $tmp/origin/scgi;
	keepalive_requests 100000;
	client_max_body_size 100m;
	server {
		listen 127.0.0.1:$oport;
		access_log $tmp/origin/access.log seen;
		location / {
			proxy_pass http://127.0.0.1:$sport;
			proxy_set_header X-Seen "\$request";
			add_header X-Origin nginx always;
		}
	}
	server {
		listen 127.0.0.1:$sport;
		access_log off;
		location / { return 200 "origin saw: \$http_x_seen\n"; }
	}
}
EOF
nginx -c "$tmp/origin/nginx.conf" -p "$tmp/origin" -e "$tmp/origin/error.log" >"$tmp/origin/stdout.log" 2>&1 &
pids+=($!)
if ! wait_port "$oport" "${pids[-1]}"; then
	ok 1 "nginx origin starts on 127.0.0.1:$oport"
	sed 's/^/# origin: /' "$tmp/origin/error.log" "$tmp/origin/stdout.log" 2>/dev/null | head -20
	tap_done
	exit 1
fi

# --- gateway ------------------------------------------------------------------------------
gport=$(free_port)
if [ "$GATEWAY" = nginx ]; then
	mkdir -p "$tmp/gw"
	cat >"$tmp/gw/nginx.conf" <<EOF
daemon off; master_process on; worker_processes 1; pid $tmp/gw/nginx.pid;
error_log $tmp/gw/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $tmp/gw/body; proxy_temp_path $tmp/gw/proxy;
	fastcgi_temp_path $tmp/gw/fcgi; uwsgi_temp_path $tmp/gw/uwsgi; scgi_temp_path $tmp/gw/scgi;
	upstream origin { server 127.0.0.1:$oport; keepalive 16; }
	server {
		listen 127.0.0.1:$gport;
		location = /og-direct { return 200 "direct"; }
		location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
	}
}
EOF
	nginx -c "$tmp/gw/nginx.conf" -p "$tmp/gw" -e "$tmp/gw/error.log" >"$tmp/gw/stdout.log" 2>&1 &
	pids+=($!)
	gw_log="$tmp/gw/error.log"
else
	bin=${OG_DAEMON:-$BUILD/ordergated} # OG_DAEMON=build/ordergated-asan runs it under ASan
	[ "${OG_ASAN:-0}" = 1 ] && bin="$BUILD/ordergated-asan"
	if [ ! -x "$bin" ]; then
		ok 1 "gateway binary $bin exists (make $bin)"
		tap_done
		exit 1
	fi
	aport=$(free_port)
	cat >"$tmp/og.yaml" <<EOF
workers: 1
listen: ["127.0.0.1:$gport"]
admin: { listen: "127.0.0.1:$aport" }
upstreams:
  origin: { servers: ["127.0.0.1:$oport"], keepalive: 16 }
routes:
  - match: { path: /og-direct }
    respond: { status: 200, body: "direct" }
  - match: { path_prefix: / }
    upstream: origin
EOF
	"$bin" -t -c "$tmp/og.yaml" >"$tmp/check.log" 2>&1
	ok $? "ordergated -t accepts the conformance config"
	"$bin" -c "$tmp/og.yaml" >"$tmp/gw.log" 2>&1 &
	pids+=($!)
	gw_log="$tmp/gw.log"
fi
gw_pid=${pids[-1]}
if ! wait_port "$gport" "$gw_pid"; then
	ok 1 "$GATEWAY listens on 127.0.0.1:$gport"
	sed 's/^/# gateway: /' "$gw_log" "$tmp/check.log" 2>/dev/null | head -30
	tap_done
	exit 1
fi

# --- smoke: both routes answer ---------------------------------------------------------------
body=$(curl -s --max-time 5 "http://127.0.0.1:$gport/og-direct")
is "$body" "direct" "$GATEWAY answers the direct route"
body=$(curl -s --max-time 5 "http://127.0.0.1:$gport/hello?x=1")
is "$body" "origin saw: GET /hello?x=1 HTTP/1.1" "$GATEWAY proxies to the nginx origin"

# --- the replay ------------------------------------------------------------------------------
# replay.py numbers its own assertions; renumber them after ours so the TAP stream stays valid.
python3 tests/conformance/replay.py --corpus "$corpus" --port "$gport" \
	--origin-log "$tmp/origin/access.log" --out "$tmp/results.json" --no-plan --label "$GATEWAY" ${REPLAY_ARGS:-} \
	>"$tmp/replay.tap" 2>"$tmp/replay.err"
rrc=$?
while IFS= read -r line; do
	case "$line" in
	"ok "*) ok 0 "${line#ok [0-9]* - }" ;;
	"not ok "*) ok 1 "${line#not ok [0-9]* - }" ;;
	*) echo "$line" ;;
	esac
done <"$tmp/replay.tap"
if [ -s "$tmp/replay.err" ]; then
	diag "replay.py stderr:"
	sed 's/^/#   /' "$tmp/replay.err" | head -20
fi
ok $rrc "replay.py ran to the end (exit $rrc)"
[ -n "${OG_CONFORMANCE_KEEP:-}" ] && cp "$tmp/results.json" "$OG_CONFORMANCE_KEEP"

# --- again with an origin that answers before reading the body -------------------------------
# The sink answers `return 200` as soon as the head is in (as many application frameworks do):
# a gateway that forwarded an incomplete body would relay that 200 and a must-reject probe
# would pass as accepted. A second ordergated routes everything (path_prefix: /) to it.
if [ "$GATEWAY" = ordergated ]; then
	g2port=$(free_port)
	a2port=$(free_port)
	cat >"$tmp/og-eager.yaml" <<EOF
workers: 1
listen: ["127.0.0.1:$g2port"]
admin: { listen: "127.0.0.1:$a2port" }
upstreams:
  eager: { servers: ["127.0.0.1:$sport"], keepalive: 16 }
routes:
  - match: { path_prefix: / }
    upstream: eager
EOF
	"$bin" -c "$tmp/og-eager.yaml" >"$tmp/gw-eager.log" 2>&1 &
	pids+=($!)
	if wait_port "$g2port" "${pids[-1]}"; then
		python3 tests/conformance/replay.py --corpus "$corpus" --port "$g2port" --sets probe \
			--out "$tmp/results-eager.json" --no-plan --label "ordergated (eager origin)" \
			>"$tmp/replay-eager.tap" 2>"$tmp/replay-eager.err"
		rrc=$?
		while IFS= read -r line; do
			case "$line" in
			"ok "*) ok 0 "eager origin: ${line#ok [0-9]* - }" ;;
			"not ok "*) ok 1 "eager origin: ${line#not ok [0-9]* - }" ;;
			*) echo "$line" ;;
			esac
		done <"$tmp/replay-eager.tap"
		ok $rrc "replay.py against the eager origin ran to the end (exit $rrc)"
	else
		ok 1 "second ordergated (eager origin) listens on 127.0.0.1:$g2port"
	fi
	gw_log="$gw_log $tmp/gw-eager.log"
fi

# --- the gateway survived all of it ----------------------------------------------------------
kill -0 "$gw_pid" 2>/dev/null
ok $? "$GATEWAY is still running after the replay"
body=$(curl -s --max-time 5 "http://127.0.0.1:$gport/og-direct")
is "$body" "direct" "$GATEWAY still answers after the replay"
# shellcheck disable=SC2086 # gw_log may name two logs
if grep -qE 'ERROR: AddressSanitizer|runtime error:' $gw_log 2>/dev/null; then
	ok 1 "no sanitizer report in the gateway log"
	grep -E -A5 'ERROR: AddressSanitizer|runtime error:' $gw_log | head -30 | sed 's/^/# /'
fi
tap_done
