// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config loader: the issue's file, the embedded default, bad configs by file:line:column, dump
 * round trip. */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "http/http_parse.h"
#include "../lib/cfg_test.h"
#include "../lib/og_test.h"

/* Repo-relative path: tests/run runs from the top, but allow running from anywhere. */
static const char *src_path(const char *rel, char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (!access(rel, R_OK))
		return rel;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		/* build/tests/test_config -> ../../ */
		for (int up = 0; up < 3; up++) {
			char *s = strrchr(exe, '/');

			if (s)
				*s = 0;
		}
		snprintf(buf, len, "%.2048s/%s", exe, rel);
		return buf;
	}
	return rel;
}

static void test_issue_file(void)
{
	char err[512] = "", pb[PATH_MAX];
	const char *p = src_path("deploy/examples/issue.yaml", pb, sizeof(pb));
	struct config *c = config_load_file(p, err, sizeof(err));
	const struct sockaddr_in *sin;

	OK(c != NULL, "issue.yaml loads (%s)", err);
	if (!c)
		return;
	OK_EQ(c->workers, 1, "issue: workers");
	OK_EQ(c->n_listen, 1, "issue: one listen address");
	sin = (const struct sockaddr_in *)&c->listen[0].ss;
	OK(sin->sin_family == AF_INET && ntohs(sin->sin_port) == 18080 &&
	       sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	   "issue: listen 127.0.0.1:18080 resolved");
	OK(!strcmp(c->listen[0].text, "127.0.0.1:18080"), "issue: listen text as written");
	OK(c->admin_enabled && !strcmp(c->admin.text, "127.0.0.1:19901"), "issue: admin");
	OK_EQ(c->n_upstreams, 1, "issue: one upstream");
	OK(!strcmp(c->upstreams[0].name, "origin"), "issue: upstream name");
	OK_EQ(c->upstreams[0].n_servers, 1, "issue: one server");
	OK_EQ(c->upstreams[0].keepalive, 64, "issue: keepalive");
	OK_EQ(c->upstreams[0].balance, CFG_BAL_ROUND_ROBIN, "issue: default balance");
	OK_EQ(c->upstreams[0].connect_timeout_ms, 1000, "issue: default connect timeout");
	OK_EQ(c->upstreams[0].timeout_ms, 30000, "issue: default timeout");
	OK_EQ(c->upstreams[0].breaker.consecutive_failures, 5, "issue: default breaker");
	OK_EQ(c->upstreams[0].keepalive_timeout_ms, 4000, "issue: default keepalive_timeout_ms");
	OK_EQ(c->upstreams[0].keepalive_requests, 1000, "issue: default keepalive_requests");
	OK_EQ(c->upstreams[0].max_connections, 1024, "issue: default upstream max_connections");
	OK_EQ(c->upstreams[0].outlier.max_ejection_percent, 50,
	      "issue: default max_ejection_percent");
	OK(!cfg_status_counts(&c->upstreams[0].breaker.statuses, 500) &&
	       cfg_status_counts(&c->upstreams[0].breaker.statuses, 502) &&
	       cfg_status_counts(&c->upstreams[0].breaker.statuses, 503) &&
	       cfg_status_counts(&c->upstreams[0].breaker.statuses, 504) &&
	       !cfg_status_counts(&c->upstreams[0].outlier.statuses, 500) &&
	       cfg_status_counts(&c->upstreams[0].outlier.statuses, 504),
	   "issue: default statuses 502, 503, 504 for breaker and outlier, not 500");
	OK_EQ(c->upstreams[0].health.enabled, 0, "issue: no health section, no checks");
	OK_EQ(c->n_routes, 2, "issue: two routes");
	OK(c->routes[0].is_respond && c->routes[0].status == 200 && c->routes[0].body_len == 4 &&
	       !memcmp(c->routes[0].body, "pong", 4),
	   "issue: route 1 responds 200 pong");
	OK(c->routes[0].path && !strcmp(c->routes[0].path, "/ping") && c->routes[0].path_len == 5,
	   "issue: route 1 exact /ping");
	OK(!c->routes[1].is_respond && c->routes[1].upstream == 0, "issue: route 2 -> origin");
	OK(c->routes[1].path_prefix && !strcmp(c->routes[1].path_prefix, "/api/") &&
	       c->routes[1].path_prefix_len == 5,
	   "issue: route 2 prefix /api/");
	OK(!strcmp(c->routes[0].name, "route1") && !strcmp(c->routes[1].name, "route2"),
	   "issue: generated route names");
	OK_EQ(c->routes[1].max_body, 1 << 20, "issue: default max_body 1 MiB");
	OK_EQ(c->routes[1].request_buffer, 65536, "issue: default request_buffer 64 KiB");
	{
		static const char y[] =
		    "trusted_proxies: [\"10.0.0.0/8\", \"192.0.2.7\", \"::1/128\"]\n";
		char e2[256];
		struct config *t = config_load_string(y, sizeof(y) - 1, "t.yaml", e2, sizeof(e2));
		uint8_t a1[4] = {10, 200, 1, 2}, a2[4] = {11, 0, 0, 1}, a3[4] = {192, 0, 2, 7},
			a4[4] = {192, 0, 2, 8}, l6[16] = {[15] = 1};

		OK(t && t->n_trusted == 3, "trusted_proxies: three networks (%s)", t ? "" : e2);
		OK(t && cfg_cidr_match(&t->trusted[0], AF_INET, a1) &&
		       !cfg_cidr_match(&t->trusted[0], AF_INET, a2) &&
		       cfg_cidr_match(&t->trusted[1], AF_INET, a3) &&
		       !cfg_cidr_match(&t->trusted[1], AF_INET, a4) &&
		       cfg_cidr_match(&t->trusted[2], AF_INET6, l6) &&
		       !cfg_cidr_match(&t->trusted[2], AF_INET, a1),
		   "trusted_proxies: /8 and host networks match what they should, and only that");
		config_free(t);
	}
	OK(c->order_reserve.percent == 10 && c->order_reserve.n_ports == 0,
	   "issue: default order_reserve 10%%, no ports");
	OK_EQ(c->shutdown_grace_ms, 5000, "issue: default shutdown_grace_ms");
	OK_EQ(c->access_log.enabled, 0, "issue: access log off by default");
	OK(!strcmp(c->source, p), "issue: source is the path");
	config_free(c);
}

