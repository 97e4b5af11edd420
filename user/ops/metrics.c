// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Merges the per-worker counters and histograms and renders them as Prometheus text. */
#include "ops/metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "ops/accesslog.h"
#include "core/daemon.h"
#include "lanes/ctrl.h"
#include "lanes/lstate.h"
#include "lanes/klink.h"

#define METRICS_REASON_NAME(id, s) s,
static const char *const reason_names[OG_REASON__N] = {METRICS_REASONS(METRICS_REASON_NAME)};
#undef METRICS_REASON_NAME

static const char *const class_names[METRICS_NCLASS] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

enum og_reason metrics_reason(const char *reason)
{
	if (!reason)
		return OG_REASON_OTHER;
	for (int i = 1; i < OG_REASON__N; i++)
		if (!strcmp(reason, reason_names[i]))
			return (enum og_reason)i;
	return OG_REASON_OTHER;
}

const char *metrics_reason_name(enum og_reason r)
{
	return (unsigned)r < OG_REASON__N ? reason_names[r] : reason_names[0];
}

struct metrics_worker *metrics_worker_new(void)
{
	/* calloc of this size is an mmap: pages for unused routes/servers are never touched */
	return calloc(1, sizeof(struct metrics_worker));
}

void metrics_worker_free(struct metrics_worker *m)
{
	free(m);
}

void metrics_route_histo(const struct og_daemon *d, int route, struct og_histo_snap *out)
{
	unsigned r = (unsigned)route < CFG_MAX_ROUTES ? (unsigned)route : METRICS_NO_ROUTE;

	for (int w = 0; w < d->n_workers; w++)
		if (d->workers[w].metrics)
			histo_snap_add(out, &d->workers[w].metrics->route_dur[r]);
}

void metrics_upstream_histo(const struct og_daemon *d, int up, struct og_histo_snap *out)
{
	if ((unsigned)up >= CFG_MAX_UPSTREAMS)
		return;
	for (int w = 0; w < d->n_workers; w++)
		if (d->workers[w].metrics)
			histo_snap_add(out, &d->workers[w].metrics->up_dur[up]);
}

