#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Runtime fault overrides (POST /faults): token, bad input, delay and abort on a route without a
# fault: section, GET /faults and counts, an override replaces the config's fault, SIGHUP keeps
# it (by name, not position), ttl_ms=0 removes it and it lapses at its TTL.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_begin
d_origin_o1

TOKEN=og-faults-token-$RANDOM$RANDOM-abcdef
printf '%s\n' "$TOKEN" >"$D_TMP/token"
chmod 600 "$D_TMP/token"
AUTH="Authorization: Bearer $TOKEN"
conf() { # conf EXTRA_ROUTE TOKEN_LINE: EXTRA_ROUTE first moves every other route one down
	cat <<EOF
workers: 2
listen: ["127.0.0.1:$D_GW_PORT"]
admin: { listen: "127.0.0.1:$D_ADMIN_PORT"$2 }
upstreams:
  o: { servers: ["127.0.0.1:$D_O1_PORT"] }
routes:
$1
  - { name: ping, match: { path: /ping }, respond: { body: pong } }
  - name: cfgabort
    match: { path_prefix: /cfgabort/ }
    upstream: o
    fault: { abort_status: 500, abort_percent: 100 }
  - name: plain
    match: { path_prefix: / }
    upstream: o
EOF
}
TOK=", token_file: \"$D_TMP/token\""
conf "" "$TOK" >"$D_TMP/gw.yaml"
d_gw_start gw "$D_TMP/gw.yaml"
ok $? "gateway starts"
LOG=$(d_origin_log o1)
origin_count() { grep -c " $1" "$LOG" | tr -d ' '; }
faults() { curl -s --max-time 5 "$(d_admin /faults)"; }
# post QUERY [CURL ARGS...]: POST /faults?QUERY with the token; prints "CODE BODY" (one line)
post() {
	local q=$1 out
	shift
	out=$(curl -s --max-time 5 -w '\n%{http_code}' -X POST -H "$AUTH" "$@" "$(d_admin "/faults$q")")
	echo "${out##*$'\n'} $(echo "${out%$'\n'*}" | tr '\n' ' ')"
}
# req PATH: "CODE REASON MS" of one request through the gateway
req() {
	local h=$D_TMP/h.$BASHPID code t
	read -r code t < <(curl -s --max-time 10 -o /dev/null -D "$h" -w '%{http_code} %{time_total}\n' "$(d_gw "$1")")
	echo "$code $(tr -d '\r' <"$h" | awk -F': ' 'tolower($1) == "x-ordergate-reason" { print $2 }')-" \
		"$(awk -v s="$t" 'BEGIN { printf "%d", s * 1000 }')"
}

# --- before: the config's fault is listed, nothing overridden ---------------------------------------
f=$(faults)
is "$(echo "$f" | jq -c '[.overrides, [.routes[].route], .routes[0].config.abort_percent, .routes[0].override]')" \
	'[0,["cfgabort"],100,null]' "GET /faults: the config's fault, no override ($f)"
read -r code _ ms <<<"$(req /pre/1)"
is "$code" 200 "a request on route plain: 200 from the origin ($ms ms)"

# --- the token ---------------------------------------------------------------------------------------
is "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST "$(d_admin '/faults?route=plain&abort_percent=100&ttl_ms=60000')")" \
	401 "POST /faults without the admin token: 401"
is "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong-token-0123456789' -X POST "$(d_admin '/faults?route=plain&abort_percent=100&ttl_ms=60000')")" \
	401 "... with a wrong token: 401"

# --- bad input: 400 with the reason --------------------------------------------------------------------
bad() { # bad WANT QUERY [CURL ARGS...]
	local want=$1 r
	shift
	r=$(post "$@")
	ok $([[ ${r%% *} == 400 && $r == *"$want"* ]]; echo $?) "400 naming '$want': $r"
}
bad 'unknown route "nope"' '?route=nope&abort_percent=10&ttl_ms=1000'
bad 'upstream routes only' '?route=ping&abort_percent=10&ttl_ms=1000'
bad '"abort_percent" is too large' '?route=plain&abort_percent=101&ttl_ms=1000'
bad 'may not exceed' '?route=plain&delay_ms=100&delay_jitter_ms=200&ttl_ms=1000'
bad '200..599' '?route=plain&abort_status=99&abort_percent=10&ttl_ms=1000'
bad 'ttl_ms is required' '?route=plain&abort_percent=10'
bad '"ttl_ms" is too large' '?route=plain&abort_percent=10&ttl_ms=3600001'
bad 'unknown key "bogus"' '?route=plain&bogus=1&ttl_ms=1000'
bad 'non-negative integer' '?route=plain&delay_ms=abc&ttl_ms=1000'
bad 'route is required' '?abort_percent=10&ttl_ms=1000'
bad 'flat JSON object' '' -d '{"route":"plain",'
is "$(faults | jq .overrides)" 0 "nothing refused was applied"