static void test_default(void)
{
	char err[512] = "";
	struct config *c = config_load_string(config_default_yaml, strlen(config_default_yaml),
					      "<embedded>", err, sizeof(err));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	OK(c != NULL, "embedded default loads (%s)", err);
	if (!c)
		return;
	OK_EQ(c->workers, cpus > 256 ? 256 : cpus, "default: workers = online CPUs");
	OK(c->n_listen == 1 && c->listen[0].ss.ss_family == AF_INET &&
	       ((struct sockaddr_in *)&c->listen[0].ss)->sin_addr.s_addr == htonl(INADDR_ANY) &&
	       ntohs(((struct sockaddr_in *)&c->listen[0].ss)->sin_port) == 8080,
	   "default: listen 0.0.0.0:8080");
	OK(c->admin_enabled && !strcmp(c->admin.text, "127.0.0.1:9901"), "default: admin");
	OK(c->n_routes == 1 && c->routes[0].is_respond && c->routes[0].status == 200 &&
	       !strcmp(c->routes[0].path, "/ping") && !strcmp(c->routes[0].body, "pong"),
	   "default: /ping -> 200 pong");
	OK(c->access_log.enabled && !strcmp(c->access_log.path, "stdout"),
	   "default: access log on, to stdout (an audit trail unless turned off)");
	OK(c->admin_enabled && !c->admin_token && c->n_trusted == 0,
	   "default: admin on loopback, no token (nothing may change state), no trusted proxy");
	OK_EQ(c->header_timeout_ms, 10000, "default: header_timeout_ms");
	OK_EQ(c->keepalive_timeout_ms, 60000, "default: keepalive_timeout_ms");
	OK_EQ(c->max_connections, 65536, "default: max_connections");
	config_free(c);
}

/* Every example under deploy/examples loads. */
static void test_examples(void)
{
	static const char *const ex[] = {"deploy/examples/ordergate.yaml",
					 "deploy/examples/minimal.yaml"};
	char err[512], pb[PATH_MAX];

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		struct config *c =
		    config_load_file(src_path(ex[i], pb, sizeof(pb)), err, sizeof(err));

		OK(c != NULL, "%s loads (%s)", ex[i], c ? "ok" : err);
		if (c && i == 0) {
			const struct cfg_upstream *md = &c->upstreams[1];

			OK(md->balance == CFG_BAL_HASH_HEADER &&
			       !strcmp(md->hash_header, "x-user-id"),
			   "ordergate.yaml: hash(header:x-user-id)");
			OK(c->upstreams[0].health.enabled &&
			       !strcmp(c->upstreams[0].health.path, "/healthz") &&
			       c->upstreams[0].health.rise == 2,
			   "ordergate.yaml: health with defaults filled in");
			OK(c->routes[0].n_methods == 1 && c->routes[0].methods[0] == HTTP_M_POST,
			   "ordergate.yaml: POST route");
			OK_EQ(c->routes[0].max_body, 64 << 10, "ordergate.yaml: max_body 64k");
			OK(c->routes[3].n_resp_headers == 1 &&
			       !strcmp(c->routes[3].resp_headers[0].name, "cache-control"),
			   "ordergate.yaml: response header");
			OK(c->access_log.enabled && !strcmp(c->access_log.path, "stderr"),
			   "ordergate.yaml: access_log stderr");
		}
		config_free(c);
	}
}

/* Values the schema accepts in their other spellings. */
static void test_good_variants(void)
{
	char err[512] = "";
	struct config *c = cfg_test_load(
	    "listen: [\"[::1]:8443\", \":8080\", \"localhost:8081\"]\n"
	    "admin: off\n"
	    "access_log: { path: /tmp/og.log }\n"
	    "upstreams:\n"
	    "  a: { servers: [\"[::1]:9000\", \"localhost:9001\"], balance: hash(x-User-Id) }\n"
	    "  b: { servers: [\"10.0.0.1:80\"], balance: hash(source), health: {} }\n"
	    "routes:\n"
	    "  - match: { method: [GET, HEAD, PURGE], header: { name: X-Lane, value: order } }\n"
	    "    upstream: a\n"
	    "    max_body: 1048576\n"
	    "  - match: { path: \"*\", method: OPTIONS }\n"
	    "    respond: { status: 204 }\n"
	    "  - name: big\n"
	    "    match: {}\n"
	    "    respond: { status: 404, body: \"\\x00nul\\n\", headers: { x-a: \"\" } }\n"
	    "    max_body: 2G\n",
	    err, sizeof(err));

	OK(c != NULL, "variants load (%s)", err);
	if (!c)
		return;
	OK(c->listen[0].ss.ss_family == AF_INET6 &&
	       ntohs(((struct sockaddr_in6 *)&c->listen[0].ss)->sin6_port) == 8443,
	   "variants: [::1]:8443");
	OK(((struct sockaddr_in *)&c->listen[2].ss)->sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	   "variants: localhost is 127.0.0.1");
	OK_EQ(c->admin_enabled, 0, "variants: admin off");
	OK(c->access_log.enabled && !strcmp(c->access_log.path, "/tmp/og.log"),
	   "variants: access_log path");
	OK(c->upstreams[0].balance == CFG_BAL_HASH_HEADER &&
	       !strcmp(c->upstreams[0].hash_header, "x-user-id"),
	   "variants: hash(x-User-Id) is a lower-cased header");
	OK_EQ(c->upstreams[1].balance, CFG_BAL_HASH_SOURCE, "variants: hash(source)");
	OK(c->upstreams[1].health.enabled && !strcmp(c->upstreams[1].health.path, "/healthz"),
	   "variants: health {} enables checks with defaults");
	OK(c->routes[0].n_methods == 3 && c->routes[0].methods[2] == HTTP_M_OTHER &&
	       !strcmp(c->routes[0].method_names[2], "PURGE"),
	   "variants: unknown method kept by name");
	OK(!strcmp(c->routes[0].header_name, "X-Lane") && c->routes[0].header_value_len == 5,
	   "variants: header match");
	OK(c->routes[1].status == 204 && c->routes[1].body_len == 0, "variants: 204 no body");
	OK(c->routes[2].body_len == 5 && !memcmp(c->routes[2].body, "\0nul\n", 5),
	   "variants: body with a NUL byte keeps its length");
	OK_EQ(c->routes[2].max_body, 2ull << 30, "variants: max_body 2G");
	OK(!strcmp(c->routes[2].name, "big") && !c->routes[2].path && !c->routes[2].path_prefix,
	   "variants: match {} matches all");
	config_free(c);

	c = cfg_test_load("access_log: { path: off }\nadmin: { listen: \"\" }\n", err, sizeof(err));
	OK(c && !c->access_log.enabled && !c->admin_enabled,
	   "access_log path off and admin listen \"\" turn them off (%s)", c ? "ok" : err);
	config_free(c);
}

