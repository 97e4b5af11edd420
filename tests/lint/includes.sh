#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ordergated's include direction (docs/architecture.md): each folder of user/ includes only the
# folders below it, so a change low in the stack never needs one above it. One TAP line per folder.
#   lib <- http <- config <- core <- {front <-> proxy} <- lanes <- ops
# Usage: tests/lint/includes.sh [ROOT]   (ROOT: a tree to check, default this repository)
set -u
cd "${1:-$(dirname "$0")/../..}" || exit 1
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

# folder -> the folders of user/ its files may include (besides its own)
declare -A MAY=(
	[lib]=""
	[http]="lib"
	[config]="lib http"
	[core]="lib http config"
	[front]="lib http config core proxy"
	[proxy]="lib http config core front"
	[lanes]="lib http config core front proxy dp"
	[ops]="lib http config core front proxy lanes dp"
)

for dir in user/*/; do
	f=$(basename "$dir")
	case $f in dp | ctl) continue ;; esac # separate programs/libraries with their own rules
	if [ -z "${MAY[$f]+set}" ]; then
		ok 1 "user/$f/ is a known folder (add it to tests/lint/includes.sh and docs/architecture.md)"
		continue
	fi
	bad=""
	# every quoted include that names a user/ folder: "folder/file.h"
	while IFS=: read -r file line inc; do
		to=${inc%%/*}
		[ "$to" = "$f" ] && continue
		[ -d "user/$to" ] || continue # include/ordergate/..., build/og.skel.h, ...
		case " ${MAY[$f]} " in *" $to "*) continue ;; esac
		bad+="$file:$line includes $inc; "
	done < <(grep -HnoE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[^"]+"' "$dir"*.[ch] 2>/dev/null |
		sed -E 's/^([^:]+):([0-9]+):.*"([^"]+)"/\1:\2:\3/')
	[ -z "$bad" ]
	ok $? "user/$f/ includes only ${MAY[$f]:-nothing of the daemon}${bad:+ — $bad}"
done
tap_done
