// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The effective config as YAML that config_load_string accepts again (admin /config). */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"

/* A YAML double-quoted scalar: escapes ", \ and every control byte; UTF-8 passes through. */
static void q(struct evbuffer *out, const char *s, size_t n)
{
	evbuffer_add(out, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			evbuffer_add_printf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			evbuffer_add_printf(out, "\\x%02x", ch);
		else
			evbuffer_add(out, &s[i], 1);
	}
	evbuffer_add(out, "\"", 1);
}

static void qs(struct evbuffer *out, const char *s)
{
	q(out, s, strlen(s));
}

static const char *const lane_name[OG_LANE_MAX] = {"none", "order", "normal", "bulk"};
static void dump_statuses(struct evbuffer *out, const struct cfg_statuses *set)
{
	const char *sep = "";

	evbuffer_add(out, "[", 1);
	for (unsigned st = 500; st < 600; st++)
		if (cfg_status_counts(set, st)) {
			evbuffer_add_printf(out, "%s%u", sep, st);
			sep = ", ";
		}
	evbuffer_add(out, "]", 1);
}

static void dump_upstream(const struct cfg_upstream *u, struct evbuffer *out)
{
	evbuffer_add(out, "  ", 2);
	qs(out, u->name);
	evbuffer_add_printf(out, ":\n    servers: [");
	for (int i = 0; i < u->n_servers; i++) {
		if (i)
			evbuffer_add(out, ", ", 2);
		qs(out, u->servers[i].text);
	}
	evbuffer_add_printf(out, "]\n    balance: ");
	switch (u->balance) {
	case CFG_BAL_LEAST_REQUEST:
		evbuffer_add_printf(out, "least_request\n");
		break;
	case CFG_BAL_HASH_HEADER:
		evbuffer_add_printf(out, "\"hash(header:%s)\"\n", u->hash_header);
		break;
	case CFG_BAL_HASH_SOURCE:
		evbuffer_add_printf(out, "hash(source)\n");
		break;
	default:
		evbuffer_add_printf(out, "round_robin\n");
	}
	evbuffer_add_printf(out,
			    "    keepalive: %u\n    connect_timeout_ms: %u\n    timeout_ms: %u\n"
			    "    retries: %u\n",
			    u->keepalive, u->connect_timeout_ms, u->timeout_ms, u->retries);
	if (u->health.enabled) {
		evbuffer_add_printf(out, "    health: { path: ");
		qs(out, u->health.path);
		evbuffer_add_printf(
		    out, ", interval_ms: %u, timeout_ms: %u, rise: %u, fall: %u }\n",
		    u->health.interval_ms, u->health.timeout_ms, u->health.rise, u->health.fall);
	}
	evbuffer_add_printf(out, "    breaker: { consecutive_failures: %u, open_ms: %u, statuses: ",
			    u->breaker.consecutive_failures, u->breaker.open_ms);
	dump_statuses(out, &u->breaker.statuses);
	evbuffer_add_printf(out,
			    " }\n    outlier: { consecutive_5xx: %u, eject_ms: %u, "
			    "max_ejection_percent: %u, statuses: ",
			    u->outlier.consecutive_5xx, u->outlier.eject_ms,
			    u->outlier.max_ejection_percent);
	dump_statuses(out, &u->outlier.statuses);
	evbuffer_add_printf(out,
			    " }\n    keepalive_timeout_ms: %u\n    keepalive_requests: %u\n"
			    "    max_connections: %u\n",
			    u->keepalive_timeout_ms, u->keepalive_requests, u->max_connections);
}

/* idempotency: and fault: of route <r>, when present. */
static void dump_guards(const struct cfg_route *r, struct evbuffer *out)
{
	if (r->has_idem) {
		evbuffer_add_printf(
		    out,
		    "    idempotency: { window_ms: %u, max_entries: %u, max_key: %u, "
		    "max_response: %u, scope: ",
		    r->idem.window_ms, r->idem.max_entries, r->idem.max_key, r->idem.max_response);
		if (r->idem.scope == CFG_IDEM_SCOPE_HEADER)
			evbuffer_add_printf(out, "\"header:%s\" }\n", r->idem.scope_header);
		else
			evbuffer_add_printf(out, "%s }\n",
					    r->idem.scope == CFG_IDEM_SCOPE_NONE ? "none"
										 : "source");
	}
	if (r->has_fault)
		evbuffer_add_printf(
		    out,
		    "    fault: { delay_ms: %u, delay_jitter_ms: %u, delay_percent: %u, "
		    "abort_status: %u, abort_percent: %u }\n",
		    r->fault.delay_ms, r->fault.delay_jitter_ms, r->fault.delay_percent,
		    r->fault.abort_status, r->fault.abort_percent);
}