static uint64_t ld(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static int64_t lds(const _Atomic int64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

/* Append <s> as a label value: backslash, double quote and newline escaped. */
static void label(struct evbuffer *out, const char *s)
{
	const char *p = s ? s : "";

	for (; *p; p++) {
		const char *run = p;

		while (*p && *p != '\\' && *p != '"' && *p != '\n')
			p++;
		if (p > run)
			evbuffer_add(out, run, (size_t)(p - run));
		if (!*p)
			break;
		evbuffer_add(out, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n", 2);
	}
}

static void head(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Seconds from nanoseconds, printed exactly enough for Prometheus (ns precision). */
static void add_secs(struct evbuffer *out, uint64_t ns)
{
	evbuffer_add_printf(out, "%llu.%09llu", (unsigned long long)(ns / 1000000000ull),
			    (unsigned long long)(ns % 1000000000ull));
}

/* `le` bound of bucket edge <us> in seconds, without trailing zeros: 0.000512, 1.048576. */
static void add_le(struct evbuffer *out, uint64_t us)
{
	char frac[8];
	int n;

	n = snprintf(frac, sizeof(frac), "%06llu", (unsigned long long)(us % 1000000));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = 0;
	if (n)
		evbuffer_add_printf(out, "%llu.%s", (unsigned long long)(us / 1000000), frac);
	else
		evbuffer_add_printf(out, "%llu", (unsigned long long)(us / 1000000));
}

/* One Prometheus histogram series: <name>{<lname>="<lval>",le=...}. */
static void histo_series(struct evbuffer *out, const char *name, const char *lname,
			 const char *lval, const struct og_histo_snap *s, const unsigned *le,
			 int n_le)
{
	for (int i = 0; i < n_le; i++) {
		evbuffer_add_printf(out, "%s_bucket{%s=\"", name, lname);
		label(out, lval);
		evbuffer_add_printf(out, "\",le=\"");
		add_le(out, histo_upper_us(le[i]));
		evbuffer_add_printf(out, "\"} %llu\n", (unsigned long long)histo_cum(s, le[i]));
	}
	evbuffer_add_printf(out, "%s_bucket{%s=\"", name, lname);
	label(out, lval);
	evbuffer_add_printf(out, "\",le=\"+Inf\"} %llu\n%s_sum{%s=\"", (unsigned long long)s->count,
			    name, lname);
	label(out, lval);
	evbuffer_add_printf(out, "\"} ");
	add_secs(out, s->sum_ns);
	evbuffer_add_printf(out, "\n%s_count{%s=\"", name, lname);
	label(out, lval);
	evbuffer_add_printf(out, "\"} %llu\n", (unsigned long long)s->count);
}

/* Upstream/server label pair. */
static void up_labels(struct evbuffer *out, const char *up, const char *srv)
{
	evbuffer_add_printf(out, "{upstream=\"");
	label(out, up);
	evbuffer_add_printf(out, "\",server=\"");
	label(out, srv);
	evbuffer_add_printf(out, "\"");
}

/* Sum of og_wstats field at byte offset <off> over every worker. */
static uint64_t wsum(const struct og_daemon *d, size_t off)
{
	uint64_t s = 0;

	for (int i = 0; i < d->n_workers; i++)
		s += ld((const _Atomic uint64_t *)((const char *)&d->workers[i].stats + off));
	return s;
}
#define WSUM(d, f) wsum((d), offsetof(struct og_wstats, f))

static void counter1(struct evbuffer *out, const char *name, const char *help, uint64_t v)
{
	head(out, name, "counter", help);
	evbuffer_add_printf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge1(struct evbuffer *out, const char *name, const char *help, long long v)
{
	head(out, name, "gauge", help);
	evbuffer_add_printf(out, "%s %lld\n", name, v);
}

static void render_process(struct evbuffer *out, const struct og_daemon *d, const struct og_rt *rt)
{
	head(out, "ordergate_build_info", "gauge", "Build of the running ordergated (always 1).");
	evbuffer_add_printf(out, "ordergate_build_info{version=\"%s\",libevent=\"", OG_VERSION);
	label(out, event_get_version());
	evbuffer_add_printf(out, "\",compiler=\"");
	label(out, __VERSION__);
	evbuffer_add_printf(out, "\"} 1\n");
	gauge1(out, "ordergate_process_start_time_seconds",
	       "Start time of the process since the Unix epoch.", (long long)d->start_wall_s);
	gauge1(out, "ordergate_workers", "Worker threads.", d->n_workers);
	gauge1(out, "ordergate_ready", "1 when /readyz would answer 200.",
	       (long long)atomic_load_explicit(&d->ready, memory_order_relaxed));
	gauge1(out, "ordergate_draining", "1 after SIGTERM while in-flight requests finish.",
	       (long long)atomic_load_explicit(&d->draining, memory_order_relaxed));
	gauge1(out, "ordergate_config_generation", "Generation of the running config (1 at start).",
	       rt ? (long long)rt->gen : 0);
	gauge1(out, "ordergate_config_generations_live",
	       "Config generations in memory: the running one plus old ones still referenced or "
	       "in their grace period.",
	       (long long)atomic_load_explicit(&d->gens_live, memory_order_relaxed));
	head(out, "ordergate_worker_config_generation", "gauge",
	     "Config generation each worker adopted (new requests run on it).");
	for (int i = 0; i < d->n_workers; i++)
		evbuffer_add_printf(out, "ordergate_worker_config_generation{worker=\"%d\"} %llu\n",
				    i, (unsigned long long)ld(&d->workers[i].rt_gen));
	head(out, "ordergate_config_reloads_total", "counter", "Config reloads by result.");
	evbuffer_add_printf(out,
			    "ordergate_config_reloads_total{result=\"ok\"} %llu\n"
			    "ordergate_config_reloads_total{result=\"failed\"} %llu\n",
			    (unsigned long long)ld(&d->reloads_ok),
			    (unsigned long long)ld(&d->reloads_failed));
}

static void render_clients(struct evbuffer *out, const struct og_daemon *d)
{
	uint64_t open = WSUM(d, conns_active), idle = WSUM(d, conns_idle);

	head(out, "ordergate_client_connections", "gauge",
	     "Open client connections: active (a request in progress) or idle (keep-alive).");
	evbuffer_add_printf(out,
			    "ordergate_client_connections{state=\"active\"} %llu\n"
			    "ordergate_client_connections{state=\"idle\"} %llu\n",
			    (unsigned long long)(open > idle ? open - idle : 0),
			    (unsigned long long)idle);
	counter1(out, "ordergate_client_connections_accepted_total", "Client connections accepted.",
		 WSUM(d, conns_accepted));
	counter1(out, "ordergate_client_requests_parsed_total", "Requests whose head was parsed.",
		 WSUM(d, requests));
	counter1(out, "ordergate_client_parse_errors_total",
		 "Requests refused by the HTTP parser (4xx and close).", WSUM(d, parse_errors));
	counter1(out, "ordergate_client_timeouts_total", "Client header, body or write timeouts.",
		 WSUM(d, timeouts));
	{
		static const char *const why[OG_CLOSE__COUNT] = {"limit", "shed", "header_timeout",
								 "body_timeout", "write_timeout"};

		head(out, "ordergate_client_connections_closed_total", "counter",
		     "Client connections the gateway closed, by reason: limit (refused at "
		     "max_connections), shed (an incomplete or idle head closed for a new "
		     "connection), header/body/write timeouts.");
		for (int r = 0; r < OG_CLOSE__COUNT; r++)
			evbuffer_add_printf(
			    out,
			    "ordergate_client_connections_closed_total{reason=\"%s\"} "
			    "%llu\n",
			    why[r], (unsigned long long)WSUM(d, conns_closed[r]));
	}
	counter1(out, "ordergate_client_received_bytes_total", "Bytes read from clients.",
		 WSUM(d, bytes_in));
	counter1(out, "ordergate_client_sent_bytes_total", "Bytes written to clients.",
		 WSUM(d, bytes_out));
}

static void render_routes(struct evbuffer *out, const struct og_daemon *d, const struct config *cfg,
			  const unsigned *le, int n_le)
{
	int nr = cfg ? cfg->n_routes : 0;
	struct og_histo_snap *s;

	head(out, "ordergate_requests_total", "counter",
	     "Requests answered, by route and status class (route _none: no route matched).");
	for (int r = 0; r <= nr; r++) {
		unsigned ri = r < nr ? (unsigned)r : METRICS_NO_ROUTE;
		const char *name = r < nr ? cfg->routes[r].name : "_none";

		for (int c = 0; c < METRICS_NCLASS; c++) {
			uint64_t v = 0;

			for (int w = 0; w < d->n_workers; w++)
				if (d->workers[w].metrics)
					v += ld(&d->workers[w].metrics->route_cls[ri][c]);
			if (c == 0 && !v)
				continue; /* "none" only once something closed unanswered */
			evbuffer_add_printf(out, "ordergate_requests_total{route=\"");
			label(out, name);
			evbuffer_add_printf(out, "\",code_class=\"%s\"} %llu\n", class_names[c],
					    (unsigned long long)v);
		}
	}
	s = malloc(sizeof(*s));
	if (!s)
		return;
	head(out, "ordergate_request_duration_seconds", "histogram",
	     "Time from the first byte of the request head to the last byte of the response, by "
	     "route.");
	for (int r = 0; r <= nr; r++) {
		unsigned ri = r < nr ? (unsigned)r : METRICS_NO_ROUTE;

		memset(s, 0, sizeof(*s));
		metrics_route_histo(d, (int)ri, s);
		histo_series(out, "ordergate_request_duration_seconds", "route",
			     r < nr ? cfg->routes[r].name : "_none", s, le, n_le);
	}
	free(s);
}

static uint32_t srv_breaker(const struct og_server *sv)
{
	/* exported as 0 closed, 1 half-open, 2 open: the order of increasing trouble */
	switch (atomic_load_explicit(&sv->breaker, memory_order_relaxed)) {
	case OG_BRK_OPEN:
		return 2;
	case OG_BRK_HALF_OPEN:
		return 1;
	default:
		return 0;
	}
}

static void render_upstreams(struct evbuffer *out, const struct og_daemon *d,
			     const struct og_rt *rt, const unsigned *le, int n_le)
{
	int nu = rt && rt->cfg ? rt->cfg->n_upstreams : 0;
	struct og_histo_snap *s;

	head(out, "ordergate_upstream_requests_total", "counter",
	     "Upstream exchanges by server and response status class (none: failed without a "
	     "response).");
	for (int u = 0; u < nu; u++) {
		const struct og_upstream_rt *up = &rt->ups[u];

		for (int k = 0; k < up->n_servers && k < CFG_MAX_SERVERS; k++)
			for (int c = 0; c < METRICS_NCLASS; c++) {
				uint64_t v = 0;

				for (int w = 0; w < d->n_workers; w++)
					if (d->workers[w].metrics)
						v += ld(&d->workers[w].metrics->srv_cls[u][k][c]);
				evbuffer_add_printf(out, "ordergate_upstream_requests_total");
				up_labels(out, up->cfg->name, up->servers[k].addr->text);
				evbuffer_add_printf(out, ",code_class=\"%s\"} %llu\n",
						    class_names[c], (unsigned long long)v);
			}
	}
	s = malloc(sizeof(*s));
	if (s) {
		head(out, "ordergate_upstream_request_duration_seconds", "histogram",
		     "Time from the request sent upstream to the response complete, by upstream.");
		for (int u = 0; u < nu; u++) {
			memset(s, 0, sizeof(*s));
			metrics_upstream_histo(d, u, s);
			histo_series(out, "ordergate_upstream_request_duration_seconds", "upstream",
				     rt->ups[u].cfg->name, s, le, n_le);
		}
		free(s);
	}
	head(out, "ordergate_upstream_connections", "gauge",
	     "Upstream connections per server: active (carrying a request) or idle (pooled).");
	for (int u = 0; u < nu; u++) {
		const struct og_upstream_rt *up = &rt->ups[u];

		for (int k = 0; k < up->n_servers && k < CFG_MAX_SERVERS; k++) {
			int64_t a = 0, i = 0;

			for (int w = 0; w < d->n_workers; w++) {
				const struct metrics_worker *m = d->workers[w].metrics;

				if (m) {
					a += lds(&m->srv_active[u][k]);
					i += lds(&m->srv_idle[u][k]);
				}
			}
			evbuffer_add_printf(out, "ordergate_upstream_connections");
			up_labels(out, up->cfg->name, up->servers[k].addr->text);
			evbuffer_add_printf(out, ",state=\"active\"} %lld\n",
					    (long long)(a > 0 ? a : 0));
			evbuffer_add_printf(out, "ordergate_upstream_connections");
			up_labels(out, up->cfg->name, up->servers[k].addr->text);
			evbuffer_add_printf(out, ",state=\"idle\"} %lld\n",
					    (long long)(i > 0 ? i : 0));
		}
	}
	struct {
		const char *name, *type, *help;
	} per_srv[] = {
	    {"ordergate_upstream_server_healthy", "gauge",
	     "1 when the active health check passes (always 1 without checks)."},
	    {"ordergate_upstream_breaker_state", "gauge",
	     "Circuit breaker per server: 0 closed, 1 half-open, 2 open."},
	    {"ordergate_upstream_breaker_opens_total", "counter",
	     "Times the server's circuit breaker opened."},
	    {"ordergate_upstream_ejections_total", "counter",
	     "Passive outlier ejections of the server."},
	};
	for (size_t f = 0; f < sizeof(per_srv) / sizeof(per_srv[0]); f++) {
		head(out, per_srv[f].name, per_srv[f].type, per_srv[f].help);
		for (int u = 0; u < nu; u++) {
			const struct og_upstream_rt *up = &rt->ups[u];

			for (int k = 0; k < up->n_servers; k++) {
				const struct og_server *sv = &up->servers[k];
				uint64_t v;

				switch (f) {
				case 0:
					v = atomic_load_explicit(&sv->healthy,
								 memory_order_relaxed);
					break;
				case 1:
					v = srv_breaker(sv);
					break;
				case 2:
					v = ld(&sv->breaker_opens);
					break;
				default:
					v = ld(&sv->ejections);
				}
				evbuffer_add_printf(out, "%s", per_srv[f].name);
				up_labels(out, up->cfg->name, sv->addr->text);
				evbuffer_add_printf(out, "} %llu\n", (unsigned long long)v);
			}
		}
	}
	counter1(out, "ordergate_upstream_connects_total", "Upstream connects started.",
		 WSUM(d, up_conns_opened));
	counter1(out, "ordergate_upstream_reused_total",
		 "Requests sent over a pooled keep-alive upstream connection.", WSUM(d, up_reused));
	counter1(out, "ordergate_upstream_retries_total", "Retried upstream attempts.",
		 WSUM(d, up_retries));
	counter1(out, "ordergate_upstream_errors_total",
		 "Upstream failures answered with 502, 503 or 504.", WSUM(d, up_errors));
}

static void render_errors(struct evbuffer *out, const struct og_daemon *d)
{
	head(out, "ordergate_errors_total", "counter",
	     "Error responses generated by ordergate, by x-ordergate-reason.");
	for (int r = 0; r < OG_REASON__N; r++) {
		uint64_t v = 0;

		for (int w = 0; w < d->n_workers; w++)
			if (d->workers[w].metrics)
				v += ld(&d->workers[w].metrics->reasons[r]);
		evbuffer_add_printf(out, "ordergate_errors_total{reason=\"%s\"} %llu\n",
				    reason_names[r], (unsigned long long)v);
	}
	counter1(out, "ordergate_access_log_lines_total", "Access log lines written.",
		 alog_written());
	counter1(out, "ordergate_access_log_dropped_total",
		 "Access log lines dropped because a worker's log buffer was full.",
		 alog_dropped());
}

/* One counter family by (lane, reason) from the uint64_t[LR__N] at <off> in each sum. */
static void lane_reasons(struct evbuffer *out, const char *name, const char *help,
			 const struct lanes_sum *s, size_t off)
{
	head(out, name, "counter", help);
	for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++)
		for (int r = 0; r < LR__N; r++)
			evbuffer_add_printf(
			    out, "%s{lane=\"%s\",reason=\"%s\"} %llu\n", name, lanes_name(l),
			    lanes_reason_name(r),
			    (unsigned long long)((const uint64_t *)((const char *)&s[l] + off))[r]);
}

static void render_lanes(struct evbuffer *out, const struct config *cfg, const unsigned *le,
			 int n_le)
{
	struct lanes_sum s[OG_LANE_MAX];
	struct lanes_totals t;

	if (!cfg || !cfg->lanes_active)
		return;
	for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++)
		lanes_sum(l, &s[l]);
	head(out, "ordergate_lane_requests_total", "counter",
	     "Requests classified into each lane, by outcome (admitted, rejected, exempt).");
	for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++)
		evbuffer_add_printf(
		    out,
		    "ordergate_lane_requests_total{lane=\"%s\",outcome=\"admitted\"} "
		    "%llu\n"
		    "ordergate_lane_requests_total{lane=\"%s\",outcome=\"exempt\"} "
		    "%llu\n",
		    lanes_name(l), (unsigned long long)s[l].admitted, lanes_name(l),
		    (unsigned long long)s[l].exempt);
	lane_reasons(out, "ordergate_lane_rejected_total",
		     "Requests refused with 429, by lane and x-ordergate-reason.", s,
		     offsetof(struct lanes_sum, rejected));
	lane_reasons(out, "ordergate_lane_dry_run_total",
		     "Requests limits.dry_run admitted that would have been refused, by lane and "
		     "reason.",
		     s, offsetof(struct lanes_sum, dry_run));
	head(out, "ordergate_lane_inflight", "gauge", "Requests admitted and not yet answered.");
	for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++)
		evbuffer_add_printf(out, "ordergate_lane_inflight{lane=\"%s\"} %d\n", lanes_name(l),
				    (int)atomic_load(&og_lanes.lane[l].inflight));
	head(out, "ordergate_lane_limit", "gauge",
	     "In-flight limit workers enforce per lane (0 = unlimited).");
	for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++)
		evbuffer_add_printf(out, "ordergate_lane_limit{lane=\"%s\"} %u\n", lanes_name(l),
				    atomic_load(&og_lanes.lane[l].limit));
	head(out, "ordergate_lane_limit_changes_total", "counter",
	     "Controller limit changes, by lane and direction.");
	for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++)
		evbuffer_add_printf(
		    out,
		    "ordergate_lane_limit_changes_total{lane=\"%s\",direction=\"cut\"} %llu\n"
		    "ordergate_lane_limit_changes_total{lane=\"%s\",direction=\"grow\"} %llu\n",
		    lanes_name(l), (unsigned long long)ld(&og_ctrl.cuts[l]), lanes_name(l),
		    (unsigned long long)ld(&og_ctrl.grows[l]));
	head(out, "ordergate_lane_request_duration_seconds", "histogram",
	     "First byte of the request head to last byte of the response, by lane.");
	for (unsigned l = OG_LANE_ORDER; l < OG_LANE_MAX; l++) {
		struct og_histo_snap h = {0};

		lanes_histo(l, &h);
		histo_series(out, "ordergate_lane_request_duration_seconds", "lane", lanes_name(l),
			     &h, le, n_le);
	}
	lanes_totals(&t);
	head(out, "ordergate_lane_tier_header_total", "counter",
	     "x-traffic-tier headers seen: honoured (trusted source), untrusted (ignored), "
	     "invalid (trusted, unknown value: ignored).");
	evbuffer_add_printf(out,
			    "ordergate_lane_tier_header_total{result=\"honoured\"} %llu\n"
			    "ordergate_lane_tier_header_total{result=\"untrusted\"} %llu\n"
			    "ordergate_lane_tier_header_total{result=\"invalid\"} %llu\n",
			    (unsigned long long)t.tier_honoured,
			    (unsigned long long)t.tier_untrusted,
			    (unsigned long long)t.tier_invalid);
	counter1(out, "ordergate_lane_pins_total",
		 "Flows pinned into og_flow_lane because their L7 lane differs from L4.", t.pins);
	counter1(out, "ordergate_lane_pin_failures_total",
		 "Pin or unpin requests the kernel writer refused.", t.pin_fail);
	counter1(out, "ordergate_lane_bucket_table_full_total",
		 "Requests admitted without a token bucket because no table cell was free.",
		 t.bucket_full);
	counter1(out, "ordergate_lane_controller_ticks_total", "Fast controller windows run.",
		 ld(&og_ctrl.ticks));
}

int metrics_render(struct evbuffer *out, const struct og_daemon *d)
{
	const struct og_rt *rt =
	    atomic_load_explicit(&((struct og_daemon *)d)->rt, memory_order_acquire);
	unsigned le[32];
	int n_le = histo_le_buckets(le, 32);
	size_t before = evbuffer_get_length(out);

	render_process(out, d, rt);
	render_clients(out, d);
	render_routes(out, d, rt ? rt->cfg : NULL, le, n_le);
	render_upstreams(out, d, rt, le, n_le);
	render_errors(out, d);
	render_lanes(out, rt ? rt->cfg : NULL, le, n_le);
	klink_metrics(out);
	metrics_render_guards(out, rt);
	return evbuffer_get_length(out) > before ? 0 : -ENOMEM;
}