static const struct cfg_bad bad[] = {
    /* unknown keys, top level and nested, with suggestions */
    {"workers: 1\ntimeout: 3\n", "2:1", "unknown key \"timeout\" at top level"},
    {"workers: 1\nworker: 3\n", "2:1", "(did you mean \"workers\"?)"},
    {"upstreams:\n  orders:\n    servers: [\"127.0.0.1:9001\"]\n    timout_ms: 5\n", "4:5",
     "unknown key \"timout_ms\" in upstream \"orders\" (did you mean \"timeout_ms\"?)"},
    {"upstreams:\n  o:\n    servers: [\"127.0.0.1:1\"]\n    health: { intervl_ms: 5 }\n", "4:15",
     "unknown key \"intervl_ms\" in health of upstream \"o\" (did you mean \"interval_ms\"?)"},
    {"routes:\n  - match: { paht: /x }\n    respond: { status: 200 }\n", "2:14",
     "unknown key \"paht\" in match of route 1 (did you mean \"path\"?)"},
    {"routes:\n  - match: {}\n    respond: { status: 200, bdy: x }\n", "3:29",
     "unknown key \"bdy\" in respond of route 1 (did you mean \"body\"?)"},
    {"admin: { listn: \"127.0.0.1:1\" }\n", "1:10", "unknown key \"listn\" in admin"},
    /* wrong types and ranges */
    {"# c\n\nworkers: two\n", "3:10", "\"workers\" must be an integer from 1 to 256, got \"two\""},
    {"workers: 0\n", "1:10", "from 1 to 256, got \"0\""},
    {"workers: [1]\n", "1:10", "\"workers\" must be an integer from 1 to 256, got a list"},
    {"shutdown_grace_ms: -1\n", "1:20", "\"shutdown_grace_ms\" must be an integer from 0 to"},
    {"listen: \"127.0.0.1:80\"\nheader_timeout_ms: {a: 1}\n", "2:20", "got a mapping"},
    {"listen: { a: 1 }\n", "1:9", "\"listen\" must be a list of \"host:port\", got a mapping"},
    {"upstreams: [a]\n", "1:12", "\"upstreams\" must be a mapping"},
    {"routes: { a: 1 }\n", "1:9", "\"routes\" must be a list of routes, got a mapping"},
    {"routes:\n  - match: { path: /x }\n    upstream: [a]\n", "3:15",
     "\"upstream\" must name an upstream, got a list"},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"], keepalive: lots }\n", "2:45",
     "\"keepalive\" must be an integer from 0 to 100000"},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"], retries: 11 }\n", "2:43",
     "\"retries\" must be an integer from 0 to 10, got \"11\""},
    /* addresses */
    {"listen: [\"127.0.0.1\"]\n", "1:10", "has no port"},
    {"listen: [\"127.0.0.1:70000\"]\n", "1:10", "the port must be an integer from 1 to 65535"},
    {"listen: [\"127.0.0.1:0\"]\n", "1:10", "the port must be an integer from 1 to 65535"},
    {"listen: [\"example.com:80\"]\n", "1:10", "is not a numeric IPv4 address or localhost"},
    {"listen: [\"::1:80\"]\n", "1:10", "IPv6 addresses need brackets"},
    {"listen: [\"[::1:80\"]\n", "1:10", "missing \"]\""},
    {"listen: [\"[fe80::zz]:80\"]\n", "1:10", "is not a numeric IPv6 address"},
    {"listen: [\"127.0.0.1:80\", \"0.0.0.0:80\"]\n", "1:26", "overlaps \"127.0.0.1:80\""},
    {"listen: []\n", "1:9", "must name at least one"},
    {"listen: [\"127.0.0.1:9901\"]\n", "1:10", "admin address \"127.0.0.1:9901\" overlaps"},
    {"upstreams:\n  o: { servers: [\":80\"] }\n", "2:18", "is a wildcard address"},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\", \"127.0.0.1:1\"] }\n", "2:33",
     "is listed twice"},
    {"upstreams:\n  o: { servers: [] }\n", "2:17", "must name at least one server"},
    {"upstreams:\n  o: { keepalive: 1 }\n", "2:6", "upstream \"o\" has no \"servers\""},
    {"upstreams:\n  \"a b\": { servers: [\"127.0.0.1:1\"] }\n", "2:3",
     "an upstream name must be 1 to 64 letters"},
    /* routes and upstream references */
    {"routes:\n  - match: {}\n    upstream: nope\n", "3:15",
     "route 1 names upstream \"nope\", which is not defined"},
    {"routes:\n  - match: {}\n    respond: { status: 200 }\n    upstream: x\n", "4:5",
     "exactly one action"},
    {"routes:\n  - match: { path: /x }\n", "2:5", "has no action"},
    {"routes:\n  - respond: { status: 200 }\n", "2:5", "has no \"match\""},
    {"routes:\n  - match: {}\n    respond: { status: 99 }\n", "3:24",
     "\"status\" must be an integer from 200 to 599, got \"99\""},
    {"routes:\n  - match: {}\n    respond: { status: 204, body: x }\n", "3:35",
     "a 204 response has no body"},
    {"routes:\n  - match: {}\n    respond: { headers: { Content-Length: 3 } }\n", "3:27",
     "\"Content-Length\" is set by ordergated"},
    {"routes:\n  - match: {}\n    respond: { headers: { keep-alive: 3 } }\n", "3:27",
     "\"keep-alive\" is set by ordergated"},
    {"routes:\n  - match: {}\n    respond: {}\n    max_body: 10x\n", "4:15",
     "\"max_body\" must be a size in bytes"},
    {"routes:\n  - match: {}\n    respond: {}\n    max_body: 65g\n", "4:15", "at most 64g"},
    {"user: \"a b\"\n", "1:7", "\"user\""},
    {"order_reserve: { percent: 95 }\n", "1:27", "\"percent\" must be an integer from 1 to 90"},
    {"trusted_proxies: [\"10.0.0.0/33\"]\n", "1:19",
     "\"trusted_proxies\" entries are addresses or networks"},
    {"trusted_proxies: [\"example.com\"]\n", "1:19",
     "\"trusted_proxies\" entries are addresses or networks"},
    {"trusted_proxies: \"10.0.0.0/8\"\n", "1:18", "\"trusted_proxies\" must be a list of networks"},
    {"admin: { token_file: /nonexistent/og-token }\n", "1:22",
     "admin token_file \"/nonexistent/og-token\": No such file"},
    {"order_reserve: { ports: [0] }\n", "1:26", "\"ports\" must be an integer from 1 to 65535"},
    {"order_reserve: { port: [1] }\n", "1:18", "unknown key \"port\" in order_reserve"},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"], breaker: { statuses: [502, 404] } }\n", "2:61",
     "\"statuses\" must be an integer from 500 to 599, got \"404\""},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"], outlier: { statuses: 503 } }\n", "2:55",
     "\"statuses\" must be a list of statuses 500..599, got"},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"], outlier: { max_ejection_percent: 101 } }\n",
     "2:67", "\"max_ejection_percent\" must be an integer from 0 to 100"},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"], keepalive_timeout_ms: 0 }\n", "2:56",
     "\"keepalive_timeout_ms\" must be an integer from 1"},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"], keepalive_requests: 0 }\n", "2:54",
     "\"keepalive_requests\" must be an integer from 1"},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"], max_connections: x }\n", "2:51",
     "\"max_connections\" must be an integer from 1 to 1000000"},
    {"routes:\n  - match: {}\n    respond: {}\n    request_buffer: 65k\n", "4:21",
     "\"request_buffer\" must be a size in bytes (1048576) or with a k, m or g suffix (\"10m\"), "
     "at most 64k, got \"65k\""},
    {"routes:\n  - match: { path: /a, path_prefix: /b }\n    respond: {}\n", "2:24",
     "either \"path\" or \"path_prefix\""},
    {"routes:\n  - match: { path: api }\n    respond: {}\n", "2:20",
     "must be a path starting with \"/\""},
    {"routes:\n  - match: { path: \"/a?b=1\" }\n    respond: {}\n", "2:20", "must not contain '?'"},
    {"routes:\n  - match: { method: get }\n    respond: {}\n", "2:22", "did you mean \"GET\"?"},
    {"routes:\n  - match: { method: [GET, GET] }\n    respond: {}\n", "2:28", "listed twice"},
    {"routes:\n  - match: { method: [] }\n    respond: {}\n", "2:22", "lists no method"},
    {"routes:\n  - match: { header: { name: x-a } }\n    respond: {}\n", "2:22",
     "needs both name and value"},
    {"routes:\n  - name: a\n    match: {}\n    respond: {}\n  - name: a\n    match: {}\n"
     "    respond: {}\n",
     "5:11", "route name \"a\" is already used by route 1"},
    {"routes:\n  - match: {}\n    respond: {}\n    match: {}\n", "4:5",
     "duplicate key \"match\" in route 1 (first at 2:5)"},
    /* strings that would compare equal as C strings, whitespace that never matches */
    {"routes:\n  - match: { header: { name: x-a, value: \" b\" } }\n    respond: {}\n", "2:42",
     "leading or trailing whitespace"},
    {"\"workers\\0x\": 1\n", "1:1", "keys must be names"},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"], balance: \"round_robin\\0\" }\n", "2:43",
     "\"balance\" must be"},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"] }\nroutes:\n  - match: {}\n    upstream: "
     "\"o\\0\"\n",
     "5:15", "which is not defined"},
    {"access_log: \"off\"\n", "1:13", "\"access_log\" must be off or a mapping"},
    /* duplicates, refused sections */
    {"workers: 1\nworkers: 2\n", "2:1", "duplicate key \"workers\" at top level (first at 1:1)"},
    {"upstreams:\n  a: { servers: [\"127.0.0.1:1\"] }\n  a: { servers: [\"127.0.0.1:2\"] }\n",
     "3:3", "duplicate key \"a\""},
    /* lanes, limits, xdp, a route's lane and limit */
    {"lanes: []\n", "1:8", "\"lanes\" must be a mapping"},
    {"lanes:\n  ordr: {}\n", "2:3", "unknown key \"ordr\" in lanes (did you mean \"order\"?)"},
    {"lanes:\n  trusted: [\"10.0.0.1/8\"]\n", "2:13", "has bits set after the prefix length"},
    {"lanes:\n  trusted: [\"10.0.0.0/33\"]\n", "2:13", "the prefix length must be 0 to 32"},
    {"lanes:\n  trusted: [\"corp.example/8\"]\n", "2:13", "is not a numeric IPv4 or IPv6"},
    {"lanes:\n  trusted: [\"::/0\", \"::/0\"]\n", "2:21", "lists \"::/0\" twice"},
    {"lanes:\n  trusted: { a: 1 }\n", "2:12", "must be a list of address prefixes"},
    {"lanes:\n  order: { class: \"1:0\" }\n", "2:19", "\"class\" must be an HTB class"},
    {"lanes:\n  order: { class: 10 }\n", "2:19", "\"class\" must be an HTB class"},
    {"lanes:\n  order: { slo_p99_ms: 5ms }\n", "2:24", "\"slo_p99_ms\" must be an integer"},
    {"lanes:\n  bulk: { reserve_workers: 1 }\n", "2:11", "for the order lane only"},
    {"lanes:\n  normal: { match: { dst_ports: [80] } }\n", "2:13", "for the order lane only"},
    {"lanes:\n  order: { match: { dst_ports: [0] } }\n", "2:33",
     "\"dst_ports\" must be an integer from 1 to 65535"},
    {"lanes:\n  order: { match: { dst_ports: [80, 80] } }\n", "2:37", "port 80 is listed twice"},
    {"lanes:\n  order: { match: { src: [] } }\n", "2:21", "unknown key \"src\" in lanes.order"},
    {"workers: 2\nlanes:\n  order: { reserve_workers: 2 }\n", "3:29",
     "\"reserve_workers\" (2) leaves no worker for the other lanes (workers: 2)"},
    {"limits: []\n", "1:9", "\"limits\" must be a mapping"},
    {"limits: { fast_ms: 5 }\n", "1:20", "\"fast_ms\" must be an integer from 10 to 60000"},
    {"limits: { decrease: 1.5 }\n", "1:21", "\"decrease\" must be a decimal from 0.1 to 0.99"},
    {"limits: { decrease: .7x }\n", "1:21", "\"decrease\" must be a decimal"},
    {"limits: { dry_run: yes }\n", "1:20", "\"dry_run\" must be true or false"},
    {"limits: { cancel: { path_prefix: /o } }\n", "1:19", "\"cancel\" needs a method"},
    {"limits: { cancel: { method: delete } }\n", "1:29", "methods are case-sensitive"},
    {"limits: { kill_switch: {} }\n", "1:24", "\"kill_switch\" needs a path"},
    {"limits: { kill_switch: { path: kill } }\n", "1:32", "must be a path starting with \"/\""},
    {"limits: { floor: 10, ceiling: 5 }\n", "1:18", "\"floor\" (10) is above \"ceiling\" (5)"},
    {"limits: { fast_ms: 500, slow_ms: 200 }\n", "1:9", "\"slow_ms\" (200) is shorter"},
    {"limits: { fats_ms: 100 }\n", "1:11",
     "unknown key \"fats_ms\" in limits (did you mean \"fast_ms\"?)"},
    {"xdp: { mode: native }\n", "1:6", "\"xdp\" needs an interface"},
    {"xdp: { interface: eth0, mode: fast }\n", "1:31",
     "\"mode\" must be auto, native, generic or skb"},
    {"xdp: { interface: a-very-long-interface-name }\n", "1:19",
     "\"interface\" must be an interface name"},
    {"xdp: eth0\n", "1:6", "\"xdp\" must be a mapping"},
    {"xdp: { interface: eth0, pin_path: sys/fs/bpf }\n", "1:35",
     "\"pin_path\" must be an absolute directory"},
    {"xdp: { interface: eth0, pin_path: \"\" }\n", "1:35",
     "\"pin_path\" must be an absolute directory"},
    {"xdp: { interface: eth0, pin_paht: /x }\n", "1:25",
     "unknown key \"pin_paht\" in xdp (did you mean \"pin_path\"?)"},
    {"lanes:\n  bulk: { others_nice: 5 }\n", "2:11", "\"others_nice\" is for the order lane only"},
    {"lanes:\n  order: { max_inflight: 5 }\n", "2:12", "\"max_inflight\" is for normal and bulk"},
    {"lanes:\n  bulk: { max_inflight: x }\n", "2:25", "\"max_inflight\" must be an integer"},
    {"limits: { queue_tolerance: 11 }\n", "1:28", "\"queue_tolerance\" must be"},
    {"lanes:\n  order: { others_nice: 20 }\n", "2:25",
     "\"others_nice\" must be an integer from 0 to 19 (a nice value), got \"20\""},
    {"lanes:\n  order: { others_nice: -1 }\n", "2:25", "\"others_nice\" must be an integer"},
    {"limits: { slow: [] }\n", "1:17", "\"slow\" must be a mapping"},
    {"limits: { slow: { syn_rate: 0 } }\n", "1:29",
     "\"syn_rate\" must be an integer from 1 to 100000000 (SYNs per second), got \"0\""},
    {"limits:\n  slow:\n    pkt_rate: 1e6\n", "3:15", "\"pkt_rate\" must be an integer"},
    {"limits: { slow: { reject_rate: many } }\n", "1:32", "\"reject_rate\" must be an integer"},
    {"limits: { slow: { throttle_pps: 0 } }\n", "1:33", "\"throttle_pps\" must be an integer"},
    {"limits: { slow: { throttle_burst: [] } }\n", "1:35", "\"throttle_burst\" must be an integer"},
    {"limits: { slow: { throttle_ttl_ms: 50 } }\n", "1:36",
     "\"throttle_ttl_ms\" must be an integer from 100 to 300000 (ms)"},
    {"limits: { slow: { calm_windows: 0 } }\n", "1:33", "\"calm_windows\" must be an integer"},
    {"limits: { slow: { calm_ticks: 3 } }\n", "1:19", "unknown key \"calm_ticks\" in limits.slow"},
    {"limits: { slow: { syn_rate: 1, syn_rate: 2 } }\n", "1:32", "duplicate key \"syn_rate\""},
    {"routes:\n  - match: {}\n    respond: {}\n    lane: order\n", "4:11",
     "route 1 sets \"lane\" but there is no \"lanes\" section"},
    {"lanes: {}\nroutes:\n  - match: {}\n    respond: {}\n    lane: fast\n", "5:11",
     "\"lane\" must be order, normal or bulk, got \"fast\""},
    {"routes:\n  - match: {}\n    respond: {}\n    limit: { burst: 1 }\n", "4:12",
     "\"limit\" needs rps"},
    {"routes:\n  - match: {}\n    respond: {}\n    limit: { rps: 0 }\n", "4:19",
     "\"rps\" must be an integer from 1 to 10000000"},
    {"routes:\n  - match: {}\n    respond: {}\n    limit: { rps: 1, key: user }\n", "4:27",
     "\"key\" must be source, none or header:NAME, got \"user\""},
    {"routes:\n  - match: {}\n    respond: {}\n    limit: { rps: 1, key: \"header:a b\" }\n",
     "4:27", "\"key\" must be source, none or header:NAME"},
    {"routes:\n  - match: {}\n    respond: {}\n    limit: { rps: 1, rate: 2 }\n", "4:22",
     "unknown key \"rate\" in limit of route 1"},
    /* balance, access log, admin */
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"], balance: random }\n", "2:43",
     "\"balance\" must be round_robin, least_request, hash(header:NAME) or hash(source)"},
    {"upstreams:\n  o: { servers: [\"127.0.0.1:1\"], balance: \"hash()\" }\n", "2:43",
     "\"balance\" must be"},
    {"access_log: on\n", "1:13", "\"access_log\" must be off or a mapping"},
    {"access_log: { path: \"\" }\n", "1:21", "must name a file"},
    {"admin: 9901\n", "1:8", "\"admin\" must be off or a mapping"},
    /* YAML itself */
    {"", "1:1", "the config is empty"},
    {"# only a comment\n", "1:1", "the config is empty"},
    {"workers: [1\n", "2:1", "YAML syntax error: did not find expected ',' or ']'"},
    {"workers: 1\n  listen: x\n", "2:9", "YAML syntax error: mapping values are not allowed"},
    {"workers: \"1\n", "2:1", "YAML syntax error: found unexpected end of stream"},
    {"workers: 1\n\tlisten: []\n", "2:1", "YAML syntax error"},
    {"workers: 1\n---\nworkers: 2\n", "2:1", "only one YAML document"},
    {"- 1\n- 2\n", "1:1", "the config must be a mapping of keys"},
    {"a: &x 1\nworkers: *x\n", "2:10", "aliases (*name) are not supported"},
    {"workers: !!str 2\n", "1:10", "YAML tags (!!str, !foo) are not supported"},
    {"routes: !!seq []\n", "1:9", "YAML tags"},
    {"[1]: 2\n", "1:1", "keys must be names, got a list at top level"},
    {"workers: \"\\xff\"\nlisten: \"\xff\"\n", "2:10", "YAML syntax error: invalid"},
};

