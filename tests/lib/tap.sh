# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# TAP helpers for shell tests (source this file); tests/run counts the lines.
_tap_n=0
_tap_failed=0
ok() { # ok COND-EXIT-CODE DESCRIPTION...  e.g.  ok $? "curl got 200"
	local rc=$1; shift
	_tap_n=$((_tap_n + 1))
	# a description ending in "# TODO reason" is a known failure: reported, not counted as failed
	if [ "$rc" -eq 0 ]; then echo "ok $_tap_n - $*"; else echo "not ok $_tap_n - $*"; [[ $* == *"# TODO"* ]] || _tap_failed=$((_tap_failed + 1)); fi
}
check() { # check DESCRIPTION -- COMMAND...   runs COMMAND, ok when it exits 0
	local desc=$1; shift; [ "$1" = "--" ] && shift
	"$@" >/dev/null 2>&1; ok $? "$desc"
}
is() { # is GOT WANT DESCRIPTION
	local got=$1 want=$2; shift 2
	[ "$got" = "$want" ]; local rc=$?
	ok $rc "$* (got '$got', want '$want')"
}
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $*"; }
diag() { echo "# $*"; }
tap_done() { echo "1..$_tap_n"; [ "$_tap_failed" -eq 0 ]; }
# free_port: an unused TCP port on loopback, chosen by the kernel.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
