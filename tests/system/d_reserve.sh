#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# reserve_workers in the daemon: the order port listens only on the reserved worker, shared
# ports on every worker with og_reuseport attached, the other workers' threads run niced, and
# every port still answers from order and other sources (steering itself: test_reuseport).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_require_root || exit 0
D=${OG_DAEMON:-$SYS_BUILD/ordergated}
[ -x "$D" ] || { ok 1 "ordergated built"; tap_done; exit 1; }
sys_tmpdir
T=$SYS_TMPDIR
O=$(sys_free_port) B=$(sys_free_port) A=$(sys_free_port)
cat >"$T/og.yaml" <<YAML
workers: 3
listen: ["127.0.0.1:$O", "127.0.0.1:$B"]
admin: { listen: "127.0.0.1:$A" }
lanes:
  order: { reserve_workers: 1, others_nice: 10, match: { dst_ports: [$O], src_cidrs: ["127.0.0.2/32"] } }
routes:
  - match: { path: /ping }
    respond: { status: 200, body: "pong" }
YAML
"$D" -c "$T/og.yaml" 2>"$T/gw.err" &
GW=$!
sys_cleanup_push sys_kill_pid "$GW"
for _ in $(seq 100); do curl -s -o /dev/null -m 1 "http://127.0.0.1:$A/healthz" && break; sleep 0.05; done
grep -q 'event=reserve_workers reserved=1 workers=3 order_ports=1 order_src=1 nice=10' "$T/gw.err"
ok $? "ordergated starts with one reserved order worker"
is "$(ss -Hltn "sport = :$O" | wc -l)" 1 "order port :$O listens on the reserved worker only"
is "$(ss -Hltn "sport = :$B" | wc -l)" 3 "shared port :$B listens on all 3 workers"
m=$(curl -s -m 2 "http://127.0.0.1:$A/metrics")
echo "$m" | grep -q '^ordergate_reuseport_sockets 3$'
ok $? "the 3 shared-port listeners are in og_rp_socks (og_reuseport attached)"
ni=$(ps -L -o comm=,ni= -p "$GW" | awk '$1 ~ /^ogd-w/ { printf "%s=%s ", $1, $2 }')
is "$ni" "ogd-w0=0 ogd-w1=10 ogd-w2=10 " "worker threads: order worker at nice 0, the others at 10"
is "$(curl -s -m 2 "http://127.0.0.1:$O/ping")" pong "order port answers"
is "$(curl -s -m 2 --interface 127.0.0.2 "http://127.0.0.1:$B/ping")" pong \
	"shared port answers an order source (127.0.0.2)"
is "$(curl -s -m 2 "http://127.0.0.1:$B/ping")" pong "shared port answers another source"
# a reload that adds a shared port: it opens on every worker and joins og_rp_socks; the order
# port stays on the reserved worker
B2=$(sys_free_port)
sed -i "s|\"127.0.0.1:$B\"\]|\"127.0.0.1:$B\", \"127.0.0.1:$B2\"]|" "$T/og.yaml"
kill -HUP "$GW"
for _ in $(seq 100); do
	[ "$(ss -Hltn "sport = :$B2" | wc -l)" -eq 3 ] && break
	sleep 0.05
done
is "$(ss -Hltn "sport = :$B2" | wc -l) $(ss -Hltn "sport = :$O" | wc -l) $(ss -Hltn "sport = :$B" | wc -l)" \
	"3 1 3" "after a reload adding :$B2: 3 listeners there, still 1 on the order port, 3 on :$B"
curl -s -m 2 "http://127.0.0.1:$A/metrics" | grep -q '^ordergate_reuseport_sockets 6$'
ok $? "the new port's listeners joined og_rp_socks (6 sockets)"
is "$(curl -s -m 2 --interface 127.0.0.2 "http://127.0.0.1:$B2/ping")" pong "the new port answers"
kill -TERM "$GW"; wait "$GW"
is "$?" 0 "drains and exits 0"
tap_done
