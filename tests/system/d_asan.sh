#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The ordergated system suites again against the ASan+UBSan build: pass, and no sanitizer report.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/lib.sh
ASAN_BIN=${OG_DAEMON_ASAN:-$SYS_BUILD/ordergated-asan}
SUITES=${D_ASAN_SUITES:-d_methods d_keepalive d_admin d_failures d_lifecycle d_safety d_origin_fail d_idem d_fault d_fault_rt}
if [ ! -x "$ASAN_BIN" ]; then
	ok 1 "ASan daemon $ASAN_BIN exists (make asan)"
	tap_done
	exit 1
fi
# Raw read/write syscalls bypass ASan's interceptors: the sanitizer build must use libc's
# (lib/iow.h under OG_SAN). Its socket I/O then goes through __interceptor_read/write.
# capset has no glibc wrapper: privdrop's one call at start is not I/O and is allowed.
n=$(objdump -d "$ASAN_BIN" 2>/dev/null | awk '/^[0-9a-f]+ <.*>:$/ { fn = $2 }
	/call.*<syscall(@plt)?>/ && fn != "<privdrop>:" { n++; print fn > "/dev/stderr" } END { print n + 0 }')
is "$n" 0 "the ASan build makes no raw syscall() calls but privdrop's capset (I/O goes through libc)"
sys_tmpdir
logs=$SYS_TMPDIR
for s in $SUITES; do
	mkdir -p "$logs/$s"
	OG_DAEMON=$ASAN_BIN OG_STDERR_DIR=$logs/$s timeout -k 5 400 bash "tests/system/$s.sh" \
		>"$logs/$s.tap" 2>&1
	rc=$?
	nf=$(grep -c '^not ok' "$logs/$s.tap")
	np=$(grep -c '^ok' "$logs/$s.tap")
	grep '^not ok' "$logs/$s.tap" | head -20 | sed 's/^/# /'
	ok $([ "$rc" -eq 0 ] && [ "$nf" -eq 0 ] && [ "$np" -gt 0 ]; echo $?) \
		"$s passes against the ASan build ($np ok, $nf not ok, exit $rc)"
	nerr=$(ls "$logs/$s"/*.err 2>/dev/null | wc -l)
	ok $([ "$nerr" -gt 0 ]; echo $?) "$s: kept the stderr of $nerr daemon run(s)"
	rep=$(grep -lE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: (Address|Undefined|Leak)' \
		"$logs/$s"/*.err 2>/dev/null)
	for f in $rep; do
		grep -m3 -E 'ERROR: |runtime error:|SUMMARY:' "$f" | sed "s|^|# $(basename "$f"): |"
	done
	is "$(echo $rep | wc -w)" 0 "$s: no sanitizer report in any daemon's stderr"
done
tap_done
