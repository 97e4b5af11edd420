#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Security defaults: admin bearer token for state changes, X-Forwarded-For only from trusted proxies.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/system/d_common.bash
d_begin o1
OLOG=$(d_origin_log o1)
touch "$OLOG"

TOKEN=og-test-token-$RANDOM$RANDOM-abcdef
printf '%s\n' "$TOKEN" >"$D_TMP/token"
chmod 600 "$D_TMP/token"
cat >"$D_TMP/gw.yaml" <<EOF
workers: 1
listen: ["127.0.0.1:$D_GW_PORT"]
admin: { listen: "127.0.0.1:$D_ADMIN_PORT", token_file: "$D_TMP/token" }
trusted_proxies: ["10.0.0.0/8"]
upstreams:
  origin: { servers: ["127.0.0.1:$D_O1_PORT"] }
routes:
  - { name: all, match: { path_prefix: / }, upstream: origin }
EOF
d_gw_start gw "$D_TMP/gw.yaml"
ok $? "gateway starts with admin.token_file and trusted_proxies"

# --- admin: state changes need the bearer token ------------------------------------------------
post() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST "$@" "$(d_admin /reload)"; }
is "$(post)" 401 "POST /reload without a token: 401"
is "$(post -H 'Authorization: Bearer wrong-token-0123456789')" 401 "POST /reload with a wrong token: 401"
is "$(post -H "Authorization: Bearer ${TOKEN}x")" 401 "... with the token plus one character: 401"
reloads() { d_metric 'ordergate_config_reloads_total{result="ok"}'; }
r0=$(reloads)
is "$(post -H "Authorization: Bearer $TOKEN")" 202 "POST /reload with the token: 202"
for _ in $(seq 50); do [ "$(reloads)" != "$r0" ] && break; sleep 0.1; done
is "$(reloads)" $((r0 + 1)) "... and the config was reloaded once"
is "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$(d_admin /metrics)")" 200 \
	"reads (GET /metrics) need no token"
ok $(! curl -s --max-time 5 "$(d_admin /config)" | grep -q "$TOKEN"; echo $?) \
	"GET /config shows the token file's path, never the token"

# --- X-Forwarded-For only from trusted proxies -------------------------------------------------
curl -s --max-time 5 -o /dev/null -H 'X-Forwarded-For: 6.6.6.6' "$(d_gw /xff/1)"
for _ in $(seq 30); do grep -q ' /xff/1 ' "$OLOG" && break; sleep 0.1; done
xff=$(awk '$4 == "/xff/1"' "$OLOG" | tail -1 | awk -F'"' '{ print $10 }')
is "$xff" "127.0.0.1" "an untrusted client's X-Forwarded-For is dropped: the origin sees only the client"

# (the embedded default's access log and loopback admin: test_config "default: ...")

d_gw_stop gw
is "$D_RC" 0 "gateway exits 0 on SIGTERM"

# --- privileges: started as root, it runs as the configured user with one capability ---------
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	sed -e 's|^workers: 1|workers: 1\nuser: nobody|' "$D_TMP/gw.yaml" >"$D_TMP/gw2.yaml"
	sed -i "s|^admin: .*|admin: { listen: \"127.0.0.1:$D_ADMIN_PORT\" }|" "$D_TMP/gw2.yaml"
	d_gw_start gw2 "$D_TMP/gw2.yaml"
	ok $? "gateway starts as root with user: nobody"
	pid=${D_GW_PID[gw2]}
	uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
	is "$uids" "65534 65534 65534 65534" "after start every uid of the daemon is nobody's"
	is "$(awk '/^Groups:/ { print $2 }' "/proc/$pid/status")" "$(id -g nobody)" \
		"... its groups are nobody's primary group only"
	is "$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")" 0000000000000400 \
		"... and its only effective capability is CAP_NET_BIND_SERVICE"
	is "$(awk '/^CapPrm:/ { print $2 }' "/proc/$pid/status")" 0000000000000400 "... permitted too"
	is "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$(d_gw /after-drop)")" 200 \
		"it still proxies after dropping root"
	d_gw_stop gw2
	is "$D_RC" 0 "gateway 2 exits 0 on SIGTERM"
else
	skip "not root (or no user nobody): privilege drop not tested"
fi
tap_done