static void dump_route(const struct config *c, const struct cfg_route *r, struct evbuffer *out)
{
	const char *sep = " ";

	evbuffer_add_printf(out, "  - name: ");
	qs(out, r->name);
	evbuffer_add_printf(out, "\n    match: {");
	if (r->path) {
		evbuffer_add_printf(out, " path: ");
		qs(out, r->path);
		sep = ", ";
	} else if (r->path_prefix) {
		evbuffer_add_printf(out, " path_prefix: ");
		qs(out, r->path_prefix);
		sep = ", ";
	}
	if (r->n_methods) {
		evbuffer_add_printf(out, "%smethod: [", sep);
		for (int i = 0; i < r->n_methods; i++) {
			if (i)
				evbuffer_add(out, ", ", 2);
			qs(out, r->method_names[i]);
		}
		evbuffer_add(out, "]", 1);
		sep = ", ";
	}
	if (r->header_name) {
		evbuffer_add_printf(out, "%sheader: { name: ", sep);
		qs(out, r->header_name);
		evbuffer_add_printf(out, ", value: ");
		qs(out, r->header_value);
		evbuffer_add_printf(out, " }");
		sep = ", ";
	}
	evbuffer_add_printf(out, "%s}\n", *sep == ',' ? " " : "");
	if (r->is_respond) {
		evbuffer_add_printf(out, "    respond:\n      status: %u\n      body: ", r->status);
		q(out, r->body, r->body_len);
		evbuffer_add_printf(out, "\n");
		if (r->n_resp_headers) {
			evbuffer_add_printf(out, "      headers:\n");
			for (int i = 0; i < r->n_resp_headers; i++) {
				evbuffer_add_printf(out, "        ");
				qs(out, r->resp_headers[i].name);
				evbuffer_add_printf(out, ": ");
				qs(out, r->resp_headers[i].value);
				evbuffer_add_printf(out, "\n");
			}
		}
	} else {
		evbuffer_add_printf(out, "    upstream: ");
		qs(out, c->upstreams[r->upstream].name);
		evbuffer_add_printf(out, "\n");
	}
	evbuffer_add_printf(out, "    max_body: %llu\n    request_buffer: %u\n",
			    (unsigned long long)r->max_body, r->request_buffer);
	dump_guards(r, out);
	if (r->lane)
		evbuffer_add_printf(out, "    lane: %s\n", lane_name[r->lane]);
	if (r->has_limit) {
		evbuffer_add_printf(out, "    limit: { rps: %u, burst: %u, key: ", r->limit.rps,
				    r->limit.burst);
		if (r->limit.key_kind == CFG_LKEY_HEADER) {
			evbuffer_add_printf(out, "\"header:%s\" }\n", r->limit.key_header);
		} else {
			evbuffer_add_printf(out, "%s }\n",
					    r->limit.key_kind == CFG_LKEY_NONE ? "none" : "source");
		}
	}
}

static void dump_cidrs(struct evbuffer *out, const struct cfg_cidr *v, int n)
{
	char a[INET6_ADDRSTRLEN];

	evbuffer_add(out, "[", 1);
	for (int i = 0; i < n; i++) {
		inet_ntop(v[i].family, v[i].addr, a, sizeof(a));
		evbuffer_add_printf(out, "%s\"%s/%u\"", i ? ", " : "", a, v[i].prefix_len);
	}
	evbuffer_add(out, "]", 1);
}

