#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# attach is idempotent, refuses a hook held by a foreign XDP program, and says why.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_dp_begin
IF=$LAB_IF_CLIENT
ctl() { "$SYS_CTL" "$@" --pin-path "$SYS_PIN"; }
sys_cleanup_push "$SYS_CTL" detach "$IF" --purge --pin-path "$SYS_PIN"
sys_cleanup_push "$SYS_CTL" detach "$LAB_IF_ORIGIN" --purge --pin-path "$SYS_PIN"
P=$(sys_free_port)
sys_gw_server "$P"
ok $? "nginx on the gateway side (port $P)"

xdp_id() { ip -j link show dev "$1" | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // 0'; }
count() { # count PATTERN: lines of tc filters on $IF matching PATTERN (ingress + egress)
	{ tc filter show dev "$IF" ingress; tc filter show dev "$IF" egress; } 2>/dev/null | grep -c "$1"
}

# --- idempotence --------------------------------------------------------------------
out=$(ctl attach "$IF" --mode native 2>&1); ok $? "first attach"; sys_diag "$out"
id1=$(xdp_id "$IF")
ok "$([ "$id1" != 0 ] && echo 0 || echo 1)" "an XDP program is on $IF (id $id1)"
out=$(ctl attach "$IF" --mode native 2>&1); ok $? "second attach succeeds too"; sys_diag "$out"
id2=$(xdp_id "$IF")
is "$(count og_tc_in)" 1 "exactly one og_tc_in filter after two attaches"
is "$(count og_tc_out)" 1 "exactly one og_tc_out filter after two attaches"
n=$(xdp-loader status "$IF" 2>/dev/null | grep -c 'og_xdp')
ok "$([ "$id2" != 0 ] && { [ "$n" -le 1 ] || [ "$id2" = "$id1" ]; } && echo 0 || echo 1)" \
	"one og_xdp on the hook (xdp-loader lists $n, prog id $id1 -> $id2)"
is "$(sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:$P/ping")" 200 "traffic passes"
st=$(ctl status 2>&1); ok $? "status"; sys_diag "$st"
echo "$st" | grep -q "$IF"; ok $? "status names $IF"
echo "$st" | grep -qiE 'dispatcher|multi|legacy|single'; ok $? "status says dispatcher or single program"
check "detach" -- ctl detach "$IF"

# --- a foreign legacy XDP program holds the hook --------------------------------------
mkdir -p "$SYS_BUILD/sys"
obj=$SYS_BUILD/sys/xdp_foreign.o
if [ ! -s "$obj" ]; then
	# A program ordergate does not know: passes everything. No headers needed.
	clang -O2 -g -target bpf -c -x c -o "$obj.$$" - <<'C' && mv "$obj.$$" "$obj"
__attribute__((section("xdp"), used)) int foreign_pass(void *ctx) { return 2; /* XDP_PASS */ }
char _license[] __attribute__((section("license"), used)) = "GPL";
C
fi
ip link set dev "$IF" xdpdrv obj "$obj" sec xdp
ok $? "set-up: a foreign program attached with ip link (legacy, native)"
sys_cleanup_push ip link set dev "$IF" xdpdrv off
fid=$(xdp_id "$IF")
out=$(ctl attach "$IF" --mode native 2>&1)
rc=$?
ok "$([ $rc -ne 0 ] && echo 0 || echo 1)" "attach refuses (rc $rc)"
sys_diag "$out"
echo "$out" | grep -qiE 'foreign|not ordergate|another|held|already|in use|busy'
ok $? "the message says another program holds the hook"
echo "$out" | grep -q "$IF"; ok $? "the message names $IF"
is "$(xdp_id "$IF")" "$fid" "the foreign program is untouched"
is "$(count og_tc_)" 0 "no TC filters were left behind by the refused attach"
ip link set dev "$IF" xdpdrv off

# --- a foreign program through libxdp's dispatcher (xdp-loader) -------------------------
if xdp-loader load -m native "$IF" "$obj" >/dev/null 2>&1; then
	sys_cleanup_push xdp-loader unload --all "$IF"
	# libxdp 1.3 on a recent kernel can fail its dispatcher compatibility check (freplace
	# EPERM) and fall back to a single legacy program: then this is a foreign hold too.
	if xdp-loader status "$IF" 2>&1 | grep -q xdp_dispatcher; then
		diag "xdp-loader used the multi-program dispatcher"
	else
		diag "xdp-loader fell back to a single legacy program (no dispatcher on this host)"
	fi
	out=$(ctl attach "$IF" --mode native 2>&1)
	rc=$?
	diag "attach beside xdp-loader's program: rc $rc: $out"
	if [ $rc -eq 0 ]; then
		xl=$(xdp-loader status "$IF" 2>&1)
		echo "$xl" | grep -q foreign_pass && echo "$xl" | grep -q og_xdp
		ok $? "joined the dispatcher: both programs run"
		check "detach" -- ctl detach "$IF"
		xdp-loader status "$IF" 2>&1 | grep -q foreign_pass
		ok $? "detach left the other dispatcher program in place"
		xdp-loader status "$IF" 2>&1 | grep -q og_xdp
		ok $((!$?)) "and removed og_xdp"
	else
		echo "$out" | grep -qiE 'foreign|not ordergate|another|held|already|in use|busy'
		ok $? "refused with a message naming the other program's hold"
		xdp-loader status "$IF" 2>&1 | grep -q foreign_pass
		ok $? "the other program is untouched"
	fi
	xdp-loader unload --all "$IF" >/dev/null 2>&1
else
	skip "xdp-loader could not load a program on $IF (libxdp dispatcher unavailable)"
fi

# --- generic mode on the other link, and a missing interface -------------------------------
out=$(ctl attach "$LAB_IF_ORIGIN" --mode generic 2>&1); ok $? "attach --mode generic on $LAB_IF_ORIGIN"
sys_diag "$out"
ip -d link show dev "$LAB_IF_ORIGIN" | grep -q 'xdpgeneric'; ok $? "the kernel shows xdpgeneric"
check "detach $LAB_IF_ORIGIN" -- ctl detach "$LAB_IF_ORIGIN"
out=$(ctl attach "nosuch$$" 2>&1)
rc=$?
ok "$([ $rc -ne 0 ] && echo 0 || echo 1)" "attach to a missing interface fails (rc $rc)"
echo "$out" | grep -q "nosuch$$"; ok $? "and names it: $out"

tap_done