static void test_bad(void)
{
	cfg_test_bad(bad, sizeof(bad) / sizeof(bad[0]));
	og_diag("%zu bad configs", sizeof(bad) / sizeof(bad[0]));
}

/* The issue's and the architecture document's lanes, limits and xdp sections load as written. */
static void test_lanes_issue(void)
{
	char err[512] = "";
	const char *y =
	    "workers: 2\nlisten: [\"0.0.0.0:8080\"]\nadmin: { listen: \"127.0.0.1:9901\" }\n"
	    "xdp: { interface: eth0, mode: native }        # optional\n"
	    "lanes:\n"
	    "  trusted: [\"10.0.0.0/8\"]\n"
	    "  order:  { class: \"1:10\", slo_p99_ms: 5, reserve_workers: 1, match: { dst_ports: "
	    "[9443], src_cidrs: [\"10.20.0.0/16\"] } }\n"
	    "  normal: { class: \"1:20\", slo_p99_ms: 50 }\n"
	    "  bulk:   { class: \"1:30\" }\n"
	    "limits:\n  fast_ms: 100\n  slow_ms: 1000\n  decrease: 0.7\n  dry_run: false\n"
	    "  cancel: { method: DELETE, path_prefix: /api/v1/orders }\n"
	    "  kill_switch: { path: /api/v1/kill }\n"
	    "upstreams:\n  orders: { servers: [\"127.0.0.1:9001\"] }\n"
	    "routes:\n"
	    "  - match: { method: POST, path_prefix: /api/v1/orders }\n"
	    "    lane: order\n    upstream: orders\n"
	    "  - match: { path_prefix: /api/v1/marketdata }\n"
	    "    lane: bulk\n    upstream: orders\n"
	    "    limit: { rps: 2000, burst: 200, key: header:X-User-Id }\n"
	    "  - match: { path: /ping }\n    respond: { status: 200, body: \"pong\" }\n";
	struct config *c = cfg_test_load(y, err, sizeof(err));
	const struct cfg_lane *o;

	OK(c != NULL, "issue lanes example loads (%s)", err);
	if (!c)
		return;
	OK(c->xdp.present && !strcmp(c->xdp.ifname, "eth0") && c->xdp.mode == 1,
	   "xdp: eth0 native");
	OK(c->lanes.present && c->lanes.n_trusted == 1 && c->lanes.trusted[0].family == AF_INET &&
	       c->lanes.trusted[0].prefix_len == 8 && c->lanes.trusted[0].addr[0] == 10,
	   "lanes.trusted 10.0.0.0/8");
	o = &c->lanes.lane[OG_LANE_ORDER];
	OK(o->class_id == 0x00010010 && !strcmp(o->class_str, "1:10") && o->slo_p99_ms == 5 &&
	       o->reserve_workers == 1,
	   "order: class 1:10 (0x%08x), slo 5, reserve 1", o->class_id);
	OK(o->n_dst_ports == 1 && o->dst_ports[0] == 9443 && o->n_src_cidrs == 1 &&
	       o->src_cidrs[0].prefix_len == 16 && o->src_cidrs[0].addr[1] == 20,
	   "order match: 9443, 10.20.0.0/16");
	OK(c->lanes.lane[OG_LANE_NORMAL].class_id == 0x00010020 &&
	       c->lanes.lane[OG_LANE_NORMAL].slo_p99_ms == 50 &&
	       c->lanes.lane[OG_LANE_BULK].class_id == 0x00010030 &&
	       c->lanes.lane[OG_LANE_BULK].slo_p99_ms == 0,
	   "normal 1:20 slo 50, bulk 1:30 no slo");
	OK(c->limits.present && c->limits.fast_ms == 100 && c->limits.slow_ms == 1000 &&
	       c->limits.decrease > 0.699 && c->limits.decrease < 0.701 && !c->limits.dry_run,
	   "limits: 100/1000/0.7/false");
	OK(!strcmp(c->limits.cancel_method, "DELETE") &&
	       !strcmp(c->limits.cancel_prefix, "/api/v1/orders") &&
	       c->limits.cancel_prefix_len == 14 && !strcmp(c->limits.kill_path, "/api/v1/kill"),
	   "limits: cancel and kill switch");
	OK(c->routes[0].lane == OG_LANE_ORDER && !c->routes[0].has_limit, "route 1: lane order");
	OK(c->routes[1].lane == OG_LANE_BULK && c->routes[1].has_limit &&
	       c->routes[1].limit.rps == 2000 && c->routes[1].limit.burst == 200 &&
	       c->routes[1].limit.key_kind == CFG_LKEY_HEADER &&
	       !strcmp(c->routes[1].limit.key_header, "x-user-id"),
	   "route 2: bulk, 2000/200 by header x-user-id (lower-cased)");
	OK(c->routes[2].lane == OG_LANE_NONE, "route 3 rides the connection's lane");
	OK(!c->xdp.pin_path && o->others_nice == 10,
	   "defaults: no pin_path (an adopted attach's own), others_nice 10");
	OK(c->limits.slow.syn_rate == 500 && c->limits.slow.pkt_rate == 50000 &&
	       c->limits.slow.reject_rate == 50 && c->limits.slow.throttle_pps == 100 &&
	       c->limits.slow.throttle_burst == 200 && c->limits.slow.throttle_ttl_ms == 10000 &&
	       c->limits.slow.calm_windows == 3,
	   "limits.slow defaults: 500/50000/50, bucket 100/200, ttl 10 s, calm 3");
	config_free(c);

	/* the kernel link's keys: pin_path, others_nice, limits.slow */
	c = cfg_test_load(
	    "workers: 3\nxdp: { interface: og-v0, mode: generic, pin_path: /sys/fs/bpf/og-t }\n"
	    "lanes:\n  order: { reserve_workers: 1, others_nice: 0 }\n"
	    "limits:\n  slow_ms: 200\n  slow: { syn_rate: 400, pkt_rate: 9000, reject_rate: 7,"
	    " throttle_pps: 5, throttle_burst: 6, throttle_ttl_ms: 8000, calm_windows: 1000 }\n",
	    err, sizeof(err));
	OK(c && !strcmp(c->xdp.pin_path, "/sys/fs/bpf/og-t") && c->xdp.mode == 2 &&
	       c->lanes.lane[OG_LANE_ORDER].others_nice == 0 && c->limits.slow_ms == 200,
	   "xdp.pin_path, others_nice 0, slow_ms 200 (%s)", err);
	OK(c && c->limits.slow.syn_rate == 400 && c->limits.slow.pkt_rate == 9000 &&
	       c->limits.slow.reject_rate == 7 && c->limits.slow.throttle_pps == 5 &&
	       c->limits.slow.throttle_burst == 6 && c->limits.slow.throttle_ttl_ms == 8000 &&
	       c->limits.slow.calm_windows == 1000,
	   "limits.slow: every key read");
	config_free(c);
	c = cfg_test_load(
	    "lanes:\n  bulk: { max_inflight: 64 }\nlimits: { queue_tolerance: 0.25 }\n", err,
	    sizeof(err));
	OK(c && c->lanes.lane[OG_LANE_BULK].max_inflight == 64 &&
	       c->lanes.lane[OG_LANE_NORMAL].max_inflight == 0 && c->limits.queue_tolerance == 0.25,
	   "bulk.max_inflight 64 (normal none), limits.queue_tolerance 0.25 (%s)", err);
	config_free(c);
	c = cfg_test_load("lanes: { bulk: }\n", err, sizeof(err));
	OK(c && c->limits.queue_tolerance == 0.1, "queue_tolerance defaults to 0.1");
	config_free(c);
	c = cfg_test_load("limits: { slow: { syn_rate: 1 } }\n", err, sizeof(err));
	OK(c && c->limits.slow.syn_rate == 1 && c->limits.slow.pkt_rate == 50000 &&
	       c->limits.slow.calm_windows == 3,
	   "limits.slow: an unwritten key keeps its default (%s)", err);
	config_free(c);

	/* lanes without limits: the controller's defaults; limit defaults; skb = generic */
	c = cfg_test_load("xdp: { interface: veth0, mode: skb }\nlanes:\n  bulk:\n"
			  "routes:\n  - match: {}\n    respond: {}\n    limit: { rps: 50 }\n",
			  err, sizeof(err));
	OK(c != NULL, "lanes without limits loads (%s)", err);
	if (!c)
		return;
	OK(c->lanes.present && !c->limits.present && c->limits.fast_ms == 100 &&
	       c->limits.slow_ms == 1000 && c->limits.decrease > 0.69 && c->limits.floor == 4 &&
	       c->limits.ceiling == 4096 && c->limits.grow_after == 3 && !c->limits.cancel_method,
	   "limits defaults without a limits: section");
	OK(c->xdp.mode == 2, "xdp mode skb is generic");
	OK(c->routes[0].limit.rps == 50 && c->routes[0].limit.burst == 50 &&
	       c->routes[0].limit.key_kind == CFG_LKEY_SOURCE,
	   "limit: burst defaults to rps, key to source");
	config_free(c);
	c = cfg_test_load("lanes:\n  trusted: [\"2001:db8::/32\", \"192.0.2.7\"]\n", err,
			  sizeof(err));
	OK(c && c->lanes.n_trusted == 2 && c->lanes.trusted[0].family == AF_INET6 &&
	       c->lanes.trusted[0].prefix_len == 32 && c->lanes.trusted[1].prefix_len == 32,
	   "trusted: IPv6 prefix and a bare IPv4 address (%s)", err);
	config_free(c);
	c = cfg_test_load(
	    "limits: { dry_run: true, floor: 2, ceiling: 64, grow_after: 5, decrease: 0.5 }\n", err,
	    sizeof(err));
	OK(c && c->limits.dry_run && c->limits.floor == 2 && c->limits.ceiling == 64 &&
	       c->limits.grow_after == 5 && c->limits.decrease == 0.5 && !c->lanes.present,
	   "limits alone: dry_run, floor, ceiling, grow_after (%s)", err);
	config_free(c);
}

