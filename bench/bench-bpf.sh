#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bench-bpf: ns per packet of og_xdp/og_tc_out beside a trivial program and xdp-filter (BPF_PROG_TEST_RUN).
# Usage: bench/bench-bpf.sh   (root; BENCH_RUNS=7 BENCH_REPEAT=1000000 BUILD=build)
#   BENCH_BASE=REV   also measure og_xdp as of git revision REV (e.g. main, HEAD~3) in the same
#                    rounds, interleaved, and print both tables and their ratio (A/B)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${BENCH_RUNS:-7}
REPEAT=${BENCH_REPEAT:-1000000}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench-bpf: needs root (BPF_PROG_TEST_RUN); run: sudo make bench-bpf" >&2
	exit 1
fi

# bpf_bench embeds the skeleton, but the Makefile's bench rule does not know
# that: rebuild it whenever the skeleton is newer.
make -s "$BUILD/og.skel.h" "$BUILD/bench/trivial.bpf.o" "$BUILD/bench/floor.bpf.o"
if [ -e "$BUILD/bench/bpf_bench" ] && [ "$BUILD/og.skel.h" -nt "$BUILD/bench/bpf_bench" ]; then
	rm -f "$BUILD/bench/bpf_bench"
fi
make -s "$BUILD/bench/bpf_bench"

# xdp-filter's program from Debian xdp-tools: xdpfilt_alw_all.o is what
# `xdp-filter load` picks by default (allow policy, all features).
xf=""
for d in /usr/lib/*/bpf /usr/lib/bpf /usr/local/lib/bpf /usr/share/xdp-tools; do
	if [ -f "$d/xdpfilt_alw_all.o" ]; then
		xf="$d/xdpfilt_alw_all.o"
		break
	fi
done
args=(--trivial "$BUILD/bench/trivial.bpf.o" --floor "$BUILD/bench/floor.bpf.o" --runs "$RUNS" --repeat "$REPEAT")

# A/B: the base revision's bpf/ and include/ (git archive: no checkout, no worktree),
# compiled with its own -mcpu and otherwise the same flags against this machine's vmlinux.h into one object.
if [ -n "${BENCH_BASE:-}" ]; then
	base_dir=$(mktemp -d /tmp/og-bench-base.XXXXXX)
	trap 'rm -rf "$base_dir"' EXIT
	git archive "$BENCH_BASE" bpf include | tar -x -C "$base_dir"
	# The base's own -mcpu (v3 since its flow table's compare-and-swap), else clang's default.
	mcpu=$(git show "$BENCH_BASE:Makefile" | grep -o -m1 -- '-mcpu=v[0-9]' || true)
	objs=()
	for f in "$base_dir"/bpf/*.bpf.c; do
		o="$base_dir/$(basename "$f" .c).o"
		clang -g -O2 -target bpf $mcpu -D__TARGET_ARCH_x86 -Wall -Wno-unused-function \
			-I"$BUILD" -I"$base_dir/include" -I"$base_dir/bpf" -c "$f" -o "$o"
		objs+=("$o")
	done
	bpftool gen object "$base_dir/og.bpf.o" "${objs[@]}"
	args+=(--base "$base_dir/og.bpf.o")
	echo "bench-bpf: base = og_xdp at $BENCH_BASE ($(git rev-parse --short "$BENCH_BASE"))"
fi
if [ -n "$xf" ]; then
	args+=(--xdp-filter "$xf")
else
	echo "bench-bpf: xdp-filter's xdpfilt_alw_all.o not found (install xdp-tools: make deps);" \
		"its column stays empty" >&2
fi

out="$BUILD/bench/bpf-bench.txt"
{
	echo "# $(date -u +%FT%TZ) kernel $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	[ -n "$xf" ] && echo "# xdp-filter object: $xf"
	[ -n "${BENCH_BASE:-}" ] && echo "# base: og_xdp at $BENCH_BASE ($(git rev-parse --short "$BENCH_BASE"))"
	echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out"
set +e
"$BUILD/bench/bpf_bench" "${args[@]}" 2> >(grep -v 'skipping unrecognized data section' >&2) | tee -a "$out"
rc=${PIPESTATUS[0]}
set -e
echo "bench-bpf: table saved in $out"
exit "$rc"