# --- delay (JSON body) -----------------------------------------------------------------------------------
r=$(post '' -d '{"route":"plain","delay_ms":300,"ttl_ms":60000}')
is "$(echo "${r#* }" | jq -c '.routes[] | select(.route == "plain") | [.override.delay_ms, .override.delay_percent, .override.ttl_ms > 55000, .config]')" \
	'[300,100,true,null]' "POST /faults (JSON) delay 300 ms: answered with GET /faults (${r%% *})"
lo=100000 hi=0 codes=""
for ((i = 0; i < 6; i++)); do
	read -r code _ ms <<<"$(req /d/$i)"
	codes+=$code
	((ms < lo)) && lo=$ms
	((ms > hi)) && hi=$ms
done
is "$codes" 200200200200200200 "6 requests on the delayed route: 200 from the origin"
ok $([ "$lo" -ge 290 ] && [ "$hi" -le 3000 ]; echo $?) "each took the delay (curl time_total $lo .. $hi ms, 300 ms asked)"
is "$(origin_count /d/)" 6 "the origin saw every delayed request"
is "$(faults | jq -c '.routes[] | select(.route == "plain") | [.injected.delays, .injected.delay_ms]')" \
	"[6,1800]" "GET /faults counts them: 6 delays, 1800 ms"

# --- abort (query arguments): replaces the delay ---------------------------------------------------------
r=$(post '?route=plain&abort_percent=100&ttl_ms=60000')
is "${r%% *}" 200 "POST /faults?route=plain&abort_percent=100: 200"
out=""
for ((i = 0; i < 10; i++)); do
	read -r code why ms <<<"$(req /ab/$i)"
	out+="$code:$why "
	((ms > 250)) && out+="(slow $ms ms) "
done
is "$out" "$(printf '503:fault-abort- %.0s' {1..10})" "10 requests: 503 with x-ordergate-reason fault-abort, none delayed"
is "$(origin_count /ab/)" 0 "... and none reached the origin"
is "$(faults | jq -c '.routes[] | select(.route == "plain") | [.override.abort_percent, .override.abort_status, .override.delay_ms, .injected.aborts]')" \
	"[100,503,0,10]" "GET /faults: the override (503, 100 %, no delay) and 10 aborts"
is "$(d_metric 'ordergate_fault_aborts_total{route="plain"}')" 10 "metrics: ordergate_fault_aborts_total{route=plain} 10"

# --- an override replaces the config's fault while it lasts -------------------------------------------------
is "$(req /cfgabort/1 | cut -d' ' -f1)" 500 "route cfgabort: its config aborts with 500"
r=$(post '?route=cfgabort&ttl_ms=60000')
is "$(req /cfgabort/2 | cut -d' ' -f1) ${r%% *}" "200 200" "an override without faults lifts it: 200 from the origin"
r=$(post '?route=cfgabort&ttl_ms=0')
is "$(req /cfgabort/3 | cut -d' ' -f1) ${r%% *}" "500 200" "ttl_ms=0 removes the override: the config's 500 again"

# --- SIGHUP: the override follows the route's name to its new position ---------------------------------------
gen=$(d_metric ordergate_config_generation)
conf "  - { name: extra, match: { path_prefix: /extra/ }, upstream: o }" "$TOK" >"$D_TMP/gw.yaml"
kill -HUP "${D_GW_PID[gw]}"
for ((i = 0; i < 100; i++)); do
	g=$(d_metric ordergate_config_generation)
	[ -n "$g" ] && [ "$g" != "$gen" ] && break
	sleep 0.05
done
ok $([ -n "$g" ] && [ "$g" != "$gen" ]; echo $?) "SIGHUP: a new generation ($gen -> $g), every route moved one down"
for ((i = 0; i < 100; i++)); do # every worker on the new generation
	[ "$(curl -s --max-time 5 "$(d_admin /metrics)" | awk '$1 ~ /^ordergate_worker_config_generation/ && $2 != '"$g"'' | wc -l)" = 0 ] && break
	sleep 0.05
done
out=""
for ((i = 0; i < 10; i++)); do out+="$(req /ab2/$i | cut -d' ' -f1-2) "; done
is "$out" "$(printf '503 fault-abort- %.0s' {1..10})" "after the reload route plain still aborts"
is "$(req /extra/1 | cut -d' ' -f1) $(req /cfgabort/4 | cut -d' ' -f1)" "200 500" \
	"... and the routes now at its old positions do not (extra 200, cfgabort its own 500)"
is "$(faults | jq -c '[.overrides, (.routes[] | select(.route == "plain") | .override.abort_percent)]')" \
	"[1,100]" "GET /faults after the reload: the override is there"

# --- reloads in a row: no request on any generation slips past the override ----------------------------
gen=$(d_metric ordergate_config_generation)
(for ((i = 0; i < 30; i++)); do kill -HUP "${D_GW_PID[gw]}"; sleep 0.02; done) &
storm=$!
out=""
urls=()
for ((i = 0; i < 20; i++)); do urls+=(-o /dev/null "$(d_gw /storm/$i)"); done
for ((i = 0; i < 100; i++)); do # batches of 20 on a keep-alive connection until the storm ends
	out+="$(curl -s --max-time 5 -w '%{http_code} ' "${urls[@]}")"
	kill -0 "$storm" 2>/dev/null || break
done
wait "$storm"
g=$(d_metric ordergate_config_generation)
n=$(echo "$out" | wc -w)
sys_diag "storm: $n requests during $((g - gen)) reloads: $(echo "$out" | tr ' ' '\n' | sort | uniq -c | tr '\n' ' ')"
ok $([ $((g - gen)) -ge 10 ] && [ "$n" -ge 20 ]; echo $?) "a storm of reloads ($gen -> $g) under requests ($n)"
is "$(echo "$out" | tr ' ' '\n' | grep -v '^$' | sort -u | tr -d '\n')" 503 "... every request was aborted: none slipped past the override"
is "$(origin_count /storm/)" 0 "... and none reached the origin"

# --- ttl_ms=0 removes it ------------------------------------------------------------------------------------------
r=$(post '?route=plain&ttl_ms=0')
read -r code _ ms <<<"$(req /after/1)"
is "${r%% *} $code" "200 200" "ttl_ms=0 removes the override: 200 from the origin ($ms ms)"
is "$(faults | jq -c '[.overrides, (.routes[] | select(.route == "plain") | .override)]')" "[0,null]" \
	"GET /faults: no override (the counts stay)"

# --- it lapses at its TTL ------------------------------------------------------------------------------------------
t0=$(date +%s%N)
r=$(post '?route=plain&abort_percent=100&abort_status=502&ttl_ms=1500')
is "${r%% *} $(req /ttl/0 | cut -d' ' -f1-2)" "200 502 fault-abort-" "ttl_ms=1500, abort_status 502: aborted at once"
code=""
for ((i = 0; i < 300; i++)); do # until it lapses (1.5 s asked; a loaded machine gets 30 s)
	code=$(req /ttl/$((i + 1)) | cut -d' ' -f1)
	[ "$code" = 200 ] && break
	sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
ok $([ "$code" = 200 ] && [ "$ms" -ge 1400 ]; echo $?) "it lapses by itself: 200 again after $ms ms (not before 1.5 s)"
is "$(faults | jq -c '.routes[] | select(.route == "plain") | .override')" null "GET /faults: the lapsed override is gone"

# --- the admin API around it ---------------------------------------------------------------------------------------
curl -s --max-time 5 -o /dev/null -D "$D_TMP/h405" -X PUT "$(d_admin /faults)"
is "$(tr -d '\r' <"$D_TMP/h405" | awk -F': ' 'NR == 1 { c = $0 } tolower($1) == "allow" { a = $2 } END { print c "|" a }' | cut -d' ' -f2-)" \
	"405 Method Not Allowed|GET, HEAD, POST" "PUT /faults: 405, Allow: GET, HEAD, POST"
ok $(curl -s --max-time 5 "$(d_admin /nope)" | grep -q 'POST /faults'; echo $?) "the 404 hint names /faults"
conf "" "" >"$D_TMP/gw.yaml" # no token file: nothing may change state
gen=$(d_metric ordergate_config_generation)
kill -HUP "${D_GW_PID[gw]}"
for ((i = 0; i < 100; i++)); do
	[ "$(d_metric ordergate_config_generation)" != "$gen" ] && break
	sleep 0.05
done
is "$(post '?route=plain&abort_percent=100&ttl_ms=60000' | cut -d' ' -f1)" 403 "without admin.token_file: 403"

d_gw_stop gw
is "$D_RC" 0 "gateway exits 0"
tap_done
