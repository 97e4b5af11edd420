#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# tune/check and tune/apply: the table, the exit status, and a real apply in a private netns.
#
# net.* sysctls are per network namespace, so tune/apply writes for real inside a netns
# this test creates and the host is never changed; the root namespace is compared before
# and after to prove it.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_require_root || exit 0

KEYS="net.core.somaxconn net.ipv4.tcp_max_syn_backlog net.ipv4.ip_local_port_range net.ipv4.tcp_tw_reuse"
host_vals() { for k in $KEYS; do printf '%s=%s; ' "$k" "$(sysctl -n "$k" | tr -s '\t ' ' ')"; done; }
host0=$(host_vals)

# --- the shipped profile parses and every value carries a level and a why --------------
out=$(tune/check 2>&1); rc=$?
ok "$([ $rc -le 1 ] && echo 0 || echo 1)" "tune/check runs on the shipped profile (rc $rc)"
for k in net.core.somaxconn net.ipv4.tcp_max_syn_backlog net.ipv4.ip_local_port_range \
	net.ipv4.tcp_tw_reuse net.core.netdev_max_backlog net.core.busy_poll net.core.busy_read \
	net.core.rmem_max net.core.wmem_max net.ipv4.tcp_rmem net.ipv4.tcp_wmem fs.file-max nofile; do
	echo "$out" | grep -q "^$k"; ok $? "check lists $k"
done
nreq=$(echo "$out" | awk 'NF >= 2 && $(NF-1) == "required" && $NF != "ok"' | wc -l)
if [ "$nreq" -gt 0 ]; then is "$rc" 1 "exit 1 with $nreq required value(s) off"; else is "$rc" 0 "exit 0: all required hold"; fi
n_set=$(grep -cE '^[a-z]' tune/sysctl.conf)
n_why=$(grep -cE '^# \[(required|advisory) (>=|<=|=|range)\] [^ ]' tune/sysctl.conf)
is "$n_why" "$n_set" "every setting in tune/sysctl.conf has a [level op] why-comment"

# --- a profile with a deliberately wrong required value fails, an advisory one does not ----
sys_tmpdir
cur=$(sysctl -n net.ipv4.tcp_syncookies)
printf '# [required =] test\nnet.ipv4.tcp_syncookies = %s\n' "$cur" >"$SYS_TMPDIR/ok.conf"
printf '# [required =] test\nnet.ipv4.tcp_syncookies = %s\n' "$((cur + 7))" >"$SYS_TMPDIR/bad.conf"
printf '# [advisory =] test\nnet.ipv4.tcp_syncookies = %s\n' "$((cur + 7))" >"$SYS_TMPDIR/adv.conf"
printf 'net.ipv4.tcp_syncookies = 1\n' >"$SYS_TMPDIR/nowhy.conf"
tune/check --profile "$SYS_TMPDIR/ok.conf" >/dev/null; is $? 0 "required value that holds: exit 0"
tune/check --profile "$SYS_TMPDIR/bad.conf" >/dev/null; is $? 1 "required value that is off: exit 1"
tune/check --profile "$SYS_TMPDIR/adv.conf" >/dev/null; is $? 0 "advisory value that is off: still exit 0"
out=$(tune/check --profile "$SYS_TMPDIR/nowhy.conf" 2>&1); rc=$?
is "$rc" 2 "a setting without its [level op] line is refused"
echo "$out" | grep -q "nowhy.conf:1:"; ok $? "naming file:line ($out)"

# --- dry run changes nothing ----------------------------------------------------------
out=$(tune/apply --dry-run 2>&1); ok $? "tune/apply --dry-run exits 0"
echo "$out" | grep -qE '^(would +sysctl -w |keep +)net.core.somaxconn'; ok $? "dry run reports somaxconn"
is "$(host_vals)" "$host0" "dry run left the host unchanged"

# --- a real apply inside a private network namespace ----------------------------------------
NS=ogtune$(sys_uid)
sys_netns_add "$NS"
printf '%s\n' "# [required >=] t" "net.core.somaxconn = 65535" \
	"# [required >=] t" "net.ipv4.tcp_max_syn_backlog = 65535" \
	"# [required range] t" "net.ipv4.ip_local_port_range = 10240 65535" \
	"# [required =] t" "net.ipv4.tcp_tw_reuse = 1" >"$SYS_TMPDIR/netns.conf"
ip netns exec "$NS" tune/check --profile "$SYS_TMPDIR/netns.conf" >/dev/null
is $? 1 "fresh netns: check finds the required values off"
out=$(ip netns exec "$NS" tune/apply --profile "$SYS_TMPDIR/netns.conf" 2>&1)
ok $? "tune/apply in the netns"; sys_diag "$out"
ip netns exec "$NS" tune/check --profile "$SYS_TMPDIR/netns.conf" >/dev/null
is $? 0 "after apply: check passes in the netns"
is "$(ip netns exec "$NS" sysctl -n net.core.somaxconn)" 65535 "somaxconn in the netns is 65535"
out=$(ip netns exec "$NS" tune/apply --profile "$SYS_TMPDIR/netns.conf" 2>&1)
echo "$out" | grep -q '^set'; ok $((!$?)) "a second apply changes nothing (idempotent)"
# apply never lowers: a higher value stays.
ip netns exec "$NS" sysctl -qw net.core.somaxconn=100000
ip netns exec "$NS" tune/apply --profile "$SYS_TMPDIR/netns.conf" >/dev/null 2>&1
is "$(ip netns exec "$NS" sysctl -n net.core.somaxconn)" 100000 "apply keeps a value already above the profile"
is "$(host_vals)" "$host0" "the root namespace is unchanged"

# --- irq-affinity dry run, when present ------------------------------------------------
if [ -x tune/irq-affinity ]; then
	aff0=$(cat /proc/irq/*/smp_affinity_list 2>/dev/null | md5sum)
	out=$(tune/irq-affinity --dry-run 2>&1); ok $? "tune/irq-affinity --dry-run exits 0"
	sys_diag "$out"
	out=$(tune/irq-affinity --dry-run --cpus 0 2>&1)
	q=$(echo "$out" | awk 'NR > 1 && $NF != "queue)" && $4 != "0"' | wc -l)
	is "$q" 0 "--cpus 0: every queue IRQ is proposed for CPU 0"
	is "$(cat /proc/irq/*/smp_affinity_list 2>/dev/null | md5sum)" "$aff0" "dry runs left IRQ affinities alone"
	out=$(tune/irq-affinity lo --dry-run 2>&1); ok $? "lo: nothing to do, exit 0 ($out)"
	tune/irq-affinity "nosuch$$" --dry-run >/dev/null 2>&1; is $? 2 "a missing interface: exit 2"
fi

tap_done