static void test_file_errors(void)
{
	char err[512];
	struct config *c = config_load_file("/nonexistent/og.yaml", err, sizeof(err));
	char path[] = "/tmp/og-test-config.XXXXXX";
	int fd;

	OK(!c && strstr(err, "/nonexistent/og.yaml: cannot open"), "missing file: %s", err);
	c = config_load_file("/tmp", err, sizeof(err));
	OK(!c && strstr(err, "/tmp: not a regular file"), "directory refused: %s", err);
	fd = mkstemp(path);
	if (fd >= 0) {
		const char *y = "workers: 1\nrouts: []\n";

		OK(write(fd, y, strlen(y)) == (ssize_t)strlen(y), "write temp config");
		close(fd);
		c = config_load_file(path, err, sizeof(err));
		char want[128];

		snprintf(want, sizeof(want),
			 "%s:2:1: unknown key \"routs\" at top level (did you "
			 "mean \"routes\"?)",
			 path);
		OK(!c && !strcmp(err, want), "file error names the path: %s", err);
		unlink(path);
	}
	config_free(c);
}

/* dump -> load -> dump gives the same text and the same model. */
static void roundtrip(const char *what, const char *y)
{
	char err[512] = "";
	struct config *a = cfg_test_load(y, err, sizeof(err)), *b;
	char *da, *db;

	OK(a != NULL, "roundtrip %s: first load (%s)", what, err);
	if (!a)
		return;
	da = cfg_test_dump(a);
	b = config_load_string(da, strlen(da), "cfg.yaml", err, sizeof(err));
	OK(b != NULL, "roundtrip %s: dump loads again (%s)", what, b ? "ok" : err);
	if (!b) {
		og_diag("dump was:\n%s", da);
		free(da);
		config_free(a);
		return;
	}
	db = cfg_test_dump(b);
	OK(!strcmp(da, db), "roundtrip %s: second dump identical", what);
	OK(a->n_routes == b->n_routes && a->n_upstreams == b->n_upstreams &&
	       a->workers == b->workers && a->n_listen == b->n_listen,
	   "roundtrip %s: same shape", what);
	for (int i = 0; i < a->n_routes && i < b->n_routes; i++) {
		const struct cfg_route *x = &a->routes[i], *z = &b->routes[i];

		OK(x->is_respond == z->is_respond && x->status == z->status &&
		       x->body_len == z->body_len &&
		       !memcmp(x->body ? x->body : "", z->body ? z->body : "", x->body_len) &&
		       x->max_body == z->max_body && x->request_buffer == z->request_buffer &&
		       x->n_methods == z->n_methods && x->upstream == z->upstream &&
		       !strcmp(x->name, z->name) && x->n_resp_headers == z->n_resp_headers &&
		       !!x->header_name == !!z->header_name && x->lane == z->lane &&
		       x->has_limit == z->has_limit && x->limit.rps == z->limit.rps &&
		       x->limit.burst == z->limit.burst && x->limit.key_kind == z->limit.key_kind,
		   "roundtrip %s: route %d equal", what, i + 1);
	}
	OK(a->lanes.present == b->lanes.present && a->lanes.n_trusted == b->lanes.n_trusted &&
	       !memcmp(a->lanes.trusted, b->lanes.trusted,
		       (size_t)a->lanes.n_trusted * sizeof(*a->lanes.trusted)) &&
	       a->xdp.present == b->xdp.present && a->xdp.mode == b->xdp.mode &&
	       !strcmp(a->xdp.ifname, b->xdp.ifname) && a->limits.decrease == b->limits.decrease &&
	       a->limits.dry_run == b->limits.dry_run && a->limits.floor == b->limits.floor &&
	       !!a->limits.cancel_method == !!b->limits.cancel_method &&
	       !!a->limits.kill_path == !!b->limits.kill_path &&
	       !memcmp(&a->limits.slow, &b->limits.slow, sizeof(a->limits.slow)) &&
	       !strcmp(a->xdp.pin_path ? a->xdp.pin_path : "-",
		       b->xdp.pin_path ? b->xdp.pin_path : "-"),
	   "roundtrip %s: lanes, limits, xdp equal", what);
	for (int l = 0; l < OG_LANE_MAX; l++) {
		const struct cfg_lane *x = &a->lanes.lane[l], *z = &b->lanes.lane[l];

		OK(x->class_id == z->class_id && x->slo_p99_ms == z->slo_p99_ms &&
		       x->reserve_workers == z->reserve_workers &&
		       x->others_nice == z->others_nice && x->n_dst_ports == z->n_dst_ports &&
		       x->n_src_cidrs == z->n_src_cidrs,
		   "roundtrip %s: lane %d equal", what, l);
	}
	for (int i = 0; i < a->n_upstreams && i < b->n_upstreams; i++) {
		const struct cfg_upstream *x = &a->upstreams[i], *z = &b->upstreams[i];

		OK(x->n_servers == z->n_servers && x->balance == z->balance &&
		       x->keepalive == z->keepalive && x->timeout_ms == z->timeout_ms &&
		       x->health.enabled == z->health.enabled &&
		       x->breaker.open_ms == z->breaker.open_ms &&
		       !memcmp(&x->breaker.statuses, &z->breaker.statuses,
			       sizeof(x->breaker.statuses)) &&
		       !memcmp(&x->outlier.statuses, &z->outlier.statuses,
			       sizeof(x->outlier.statuses)) &&
		       x->outlier.max_ejection_percent == z->outlier.max_ejection_percent &&
		       x->keepalive_timeout_ms == z->keepalive_timeout_ms &&
		       x->keepalive_requests == z->keepalive_requests &&
		       x->max_connections == z->max_connections &&
		       !memcmp(&x->servers[0].ss, &z->servers[0].ss, sizeof(x->servers[0].ss)),
		   "roundtrip %s: upstream %s equal", what, x->name);
	}
	free(da);
	free(db);
	config_free(a);
	config_free(b);
}

