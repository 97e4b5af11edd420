# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared setup for the ordergated system suites (d_*.sh): nginx origins, the gateway, curl.
# Not a suite itself (tests/run runs *.sh only). Source after tests/lib/tap.sh.
#
# Three actors on loopback (haproxy VTest shape): a real Debian nginx origin with an access
# log that records what it SAW (connection id, requests on it, request length, body file),
# the gateway ($OG_DAEMON, default build/ordergated; d_asan.sh points it at the ASan build),
# and curl/wrk as clients. Everything started here is stopped by PID from the cleanup stack.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OG_DAEMON=${OG_DAEMON:-$SYS_BUILD/ordergated}
case $OG_DAEMON in /*) ;; *) OG_DAEMON=$SYS_ROOT/$OG_DAEMON ;; esac
# Slower under ASan: scale waits. Any sanitizer report goes to the daemon's stderr log.
D_SLOW=1
case $OG_DAEMON in *asan*) D_SLOW=3 ;; esac
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

sys_tmpdir
D_TMP=$SYS_TMPDIR
mkdir -p "$D_TMP/www/files"

# d_require: the daemon binary must exist; otherwise one failing assertion (not a skip:
# a missing daemon is a build failure) and exit.
d_require() {
	if [ ! -x "$OG_DAEMON" ]; then
		ok 1 "daemon binary $OG_DAEMON exists (run make)"
		tap_done
		exit 1
	fi
	for t in nginx curl jq; do
		if ! command -v $t >/dev/null; then
			ok 1 "$t installed (make deps)"
			tap_done
			exit 1
		fi
	done
}

# d_files: static files of 0 B .. 10 MiB under www/files (name = size label).
d_files() {
	head -c 0 /dev/urandom >"$D_TMP/www/files/0"
	head -c 1 /dev/urandom >"$D_TMP/www/files/1"
	head -c 65536 /dev/urandom >"$D_TMP/www/files/64k"
	head -c 1048576 /dev/urandom >"$D_TMP/www/files/1m"
	head -c 10485760 /dev/urandom >"$D_TMP/www/files/10m"
	head -c 20000 /dev/urandom >"$D_TMP/www/files/20k"
	echo ok >"$D_TMP/www/healthz"
}

# d_origin_start NAME PORT: nginx origin NAME on 127.0.0.1:PORT (files in $D_TMP/NAME).
# Log fields (space separated, see log_format og): conn conn_reqs method uri status
# request_length bytes_sent content_length transfer_encoding body_file x_request_id xff
# connection_header. Sets D_ORIGIN_PID[NAME].
declare -A D_ORIGIN_PID
d_origin_start() {
	local name=$1 port=$2 dir=$D_TMP/$1
	mkdir -p "$dir/bodies" "$dir/tmp"
	cat >"$dir/nginx.conf" <<EOF
daemon off; master_process on; worker_processes 1; pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
	log_format og '\$connection \$connection_requests \$request_method \$request_uri \$status '
		'\$request_length \$bytes_sent "\$content_length" "\$http_transfer_encoding" '
		'"\$request_body_file" "\$http_x_request_id" "\$http_x_forwarded_for" "\$http_connection"';
	access_log $dir/access.log og;
	sendfile on; keepalive_timeout 60s; keepalive_requests 100000;
	client_body_temp_path $dir/bodies; proxy_temp_path $dir/tmp;
	fastcgi_temp_path $dir/tmp; uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
	default_type application/octet-stream;
	client_max_body_size 64m;
	server {
		listen 127.0.0.1:$port reuseport;
		root $D_TMP/www;
		location /files/ { }
		location = /healthz { return 200 "ok $name\n"; }
		# an application error: the server works, the request was refused by the app
		location /fail500/ { return 500 "app error\n"; }
		location /fail503/ { return 503 "unavailable\n"; }
		location /api/echo {
			return 200 "origin=$name method=\$request_method uri=\$request_uri len=\$content_length\n";
		}
		# reads the whole body into a kept file (body_file in the log), then answers
		location /api/upload {
			client_body_in_file_only on;
			proxy_pass http://127.0.0.1:$port/sink;
		}
		location = /sink { access_log off; return 200 "stored\n"; }
		# an origin that hangs: nginx waits on a blackhole (D_HOLE_PORT) that never answers
		location /hang/ { proxy_pass http://127.0.0.1:${D_HOLE_PORT:-9}; proxy_read_timeout 60s; }
		# chunked response: gzip of a file has no length known in advance
		location /gz/ {
			alias $D_TMP/www/files/;
			gzip on; gzip_types *; gzip_min_length 0; gzip_http_version 1.0;
		}
		# chunked response, body unchanged: sub_filter drops Content-Length (the pattern
		# never occurs in the random files), so nginx streams the file chunked
		location /chunk/ {
			alias $D_TMP/www/files/;
			sub_filter_types *; sub_filter "ordergate-never-in-random-data-7f3a9c" "x";
		}
		# slow body: 512 KB/s (1m takes about 2 s)
		location /slow/ { alias $D_TMP/www/files/; sendfile_max_chunk 16k; limit_rate 512k; }
		location / { return 200 "origin=$name default uri=\$request_uri\n"; }
	}
}
EOF
	nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
	# one cleanup entry per name, reaping whatever PID the name has at exit (a restarted
	# origin gets a new PID; an old, reused PID is never signalled)
	[ -n "${D_ORIGIN_PID[$name]+set}" ] || sys_cleanup_push d_origin_stop "$name"
	D_ORIGIN_PID[$name]=$!
	disown "${D_ORIGIN_PID[$name]}" # killing it on purpose is no news: no "Killed" notice
	if ! sys_wait_port 127.0.0.1 "$port" "" 5; then
		sed 's/^/# nginx: /' "$dir/error.log" "$dir/stdout.log" 2>/dev/null
		return 1
	fi
}

# d_blackhole PORT: a listener that accepts, reads and never answers (a hung origin); at
# most 120 s. Sets D_HOLE_PID.
d_blackhole() {
	"$SYS_PY" -c '
import socket, sys, time, select
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
held = [s]; end = time.time() + 120
while time.time() < end:
    r, _, _ = select.select(held, [], [], 1)
    for x in r:
        if x is s:
            held.append(s.accept()[0])
        elif not x.recv(65536):
            held.remove(x); x.close()
' "$1" &
	D_HOLE_PID=$!
	sys_cleanup_push sys_kill_pid "$D_HOLE_PID"
	sys_wait_port 127.0.0.1 "$1" "" 5
}

# d_kill_tree PID [SIG]: signal PID and its direct children (nginx master + workers we
# started), then wait for them to go.
d_kill_tree() {
	local pid=$1 sig=${2:-TERM} kids i
	kids=$(pgrep -P "$pid" 2>/dev/null)
	kill -"$sig" "$pid" $kids 2>/dev/null
	for ((i = 0; i < 60; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" $kids 2>/dev/null
	{ wait "$pid"; } 2>/dev/null # braces: also silence bash's "Killed" job notice
	return 0
}

# d_origin_stop NAME: stop origin NAME (KILL: the origin dies, it does not drain).
d_origin_stop() {
	[ -n "${D_ORIGIN_PID[$1]:-}" ] && d_kill_tree "${D_ORIGIN_PID[$1]}" KILL
	D_ORIGIN_PID[$1]=
}

# d_origin_log NAME: the origin's access log (append-only; tests count new lines).
d_origin_log() { echo "$D_TMP/$1/access.log"; }

# d_gw_start NAME CONFIG: run the gateway with CONFIG (a file), stderr to $D_TMP/NAME.err.
# Waits for the listen port D_GW_PORT and the admin /healthz. Sets D_GW_PID[NAME].
declare -A D_GW_PID
d_gw_start() {
	local name=$1 conf=$2 i
	"$OG_DAEMON" -c "$conf" >"$D_TMP/$name.out" 2>"$D_TMP/$name.err" &
	D_GW_PID[$name]=$!
	sys_cleanup_push d_gw_reap "$name"
	for ((i = 0; i < 100 * D_SLOW; i++)); do
		if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$D_ADMIN_PORT/healthz" &&
			ss -Hltn "sport = :$D_GW_PORT" | grep -q .; then
			return 0
		fi
		kill -0 "${D_GW_PID[$name]}" 2>/dev/null || break
		sleep 0.05
	done
	diag "gateway $name did not come up; stderr:"
	sed 's/^/#   /' "$D_TMP/$name.err" | head -20
	return 1
}

# d_gw_stop NAME: SIGTERM and wait (up to 10 s, scaled for ASan); the exit status goes to
# D_RC (124 when it did not exit). Not in $(...): wait needs the gateway to be our child.
d_gw_stop() {
	local pid=${D_GW_PID[$1]}
	D_RC=255
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	if d_wait_exit "$pid" $((10 * D_SLOW)); then
		wait "$pid" 2>/dev/null
		D_RC=$?
	else
		D_RC=124
	fi
	D_GW_PID[$1]=
	d_save_err "$1"
	return 0
}

# d_wait_exit PID SECONDS: wait for PID to exit; 0 when it did, 1 on timeout.
d_wait_exit() {
	local pid=$1 t=$2 i
	for ((i = 0; i < t * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# At exit: stop a gateway still running (TERM, then KILL) and keep its stderr for d_asan.
d_gw_reap() {
	local pid=${D_GW_PID[$1]}
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		d_wait_exit "$pid" $((10 * D_SLOW)) || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	d_save_err "$1"
}

# With OG_STDERR_DIR set (d_asan.sh), copy each gateway's stderr there for inspection.
d_save_err() {
	[ -n "${OG_STDERR_DIR:-}" ] && [ -f "$D_TMP/$1.err" ] &&
		cp "$D_TMP/$1.err" "$OG_STDERR_DIR/$(basename "$0" .sh)-$1-$$.err"
	return 0
}

# d_ports: pick D_GW_PORT, D_ADMIN_PORT, D_O1_PORT, D_O2_PORT, D_DEAD_PORT (nothing listens).
d_ports() {
	D_GW_PORT=$(sys_free_port)
	D_ADMIN_PORT=$(sys_free_port)
	D_O1_PORT=$(sys_free_port)
	D_O2_PORT=$(sys_free_port)
	D_DEAD_PORT=$(sys_free_port)
}

D_CURL=(curl -s --max-time 20 -o /dev/null)
# d_code URL [CURL ARGS...]: print the HTTP status code (000 on failure).
d_code() {
	local url=$1; shift
	curl -s --max-time 20 -o /dev/null -w '%{http_code}' "$@" "$url"
}
# d_gw URL-PATH: full URL on the gateway.
d_gw() { echo "http://127.0.0.1:$D_GW_PORT$1"; }
d_admin() { echo "http://127.0.0.1:$D_ADMIN_PORT$1"; }

# d_metric NAME{LABELS}: the value of one series from /metrics (empty when absent).
d_metric() {
	curl -s --max-time 5 "$(d_admin /metrics)" | awk -v k="$1" '$1 == k { print $2; exit }'
}

# d_sha FILE: sha256 hex of FILE.
d_sha() { sha256sum "$1" | cut -d' ' -f1; }

# d_begin [o1]: the start every daemon suite shares: the binaries (d_require), the origin's
# files (d_files) and free ports (d_ports); with o1, origin o1 too (d_origin_o1).
d_begin() {
	d_require
	d_files
	d_ports
	if [ "${1:-}" = o1 ]; then d_origin_o1; fi
}

# d_origin_o1: nginx origin o1 on D_O1_PORT, or one failed test and exit 1.
d_origin_o1() {
	d_origin_start o1 "$D_O1_PORT" || { ok 1 "nginx origin starts"; tap_done; exit 1; }
}

# d_gw_conf WORKERS [LINE...] <REST: write $D_TMP/gw.yaml: WORKERS workers listening on
# D_GW_PORT, admin on D_ADMIN_PORT, each LINE (top-level keys), then the YAML on stdin.
d_gw_conf() {
	local w=$1
	shift
	{
		printf '%s\n' "workers: $w" "listen: [\"127.0.0.1:$D_GW_PORT\"]" \
			"admin: { listen: \"127.0.0.1:$D_ADMIN_PORT\" }"
		[ $# -eq 0 ] || printf '%s\n' "$@"
		cat
	} >"$D_TMP/gw.yaml"
}

# d_gw_conf_origin WORKERS KEEPALIVE [LINE...] <ROUTES: d_gw_conf with upstream "origin" (o1,
# KEEPALIVE idle connections) and a first route "ping" (/ping answers pong); stdin: more routes.
d_gw_conf_origin() {
	local w=$1 ka=$2
	shift 2
	{
		printf '%s\n' upstreams: \
			"  origin: { servers: [\"127.0.0.1:$D_O1_PORT\"], keepalive: $ka }" \
			routes: "  - name: ping" "    match: { path: /ping }" \
			'    respond: { status: 200, body: "pong" }'
		cat
	} | d_gw_conf "$w" "$@"
}
