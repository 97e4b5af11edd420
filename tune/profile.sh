# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Profile parser and comparisons shared by tune/check and tune/apply (source it).
#
# tune_load FILE fills the arrays T_NAME, T_VALUE, T_LEVEL (required|advisory) and T_OP
# (>=, <=, =, range) from a sysctl profile whose settings are each preceded by a
# "# [LEVEL OP] why..." comment line (see tune/sysctl.conf). A setting without that line
# is refused: every value in the profile must say how it is judged.

T_NAME=() T_VALUE=() T_LEVEL=() T_OP=()

# tune_load FILE: parse; prints "FILE:LINE: problem" and returns 1 on a malformed profile.
tune_load() {
	local file=$1 line n=0 level="" op="" name value re='^#[[:space:]]*\[(required|advisory)[[:space:]]+(>=|<=|=|range)\]'
	[ -r "$file" ] || { echo "$file: cannot read the profile" >&2; return 1; }
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		if [[ $line =~ $re ]]; then
			level=${BASH_REMATCH[1]} op=${BASH_REMATCH[2]}
			continue
		fi
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		if [[ ! $line =~ ^[[:space:]]*([a-z0-9_.-]+)[[:space:]]*=[[:space:]]*(.*[^[:space:]])[[:space:]]*$ ]]; then
			echo "$file:$n: expected 'name = value', got: $line" >&2
			return 1
		fi
		name=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
		if [ -z "$level" ]; then
			echo "$file:$n: $name has no '# [required|advisory OP]' line above it" >&2
			return 1
		fi
		T_NAME+=("$name") T_VALUE+=("$(echo $value)") T_LEVEL+=("$level") T_OP+=("$op")
		level="" op=""
	done <"$file"
}

# tune_current NAME: the running value with whitespace squeezed, or empty when the key
# does not exist here (e.g. a net.* key hidden in a container).
tune_current() {
	local v
	v=$(sysctl -n "$1" 2>/dev/null) || return 0
	echo $v
}

# tune_ok OP CURRENT RECOMMENDED: 0 when CURRENT satisfies RECOMMENDED under OP.
tune_ok() {
	local op=$1 cur rec i
	read -ra cur <<<"$2"
	read -ra rec <<<"$3"
	[ ${#cur[@]} -gt 0 ] || return 1
	case $op in
	=) [ "${cur[*]}" = "${rec[*]}" ] ;;
	">=" | "<=")
		[ ${#cur[@]} -eq ${#rec[@]} ] || return 1
		for i in "${!rec[@]}"; do
			[[ ${cur[$i]} =~ ^[0-9]+$ ]] || return 1
			if [ "$op" = ">=" ]; then
				[ "${cur[$i]}" -ge "${rec[$i]}" ] || return 1
			else
				[ "${cur[$i]}" -le "${rec[$i]}" ] || return 1
			fi
		done ;;
	range) [ ${#cur[@]} -eq 2 ] && [ "${cur[0]}" -le "${rec[0]}" ] && [ "${cur[1]}" -ge "${rec[1]}" ] ;;
	*) return 1 ;;
	esac
}

# tune_target OP CURRENT RECOMMENDED: the value apply writes. For >= and <= it keeps any
# field that is already better (apply never lowers a raised limit); otherwise the
# recommended value.
tune_target() {
	local op=$1 cur rec out=() i
	read -ra cur <<<"$2"
	read -ra rec <<<"$3"
	if [ "$op" = ">=" ] || [ "$op" = "<=" ]; then
		if [ ${#cur[@]} -eq ${#rec[@]} ]; then
			for i in "${!rec[@]}"; do
				if [[ ${cur[$i]} =~ ^[0-9]+$ ]] &&
					{ { [ "$op" = ">=" ] && [ "${cur[$i]}" -gt "${rec[$i]}" ]; } ||
					  { [ "$op" = "<=" ] && [ "${cur[$i]}" -lt "${rec[$i]}" ]; }; }; then
					out+=("${cur[$i]}")
				else
					out+=("${rec[$i]}")
				fi
			done
			echo "${out[*]}"
			return
		fi
	fi
	echo "${rec[*]}"
}