static void test_roundtrip(void)
{
	roundtrip("default", config_default_yaml);
	roundtrip("issue", "workers: 1\nlisten: [\"127.0.0.1:18080\"]\nadmin: { listen: "
			   "\"127.0.0.1:19901\" }\nupstreams:\n  origin: { servers: "
			   "[\"127.0.0.1:18081\"], keepalive: 64 }\nroutes:\n  - match: { path: "
			   "/ping }\n    respond: { status: 200, body: \"pong\" }\n  - match: { "
			   "path_prefix: /api/ }\n    upstream: origin\n");
	roundtrip("everything",
		  "workers: 3\nlisten: [\"[::1]:8443\", \":8080\"]\nadmin: off\n"
		  "access_log: { path: \"/tmp/a \\\"q\\\".log\" }\nshutdown_grace_ms: 0\n"
		  "keepalive_timeout_ms: 0\nmax_connections: 7\n"
		  "upstreams:\n"
		  "  a.b: { servers: [\"[::1]:9000\", \"10.1.2.3:7\"], balance: hash(header:X-U),"
		  " retries: 0, health: { path: /h, rise: 9 }, outlier: { consecutive_5xx: 0 } }\n"
		  "  c: { servers: [\"127.0.0.1:1\"], balance: least_request }\n"
		  "routes:\n"
		  "  - name: r/1\n    match: { path_prefix: /x, method: [POST, M-SEARCH],"
		  " header: { name: x-a, value: \"b \\\"c\\\"\" } }\n    upstream: c\n"
		  "  - match: { path: /ping }\n    respond: { status: 503, body: "
		  "\"a\\tb\\n\\u00e9\\x00\","
		  " headers: { x-why: \"it's \\\\ here\", Cache-Control: no-store } }\n"
		  "    max_body: 0\n"
		  "  - match: {}\n    upstream: a.b\n    max_body: 1m\n");
	roundtrip("lanes",
		  "workers: 3\nxdp: { interface: \"veth-og0\", mode: generic, pin_path: /p/x }\n"
		  "lanes:\n  trusted: [\"10.0.0.0/8\", \"fd00::/8\"]\n"
		  "  order: { class: \"1:a\", slo_p99_ms: 5, reserve_workers: 2, others_nice: 7,"
		  " match: { dst_ports: [9443, 9444], src_cidrs: [\"10.20.0.0/16\"] } }\n"
		  "  bulk: { class: \"1:30\" }\n"
		  "limits: { decrease: 0.65, dry_run: true, cancel: { method: DELETE },"
		  " kill_switch: { path: /kill }, slow: { pkt_rate: 7, calm_windows: 9 } }\n"
		  "upstreams:\n  o: { servers: [\"127.0.0.1:1\"] }\n"
		  "routes:\n  - match: {}\n    upstream: o\n    lane: bulk\n"
		  "    limit: { rps: 7, key: \"header:x-u\" }\n"
		  "  - match: {}\n    respond: {}\n    limit: { rps: 1, burst: 9, key: none }\n");
}

int main(void)
{
	test_issue_file();
	test_default();
	test_examples();
	test_good_variants();
	test_bad();
	test_lanes_issue();
	test_file_errors();
	test_roundtrip();
	return og_done();
}
