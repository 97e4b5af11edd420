# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared helpers for system tests: unique names, a cleanup stack run on EXIT, netns/veth,
# waiting for ports, a throwaway nginx, private bpffs pin dirs. Source after tests/lib/tap.sh.
#
# Usage:
#   . tests/lib/tap.sh; . tests/system/lib.sh
#   sys_require_root || exit 0          # prints a TAP skip with the reason
#   sys_cleanup_push ip netns del foo   # run at exit, newest first, even on failure
#   id=$(sys_uid)                       # short unique suffix (<= 6 chars) for names
#
# Every helper that creates something registers its removal on the cleanup stack, so a
# test only has to create things through these helpers to leave nothing behind. The stack
# runs from an EXIT trap (also on INT/TERM, which are turned into exit). Helpers never stop
# a process they did not start: they kill by the PID they recorded.

SYS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SYS_BUILD=${BUILD:-build}
case $SYS_BUILD in /*) ;; *) SYS_BUILD=$SYS_ROOT/$SYS_BUILD ;; esac
# /usr/bin/python3 is Debian's; the pyenv one on PATH has the stdlib only, which is all we use,
# but its shim can take seconds to start on a busy machine (longer than a throttle's TTL), so
# Debian's is preferred when present.
if [ -z "${SYS_PY:-}" ]; then
	if [ -x /usr/bin/python3 ]; then SYS_PY=/usr/bin/python3; else SYS_PY=python3; fi
fi

_sys_cleanup=()

# sys_cleanup_push CMD [ARGS...]: run CMD at exit (LIFO). Errors in CMD are ignored.
sys_cleanup_push() {
	local q
	q=$(printf '%q ' "$@")
	_sys_cleanup+=("$q")
}

# sys_cleanup_run: run and clear the stack now (the EXIT trap calls it; safe to call twice).
sys_cleanup_run() {
	local i
	for ((i = ${#_sys_cleanup[@]} - 1; i >= 0; i--)); do
		eval "${_sys_cleanup[$i]}" >/dev/null 2>&1 || true
	done
	_sys_cleanup=()
}
trap 'sys_cleanup_run' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# sys_require_root: returns 1 (after printing a TAP skip plan) when not root or no netns.
sys_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP needs root (network namespaces, BPF)"
		return 1
	fi
	if ! ip netns list >/dev/null 2>&1; then
		echo "1..0 # SKIP ip netns not usable here"
		return 1
	fi
	return 0
}

# sys_uid: a short suffix unique among concurrently running tests: the PID in base 36
# plus one random base-36 digit (max 6 chars), so "og" + uid + "c0" fits IFNAMSIZ.
sys_uid() {
	local n=$$ s="" d=0123456789abcdefghijklmnopqrstuvwxyz
	while [ "$n" -gt 0 ]; do s=${d:$((n % 36)):1}$s; n=$((n / 36)); done
	echo "${s}${d:$((RANDOM % 36)):1}"
}

# sys_netns_add NAME: create a namespace with lo up; removed at exit.
sys_netns_add() {
	ip netns add "$1" || return 1
	sys_cleanup_push ip netns del "$1"
	ip -n "$1" link set lo up
}

# sys_veth_add A B [NS_B]: a veth pair A (root ns) <-> B (moved into NS_B if given), both up.
# Deleting A at exit removes B too.
sys_veth_add() {
	local a=$1 b=$2 ns=${3:-}
	ip link add "$a" type veth peer name "$b" || return 1
	sys_cleanup_push ip link del "$a"
	if [ -n "$ns" ]; then ip link set "$b" netns "$ns" || return 1; fi
	ip link set "$a" up
	if [ -n "$ns" ]; then ip -n "$ns" link set "$b" up; else ip link set "$b" up; fi
}

# sys_in NS CMD...: run CMD in namespace NS ("" = root namespace).
sys_in() {
	local ns=$1; shift
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# sys_wait_port ADDR PORT [NS] [TIMEOUT_S]: wait until something listens on ADDR:PORT
# (TCP) in NS. Returns 0 when it does, 1 on timeout (default 5 s).
sys_wait_port() {
	local addr=$1 port=$2 ns=${3:-} t=${4:-5} i
	for ((i = 0; i < t * 20; i++)); do
		sys_in "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -qF "$addr" && return 0
		sys_in "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -qE '(\*|0\.0\.0\.0|\[::\]):' \
			&& return 0
		sleep 0.05
	done
	return 1
}

# sys_free_port [NS]: a TCP port no socket in NS uses, chosen by the kernel.
sys_free_port() {
	sys_in "${1:-}" "$SYS_PY" -c \
		'import socket; s=socket.socket(); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])'
}

# sys_kill_pid PID: stop a process this test started (TERM, then KILL after 2 s).
sys_kill_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null || true
}

# sys_tmpdir: a private directory in SYS_TMPDIR, removed at exit. Call it directly, not in
# $(...): a command substitution's subshell would lose the cleanup entry. World-readable so
# nginx workers (which drop root) can serve files from it.
sys_tmpdir() {
	SYS_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/ogsys.XXXXXX") || return 1
	sys_cleanup_push rm -rf "$SYS_TMPDIR"
	chmod 755 "$SYS_TMPDIR"
}

# sys_nginx_start DIR LISTEN ROOT [NS]: a foreground nginx (master + 1 worker) serving
# static files from ROOT on LISTEN ("10.1.2.3:8080" or "[fd00::1]:8080"; several
# separated by spaces), config, logs and pid under DIR, run in NS. Sets SYS_NGINX_PID and
# stops that PID at exit. Returns 1 when it does not listen within 5 s (error log printed
# as TAP diagnostics).
sys_nginx_start() {
	local dir=$1 listen=$2 root=$3 ns=${4:-} l first port
	mkdir -p "$dir/tmp"
	{
		echo "daemon off; master_process on; worker_processes 1; pid $dir/nginx.pid;"
		echo "error_log $dir/error.log warn;"
		echo "events { worker_connections 1024; }"
		echo "http { access_log $dir/access.log; sendfile on; keepalive_timeout 5s;"
		echo "  client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp;"
		echo "  fastcgi_temp_path $dir/tmp; uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;"
		echo "  default_type application/octet-stream;"
		echo "  server {"
		for l in $listen; do echo "    listen $l reuseport;"; done
		echo "    root $root; location / { }"
		echo "  }"
		echo "}"
	} >"$dir/nginx.conf"
	# Started directly (no function or subshell in between) so $! is nginx's master itself:
	# `ip netns exec` execs its command without forking.
	if [ -n "$ns" ]; then
		ip netns exec "$ns" nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" \
			>"$dir/stdout.log" 2>&1 &
	else
		nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
	fi
	SYS_NGINX_PID=$!
	sys_cleanup_push sys_kill_pid "$SYS_NGINX_PID"
	first=${listen%% *}
	port=${first##*:}
	if ! sys_wait_port "${first%:*}" "$port" "$ns" 5; then
		sed 's/^/# nginx: /' "$dir/error.log" "$dir/stdout.log" 2>/dev/null
		return 1
	fi
}

# sys_pin_dir: a private bpffs directory for a test's pinned maps in SYS_PIN
# ("/sys/fs/bpf/og-t<PID>"), removed (recursively) at exit. Does not create it (attach does).
# Call it directly, not in $(...), for the same reason as sys_tmpdir.
sys_pin_dir() {
	SYS_PIN=/sys/fs/bpf/og-t$$
	sys_cleanup_push rm -rf "$SYS_PIN"
}

# sys_subnet_pick: pick a free pair of IPv4 /24s for a private lab and export LAB_CLIENT_NET,
# LAB_ORIGIN_NET (first three octets) and LAB_CLIENT_NET6/LAB_ORIGIN_NET6 (/64 prefixes
# without the "::", e.g. fd00:204:1f).
# Tests use 10.204.N.0/24 (client) and 10.205.N.0/24 (origin) so they never collide with
# the default lab (10.203.1/2) or with each other (checked against the root namespace's
# addresses under a lock).
sys_subnet_pick() {
	local n i
	exec {_sys_lockfd}>/run/ordergate-lab.lock
	flock -w 10 "$_sys_lockfd" || true
	for ((i = 0; i < 50; i++)); do
		n=$((RANDOM % 250 + 2))
		ip -4 addr show | grep -qE "inet 10\.20[45]\.$n\." && continue
		# a claim whose owner died (kill -9 skips the trap) is stale and reusable
		if [ -e "/run/ordergate-lab.claim.$n" ] &&
			kill -0 "$(cat "/run/ordergate-lab.claim.$n" 2>/dev/null)" 2>/dev/null; then
			continue
		fi
		echo $$ >"/run/ordergate-lab.claim.$n"
		sys_cleanup_push rm -f "/run/ordergate-lab.claim.$n"
		export LAB_CLIENT_NET=10.204.$n LAB_ORIGIN_NET=10.205.$n
		export LAB_CLIENT_NET6=fd00:204:$(printf %x "$n") LAB_ORIGIN_NET6=fd00:205:$(printf %x "$n")
		flock -u "$_sys_lockfd"
		return 0
	done
	flock -u "$_sys_lockfd"
	return 1
}

# sys_lab_up [VAR=VALUE...]: a private deploy/lab (unique LAB_PREFIX, free subnets, no
# origin server, no attach unless LAB_ATTACH=1 is passed) torn down at exit. Exports the
# lab's names (LAB_NS_CLIENT, LAB_IF_CLIENT, LAB_GW4, LAB_CLIENT4, LAB_GW6, LAB_CLIENT6 ...,
# see `deploy/lab env`). Extra VAR=VALUE pairs go to deploy/lab (e.g. LAB_ORIGIN=nginx).
sys_lab_up() {
	local v
	export LAB_PREFIX=${LAB_PREFIX:-ogt$(sys_uid)} LAB_ATTACH=${LAB_ATTACH:-0}
	export LAB_ORIGIN=${LAB_ORIGIN:-none}
	for v in "$@"; do export "${v?}"; done
	[ -n "${LAB_CLIENT_NET:-}" ] || sys_subnet_pick || { echo "# no free lab subnet" ; return 1; }
	sys_cleanup_push "$SYS_ROOT/deploy/lab" down
	"$SYS_ROOT/deploy/lab" up | sed 's/^/# /'
	[ "${PIPESTATUS[0]}" -eq 0 ] || return 1
	eval "$("$SYS_ROOT/deploy/lab" env | sed 's/^/export /')"
}

# sys_diag TEXT: TEXT as TAP diagnostics, every line prefixed with "# " (tap.sh's diag
# prefixes only the first, and an unprefixed line could read as a test result).
sys_diag() {
	[ -n "$*" ] && printf '%s\n' "$*" | sed 's/^/# /'
	return 0
}

# sys_require_ctl: 1 (after a TAP skip plan naming what is missing) unless build/ordergatectl
# is built. Sets SYS_CTL to its path.
sys_require_ctl() {
	SYS_CTL=$SYS_BUILD/ordergatectl
	if [ ! -x "$SYS_CTL" ]; then
		echo "1..0 # SKIP $SYS_CTL not built (make build/ordergatectl)"
		return 1
	fi
}

# sys_curl NS URL [CURL-ARGS...]: GET URL from NS; prints the HTTP status ("000" when no
# answer). Default 3 s overall limit, 1 s to connect; body discarded.
sys_curl() {
	local ns=$1 url=$2; shift 2
	sys_in "$ns" curl -s -o /dev/null -w '%{http_code}' --connect-timeout 1 -m 3 "$@" "$url"
}

# sys_burst NS HOST PORT N: open N TCP connections at once from NS to HOST:PORT (IPv4 or
# IPv6), 1 s to complete; prints how many completed the handshake. Bounded: one second, N
# sockets.
sys_burst() {
	ip netns exec "$1" "$SYS_PY" - "$2" "$3" "$4" <<'PY'
import selectors, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
sel, socks = selectors.DefaultSelector(), []
for _ in range(n):
    s = socket.socket(fam); s.setblocking(False); s.connect_ex((host, port))
    sel.register(s, selectors.EVENT_WRITE); socks.append(s)
done, deadline = 0, time.monotonic() + 1.0
while socks and time.monotonic() < deadline:
    for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
        s = key.fileobj; sel.unregister(s); socks.remove(s)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0: done += 1
        s.close()
print(done)
PY
}

# sys_gw_server PORT...: after sys_lab_up, a Debian nginx in the root namespace on the
# gateway's client-facing addresses (LAB_GW4 and [LAB_GW6]) on each PORT, serving /ping
# ("pong"), /1k and /2m (1 KiB, 2 MiB). Sets SYS_NGINX_PID; stopped at exit.
sys_gw_server() {
	local p listen=""
	[ -n "${SYS_TMPDIR:-}" ] || sys_tmpdir || return 1
	mkdir -p "$SYS_TMPDIR/www"
	echo pong >"$SYS_TMPDIR/www/ping"
	head -c 1024 /dev/zero >"$SYS_TMPDIR/www/1k"
	head -c $((2 * 1024 * 1024)) /dev/zero >"$SYS_TMPDIR/www/2m"
	for p in "$@"; do listen+="$LAB_GW4:$p [$LAB_GW6]:$p "; done
	sys_nginx_start "$SYS_TMPDIR/nginx" "${listen% }" "$SYS_TMPDIR/www"
}

# Run directly (tests/run does: it runs every tests/system/*.sh), this file tests itself:
# the helpers above create what they say and the cleanup stack removes all of it.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ -z "${_SYS_SELFTEST:-}" ]; then
	_SYS_SELFTEST=1 # the subshells below source this file again: do not recurse
	. "$SYS_ROOT/tests/lib/tap.sh"
	sys_require_root || exit 0
	u=$(sys_uid)
	is "$([ ${#u} -le 6 ] && [ ${#u} -ge 2 ] && echo short)" short "sys_uid '$u' is 2..6 chars"
	(
		. "$SYS_ROOT/tests/system/lib.sh"
		sys_netns_add "ogl$u" && sys_veth_add "ogl${u}a" "ogl${u}b" "ogl$u" &&
			ip addr add 10.206.0.1/30 dev "ogl${u}a" &&
			ip -n "ogl$u" addr add 10.206.0.2/30 dev "ogl${u}b" || exit 1
		sys_tmpdir && d=$SYS_TMPDIR && mkdir -p "$d/www" && echo hello >"$d/www/hi" || exit 1
		port=$(sys_free_port "ogl$u")
		sys_nginx_start "$d/ngx" "10.206.0.2:$port" "$d/www" "ogl$u" || exit 2
		[ "$(curl -s -m 3 "http://10.206.0.2:$port/hi")" = hello ] || exit 3
		[ "$(cat "$d/ngx/nginx.pid")" = "$SYS_NGINX_PID" ] || exit 4 # $! is the master itself
		echo "$d $SYS_NGINX_PID" >"/tmp/ogl.$u"
	)
	ok $? "netns + veth + nginx in the netns answer over the link; SYS_NGINX_PID is the master"
	read -r d pid <"/tmp/ogl.$u" 2>/dev/null; rm -f "/tmp/ogl.$u"
	ok "$(ip netns list | grep -c "^ogl$u\b")" "the subshell's EXIT trap removed netns ogl$u"
	check "and the veth" -- bash -c "! ip link show ogl${u}a"
	check "and the nginx it started (pid $pid)" -- bash -c "[ -n '$pid' ] && ! kill -0 $pid"
	check "and its temp dir" -- test ! -e "${d:-/nonexistent}"
	(
		. "$SYS_ROOT/tests/system/lib.sh"
		sys_lab_up || exit 1
		echo "$LAB_PREFIX $LAB_NS_CLIENT $LAB_IF_CLIENT" >"/tmp/ogl.$u"
		ip netns exec "$LAB_NS_CLIENT" ping -c 1 -W 2 "$LAB_GW4" >/dev/null 2>&1 ||
			ip netns exec "$LAB_NS_CLIENT" bash -c "exec 3<>/dev/tcp/$LAB_GW4/9" 2>&1 |
			grep -q refused
	)
	ok $? "sys_lab_up: client namespace reaches the gateway address"
	read -r p nsc ifc <"/tmp/ogl.$u" 2>/dev/null; rm -f "/tmp/ogl.$u"
	check "sys_lab_up's lab $p is gone after exit" -- \
		bash -c "! ip netns list | grep -q '^$nsc' && ! ip link show $ifc"
	tap_done
fi

# sys_dp_begin: the start every datapath suite shares: skip (exit 0) without root or
# ordergatectl, one failed test and exit 1 when the lab does not come up, then a private
# pin directory in SYS_PIN.
sys_dp_begin() {
	sys_require_root || exit 0
	sys_require_ctl || exit 0
	sys_lab_up || { ok 1 "lab up"; tap_done; exit 1; }
	sys_pin_dir
}

# sys_dp_attach IF [DESC [ATTACH-ARGS...]]: attach ordergate natively on IF with the suite's pins (one test),
# detached and unpinned by the cleanup stack.
sys_dp_attach() {
	local out
	out=$("$SYS_CTL" attach "$1" --mode native --pin-path "$SYS_PIN" "${@:3}" 2>&1)
	ok $? "${2:-attach $1}"
	sys_diag "$out"
	sys_cleanup_push "$SYS_CTL" detach "$1" --purge --pin-path "$SYS_PIN"
}

# sys_drops REASON: the drop counter REASON summed over all lanes (`lanes --json`).
sys_drops() {
	"$SYS_CTL" lanes --json --pin-path "$SYS_PIN" 2>/dev/null |
		jq --arg r "$1" '[.. | objects | .[$r]? | numbers] | add // 0'
}
