#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The operator-facing refusals of ordergatectl say what to do, and leave nothing behind:
# not root, bpffs not mounted, pins of an older layout, nothing pinned yet.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_dp_begin
IF=$LAB_IF_CLIENT
sys_cleanup_push "$SYS_CTL" detach "$IF" --purge --pin-path "$SYS_PIN"
sys_tmpdir

# refused RC OUT PATTERN DESC: the command failed and its message matches PATTERN.
refused() {
	local rc=$1 out=$2 pat=$3; shift 3
	[ "$rc" -ne 0 ] && echo "$out" | grep -qiE "$pat"
	ok $? "$* (rc $rc: $out)"
}
untouched() { # untouched DESC: no XDP program, no clsact on $IF
	! ip -d link show dev "$IF" | grep -q 'prog/xdp' && ! tc qdisc show dev "$IF" | grep -q clsact
	ok $? "$*: $IF untouched"
}

# --- not root ------------------------------------------------------------------------
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$SYS_CTL" attach "$IF" --pin-path "$SYS_PIN" 2>&1)
refused $? "$out" 'root' "attach as nobody is refused and says it needs root"
untouched "after the refused attach as nobody"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$SYS_CTL" lanes --pin-path "$SYS_PIN" 2>&1)
refused $? "$out" 'root' "lanes as nobody says it needs root"

# --- pin path not on bpffs -----------------------------------------------------------
out=$("$SYS_CTL" attach "$IF" --pin-path "$SYS_TMPDIR/pins" 2>&1)
refused $? "$out" 'bpf ?f(ile)?s|mount -t bpf' "attach with pins outside bpffs names bpffs and the mount command"
untouched "after the refused attach outside bpffs"
test ! -e "$SYS_TMPDIR/pins"; ok $? "nothing created under the non-bpffs path"

# --- nothing pinned yet ---------------------------------------------------------------
out=$("$SYS_CTL" flows --pin-path "$SYS_PIN" 2>&1)
refused $? "$out" 'attach' "flows before any attach says to attach first"
out=$("$SYS_CTL" block 10.9.9.9/32 --pin-path "$SYS_PIN" 2>&1)
refused $? "$out" 'attach' "block before any attach says to attach first"

# --- pins of an older layout -------------------------------------------------------------
# A map named og_flows with the wrong value size stands for a pin left by an older build.
mkdir -p "$SYS_PIN"
bpftool map create "$SYS_PIN/og_flows" type hash key 40 value 8 entries 16 name og_flows
ok $? "set-up: an og_flows pin with an 8-byte value (an older layout)"
out=$("$SYS_CTL" attach "$IF" --pin-path "$SYS_PIN" 2>&1)
refused $? "$out" 'layout|older|mismatch|abi' "attach refuses pins of another layout"
echo "$out" | grep -qE -- '--purge|unpin|rm '; ok $? "and says how to fix it (--purge or unpin)"
untouched "after the refused attach on old pins"
out=$("$SYS_CTL" lanes --pin-path "$SYS_PIN" 2>&1)
refused $? "$out" 'layout|older|mismatch|abi' "map commands refuse the old layout too"
out=$("$SYS_CTL" detach "$IF" --purge --pin-path "$SYS_PIN" 2>&1)
ok $? "detach --purge clears the old pins ($out)"
test ! -e "$SYS_PIN/og_flows"; ok $? "the old og_flows pin is gone"
out=$("$SYS_CTL" attach "$IF" --pin-path "$SYS_PIN" 2>&1)
ok $? "attach now succeeds ($out)"
sys_curl "$LAB_NS_CLIENT" "http://$LAB_GW4:9/" >/dev/null # nothing listens: SYN + RST, just traffic
rx=$("$SYS_CTL" lanes --json --pin-path "$SYS_PIN" | jq '[.lanes[].rx_pkts] | add')
ok "$([ "${rx:-0}" -gt 0 ] && echo 0 || echo 1)" "the fresh datapath counts packets ($rx)"

# --- bad arguments ----------------------------------------------------------------------
out=$("$SYS_CTL" attach "$IF" --mode turbo --pin-path "$SYS_PIN" 2>&1)
refused $? "$out" 'native|generic' "--mode turbo is refused, listing the valid modes"
out=$("$SYS_CTL" port-lane 70000 order --pin-path "$SYS_PIN" 2>&1)
refused $? "$out" 'port|65535' "port-lane 70000 is refused"
out=$("$SYS_CTL" port-lane 9443 fast --pin-path "$SYS_PIN" 2>&1)
refused $? "$out" 'order|lane' "an unknown lane name is refused"
out=$("$SYS_CTL" qdisc apply "$IF" --rate lots 2>&1)
refused $? "$out" 'rate' "qdisc apply --rate lots is refused"

tap_done
