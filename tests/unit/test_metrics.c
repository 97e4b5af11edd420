// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Prometheus rendering of a synthetic daemon state: exact values, escaping, promtool lint. */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/daemon.h"
#include "ops/metrics.h"
#include "../lib/og_test.h"

static char *text;

/* Is <line> one whole line of the rendered text? */
static int has_line(const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static int count_of(const char *s)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, s)); p++)
		n++;
	return n;
}

#define LINE(l) OK(has_line(l), "line: %s", l)

int main(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct og_rt *rt = calloc(1, sizeof(*rt));
	struct og_upstream_rt *up = calloc(1, sizeof(*up));
	struct og_server *srv = calloc(2, sizeof(*srv));
	struct og_worker *w = calloc(2, sizeof(*w));
	struct og_daemon *d = calloc(1, sizeof(*d));
	struct evbuffer *b = evbuffer_new();

	cfg->n_routes = 2;
	cfg->routes[0].name = "orders";
	cfg->routes[1].name = "we\"ird\\name";
	cfg->n_upstreams = 1;
	cfg->upstreams[0].name = "origin";
	cfg->upstreams[0].n_servers = 2;
	strcpy(cfg->upstreams[0].servers[0].text, "127.0.0.1:9001");
	strcpy(cfg->upstreams[0].servers[1].text, "[::1]:9002");
	up->cfg = &cfg->upstreams[0];
	up->n_servers = 2;
	up->servers = srv;
	srv[0].addr = &cfg->upstreams[0].servers[0];
	srv[1].addr = &cfg->upstreams[0].servers[1];
	srv[0].healthy = 1;
	srv[0].breaker = OG_BRK_HALF_OPEN;
	srv[1].healthy = 0;
	srv[1].breaker = OG_BRK_OPEN;
	srv[1].breaker_opens = 3;
	rt->cfg = cfg;
	rt->gen = 7;
	rt->ups = up;
	d->rt = rt;
	d->n_workers = 2;
	d->workers = w;
	d->start_wall_s = 1790000000;
	d->reloads_ok = 2;
	d->reloads_failed = 1;
	d->ready = 1;
	for (int i = 0; i < 2; i++) {
		w[i].id = i;
		w[i].metrics = metrics_worker_new();
		OK(w[i].metrics != NULL, "metrics_worker_new %d", i);
	}
	w[0].stats.conns_active = 5;
	w[0].stats.conns_idle = 2;
	w[1].stats.conns_active = 1;
	w[0].stats.bytes_in = 100;
	w[1].stats.bytes_in = 23;

	/* requests: 3 fast 2xx on worker 0, one slow 5xx on worker 1, two unrouted 404s */
	for (int k = 0; k < 3; k++)
		metrics_req_done(w[0].metrics, 0, 200, 1000000); /* 1 ms */
	metrics_req_done(w[1].metrics, 0, 503, 2000000000ull);	 /* 2 s */
	metrics_req_done(w[0].metrics, -1, 404, 50000);
	metrics_req_done(w[1].metrics, 5000, 404, 50000); /* out of range index -> _none */
	metrics_req_done(w[1].metrics, 1, 0, 10);	  /* closed unanswered */
	metrics_req_done(NULL, 0, 200, 1);		  /* metrics off: must not crash */
	metrics_upstream_done(w[0].metrics, 0, 0, 800000, 200);
	metrics_upstream_done(w[1].metrics, 0, 1, 3000000, 0);
	metrics_upstream_done(w[1].metrics, 0, 99, 1, 200); /* ignored: bad server index */
	metrics_upconn(w[0].metrics, 0, 0, +1, 0);
	metrics_upconn(w[0].metrics, 0, 0, 0, +3);
	metrics_upconn(w[1].metrics, 0, 0, 0, +1);
	metrics_upconn(w[1].metrics, 0, 0, 0, -1);
	metrics_error(w[0].metrics, "breaker-open");
	metrics_error(w[1].metrics, "breaker-open");
	metrics_error(w[1].metrics, "no-such-reason");
	metrics_error(w[1].metrics, NULL);
	OK_EQ(metrics_reason("no-healthy-server"), OG_REASON_NO_HEALTHY_SERVER, "reason lookup");
	OK(!strcmp(metrics_reason_name(OG_REASON_UPSTREAM_TIMEOUT), "upstream-timeout"),
	   "reason name");

	/* merged snapshots for the lane controller: 3 x 1 ms + 1 x 2 s over two workers */
	struct og_histo_snap *hs = calloc(1, sizeof(*hs));

	metrics_route_histo(d, 0, hs);
	OK_EQ(hs->count, 4, "route 0 snapshot merges both workers");
	OK(histo_quantile_us(hs, 0.5) >= 896 && histo_quantile_us(hs, 0.5) <= 1024,
	   "route 0 p50 ~ 1 ms (%llu us)", (unsigned long long)histo_quantile_us(hs, 0.5));
	OK(histo_quantile_us(hs, 0.99) >= 1835008 && histo_quantile_us(hs, 0.99) < 2097152,
	   "route 0 p99 ~ 2 s (%llu us)", (unsigned long long)histo_quantile_us(hs, 0.99));
	memset(hs, 0, sizeof(*hs));
	metrics_route_histo(d, -1, hs);
	OK_EQ(hs->count, 2, "no-route snapshot: the two unrouted requests");
	memset(hs, 0, sizeof(*hs));
	metrics_upstream_histo(d, 0, hs);
	OK_EQ(hs->count, 2, "upstream 0 snapshot");
	metrics_upstream_histo(d, 999, hs);
	OK_EQ(hs->count, 2, "out-of-range upstream adds nothing");
	free(hs);

	OK(metrics_render(b, d) == 0, "metrics_render returns 0");
	evbuffer_add(b, "", 1);
	text = (char *)evbuffer_pullup(b, -1);

	OK(strstr(text, "ordergate_build_info{version=\"" OG_VERSION "\"") != NULL, "build info");
	LINE("ordergate_process_start_time_seconds 1790000000");
	LINE("ordergate_config_generation 7");
	LINE("ordergate_config_reloads_total{result=\"ok\"} 2");
	LINE("ordergate_config_reloads_total{result=\"failed\"} 1");
	LINE("ordergate_client_connections{state=\"active\"} 4");
	LINE("ordergate_client_connections{state=\"idle\"} 2");
	LINE("ordergate_client_received_bytes_total 123");
	LINE("ordergate_requests_total{route=\"orders\",code_class=\"2xx\"} 3");
	LINE("ordergate_requests_total{route=\"orders\",code_class=\"5xx\"} 1");
	LINE("ordergate_requests_total{route=\"orders\",code_class=\"4xx\"} 0");
	LINE("ordergate_requests_total{route=\"_none\",code_class=\"4xx\"} 2");
	LINE("ordergate_requests_total{route=\"we\\\"ird\\\\name\",code_class=\"none\"} 1");
	OK(!strstr(text, "route=\"orders\",code_class=\"none\""), "no zero 'none' series");
	LINE("ordergate_request_duration_seconds_bucket{route=\"orders\",le=\"0.001024\"} 3");
	LINE("ordergate_request_duration_seconds_bucket{route=\"orders\",le=\"0.98304\"} 3");
	LINE("ordergate_request_duration_seconds_bucket{route=\"orders\",le=\"2.62144\"} 4");
	LINE("ordergate_request_duration_seconds_bucket{route=\"orders\",le=\"+Inf\"} 4");
	LINE("ordergate_request_duration_seconds_count{route=\"orders\"} 4");
	LINE("ordergate_request_duration_seconds_sum{route=\"orders\"} 2.003000000");
	LINE("ordergate_upstream_requests_total{upstream=\"origin\",server=\"127.0.0.1:9001\","
	     "code_class=\"2xx\"} 1");
	LINE("ordergate_upstream_requests_total{upstream=\"origin\",server=\"[::1]:9002\","
	     "code_class=\"none\"} 1");
	LINE("ordergate_upstream_request_duration_seconds_count{upstream=\"origin\"} 2");
	LINE("ordergate_upstream_connections{upstream=\"origin\",server=\"127.0.0.1:9001\","
	     "state=\"active\"} 1");
	LINE("ordergate_upstream_connections{upstream=\"origin\",server=\"127.0.0.1:9001\","
	     "state=\"idle\"} 3");
	LINE("ordergate_upstream_server_healthy{upstream=\"origin\",server=\"127.0.0.1:9001\"} 1");
	LINE("ordergate_upstream_server_healthy{upstream=\"origin\",server=\"[::1]:9002\"} 0");
	LINE("ordergate_upstream_breaker_state{upstream=\"origin\",server=\"127.0.0.1:9001\"} 1");
	LINE("ordergate_upstream_breaker_state{upstream=\"origin\",server=\"[::1]:9002\"} 2");
	LINE("ordergate_upstream_breaker_opens_total{upstream=\"origin\",server=\"[::1]:9002\"} 3");
	LINE("ordergate_errors_total{reason=\"breaker-open\"} 2");
	LINE("ordergate_errors_total{reason=\"other\"} 2");
	LINE("ordergate_access_log_dropped_total 0");
	OK_EQ(count_of("# TYPE ordergate_requests_total counter\n"), 1, "one TYPE per family");
	OK_EQ(count_of("# TYPE ordergate_request_duration_seconds histogram\n"), 1,
	      "histogram TYPE");

	/* promtool is the reference for the format and its naming lints */
	char path[] = "/tmp/og_metrics_XXXXXX";
	int fd = mkstemp(path);
	size_t len = strlen(text);

	OK(fd >= 0 && write(fd, text, len) == (ssize_t)len, "wrote %zu bytes to %s", len, path);
	close(fd);
	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		og_skip("promtool not installed (Debian package prometheus): make deps");
	} else {
		char cmd[256];
		int rc;

		snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
		rc = system(cmd);
		OK(rc == 0, "promtool check metrics exits 0 (got status %d)", rc);
	}
	unlink(path);

	evbuffer_free(b);
	for (int i = 0; i < 2; i++)
		metrics_worker_free(w[i].metrics);
	free(w);
	free(srv);
	free(up);
	free(rt);
	free(cfg);
	free(d);
	return og_done();
}