static void dump_lanes(const struct config *c, struct evbuffer *out)
{
	const struct cfg_limits *l = &c->limits;

	if (c->xdp.present) {
		evbuffer_add_printf(out, "xdp: { interface: ");
		qs(out, c->xdp.ifname);
		evbuffer_add_printf(out, ", mode: %s",
				    c->xdp.mode == 1   ? "native"
				    : c->xdp.mode == 2 ? "generic"
						       : "auto");
		if (c->xdp.pin_path) { /* absent: an adopted attach's own pin dir */
			evbuffer_add_printf(out, ", pin_path: ");
			qs(out, c->xdp.pin_path);
		}
		evbuffer_add_printf(out, " }\n");
	}
	if (c->lanes.present) {
		evbuffer_add_printf(out, "lanes:\n  trusted: ");
		dump_cidrs(out, c->lanes.trusted, c->lanes.n_trusted);
		evbuffer_add_printf(out, "\n");
		for (int i = OG_LANE_ORDER; i < OG_LANE_MAX; i++) {
			const struct cfg_lane *ln = &c->lanes.lane[i];

			evbuffer_add_printf(out, "  %s: { ", lane_name[i]);
			if (ln->class_id)
				evbuffer_add_printf(out, "class: \"%s\", ", ln->class_str);
			evbuffer_add_printf(out, "slo_p99_ms: %u", ln->slo_p99_ms);
			if (ln->max_inflight)
				evbuffer_add_printf(out, ", max_inflight: %u", ln->max_inflight);
			if (i == OG_LANE_ORDER) {
				evbuffer_add_printf(
				    out,
				    ", reserve_workers: %u, others_nice: %u, match: "
				    "{ dst_ports: [",
				    ln->reserve_workers, ln->others_nice);
				for (int p = 0; p < ln->n_dst_ports; p++)
					evbuffer_add_printf(out, "%s%u", p ? ", " : "",
							    ln->dst_ports[p]);
				evbuffer_add_printf(out, "], src_cidrs: ");
				dump_cidrs(out, ln->src_cidrs, ln->n_src_cidrs);
				evbuffer_add_printf(out, " }");
			}
			evbuffer_add_printf(out, " }\n");
		}
	}
	evbuffer_add_printf(out,
			    "limits:\n  fast_ms: %u\n  slow_ms: %u\n  decrease: %g\n  dry_run: %s\n"
			    "  floor: %u\n  ceiling: %u\n  grow_after: %u\n  queue_tolerance: %g\n",
			    l->fast_ms, l->slow_ms, l->decrease, l->dry_run ? "true" : "false",
			    l->floor, l->ceiling, l->grow_after, l->queue_tolerance);
	evbuffer_add_printf(
	    out,
	    "  slow: { syn_rate: %u, pkt_rate: %u, reject_rate: %u, throttle_pps: %u,"
	    " throttle_burst: %u, throttle_ttl_ms: %u, calm_windows: %u }\n",
	    l->slow.syn_rate, l->slow.pkt_rate, l->slow.reject_rate, l->slow.throttle_pps,
	    l->slow.throttle_burst, l->slow.throttle_ttl_ms, l->slow.calm_windows);
	if (l->cancel_method) {
		evbuffer_add_printf(out, "  cancel: { method: ");
		qs(out, l->cancel_method);
		if (l->cancel_prefix) {
			evbuffer_add_printf(out, ", path_prefix: ");
			qs(out, l->cancel_prefix);
		}
		evbuffer_add_printf(out, " }\n");
	}
	if (l->kill_path) {
		evbuffer_add_printf(out, "  kill_switch: { path: ");
		qs(out, l->kill_path);
		evbuffer_add_printf(out, " }\n");
	}
}

void config_dump(const struct config *c, struct evbuffer *out)
{
	evbuffer_add_printf(out, "# effective config of ");
	qs(out, c->source ? c->source : "?");
	evbuffer_add_printf(out, " (defaults filled in)\nworkers: %u\nlisten: [", c->workers);
	for (int i = 0; i < c->n_listen; i++) {
		if (i)
			evbuffer_add(out, ", ", 2);
		qs(out, c->listen[i].text);
	}
	evbuffer_add_printf(out, "]\n");
	if (c->admin_enabled) {
		evbuffer_add_printf(out, "admin: { listen: ");
		qs(out, c->admin.text);
		if (c->admin_token_file) { /* the path, never the token */
			evbuffer_add_printf(out, ", token_file: ");
			qs(out, c->admin_token_file);
		}
		evbuffer_add_printf(out, " }\n");
	} else {
		evbuffer_add_printf(out, "admin: off\n");
	}
	if (c->access_log.enabled && c->access_log.path) {
		evbuffer_add_printf(out, "access_log: { path: ");
		qs(out, c->access_log.path);
		evbuffer_add_printf(out, " }\n");
	} else {
		evbuffer_add_printf(out, "access_log: off\n");
	}
	evbuffer_add_printf(out,
			    "max_connections: %u\nshutdown_grace_ms: %u\nheader_timeout_ms: %u\n"
			    "body_timeout_ms: %u\nkeepalive_timeout_ms: %u\nwrite_timeout_ms: %u\n",
			    c->max_connections, c->shutdown_grace_ms, c->header_timeout_ms,
			    c->body_timeout_ms, c->keepalive_timeout_ms, c->write_timeout_ms);
	dump_lanes(c, out);
	if (c->user) {
		evbuffer_add_printf(out, "user: ");
		qs(out, c->user);
		evbuffer_add_printf(out, "\n");
	}
	evbuffer_add_printf(out, "trusted_proxies: [");
	for (int i = 0; i < c->n_trusted; i++) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(c->trusted[i].family, c->trusted[i].addr, a, sizeof(a));
		evbuffer_add_printf(out, "%s\"%s/%u\"", i ? ", " : "", a, c->trusted[i].prefix_len);
	}
	evbuffer_add_printf(out, "]\n");
	evbuffer_add_printf(out, "order_reserve: { percent: %u, ports: [",
			    c->order_reserve.percent);
	for (int i = 0; i < c->order_reserve.n_ports; i++)
		evbuffer_add_printf(out, "%s%u", i ? ", " : "", c->order_reserve.ports[i]);
	evbuffer_add_printf(out, "] }\n");
	evbuffer_add_printf(out, "upstreams:%s\n", c->n_upstreams ? "" : " {}");
	for (int i = 0; i < c->n_upstreams; i++)
		dump_upstream(&c->upstreams[i], out);
	evbuffer_add_printf(out, "routes:%s\n", c->n_routes ? "" : " []");
	for (int i = 0; i < c->n_routes; i++)
		dump_route(c, &c->routes[i], out);
}
