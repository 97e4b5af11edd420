#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make bench-bpf still runs end to end: every row measured, the admission's floor beside it,
# and an A/B against a base revision (BENCH_BASE) built and measured in the same rounds.
#
# One round of a few repeats: this checks that the bench works, never how fast anything is
# (the figures come from `make bench-bpf` on a quiet machine, docs/benchmarks.md).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
sys_require_root || exit 0
BUILD=${BUILD:-build}

# A number in the median column of row $1 of table $2 (the text before the first blank line
# after its title).
row_ns() {
	awk -v row="$1" -v t="$2" '
		index($0, t) == 1 { in_t = 1; next }
		in_t && /^$/ { exit }
		in_t && index($0, row) == 1 { print substr($0, length(row) + 1); exit }' "$3" |
		awk '{ print $1 }'
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
base=""
git rev-parse -q --verify HEAD >/dev/null 2>&1 && base=HEAD
BUILD=$BUILD BENCH_RUNS=1 BENCH_REPEAT=2000 BENCH_BASE=$base timeout 600 bash bench/bench-bpf.sh >"$out" 2>&1
rc=$?
# 3: ran, and a goal failed (one round of 2000 repeats on a busy machine may); else broken.
ok "$([ $rc -eq 0 ] || [ $rc -eq 3 ] && echo 0 || echo 1)" "bench-bpf ran (rc $rc, 0 or 3)"
[ $rc -eq 0 ] || [ $rc -eq 3 ] || sed 's/^/# /' "$out" | tail -40

for row in "og_xdp known flow" "og_xdp block drop" "og_xdp throttle drop" \
	"og_xdp new flow under flood (random src)" "og_xdp handshake storm (SYN, admitting ACK)" \
	"og_xdp new flow, 2nd packet (admitted)" "floor: parse + hash, one-shot" \
	"floor: + directory read (miss), one-shot" "floor: + og_flow_insert, one-shot" \
	"og_tc_out known flow"; do
	v=$(row_ns "$row" "og_xdp (this build)" "$out")
	[[ "$v" =~ ^[0-9]+\.[0-9]$ ]] && [ "${v%.*}" -gt 0 ]
	ok $? "this build: '$row' measured ($v ns)"
done
grep -qE '^    its floor \(parse, hash, og_flow_insert alone\): median [0-9.]+' "$out"
ok $? "the admission goal line carries its floor"

if [ -z "$base" ]; then
	skip "no git history: no BENCH_BASE A/B"
else
	grep -q "^bench-bpf: base = og_xdp at HEAD" "$out"
	ok $? "BENCH_BASE=HEAD built (its own -mcpu)"
	v=$(row_ns "og_xdp new flow, 2nd packet (admitted)" "base (--base object" "$out")
	[[ "$v" =~ ^[0-9]+\.[0-9]$ ]]
	ok $? "base: the admission measured in the same rounds ($v ns)"
	grep -qE '^  og_xdp new flow, 2nd packet \(admitted\) +[0-9.]+ +\(' "$out"
	ok $? "A/B ratio printed for the admission"
fi
tap_done
