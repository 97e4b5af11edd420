// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Active health checker on the main thread: bufferevents are fine off the hot path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "proxy/health.h"
#include "lib/log.h"

struct hc {
	struct event *timer;	 /* next check */
	struct bufferevent *bev; /* check in flight, or NULL */
	struct og_server *srv;
	const struct cfg_upstream *cu;
	struct event_base *base;
};

static struct hc *checks;
static int n_checks;

static void hc_schedule(struct hc *h, uint32_t ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(h->timer, &tv);
}

static void hc_result(struct hc *h, int ok, const char *why)
{
	struct og_server *s = h->srv;
	const struct cfg_health *hc = &h->cu->health;

	if (h->bev) {
		bufferevent_free(h->bev);
		h->bev = NULL;
	}
	if (ok) {
		uint32_t n = atomic_load(&s->hc_ok_streak) + 1;

		atomic_store(&s->hc_ok_streak, n);
		atomic_store(&s->hc_fail_streak, 0);
		if (!atomic_load(&s->healthy) && n >= (hc->rise ? hc->rise : 1)) {
			atomic_store(&s->healthy, 1);
			og_log("info", "event=health_up upstream=%s server=%s", h->cu->name,
			       s->addr->text);
		}
	} else {
		uint32_t n = atomic_load(&s->hc_fail_streak) + 1;

		atomic_store(&s->hc_fail_streak, n);
		atomic_store(&s->hc_ok_streak, 0);
		if (atomic_load(&s->healthy) && n >= (hc->fall ? hc->fall : 1)) {
			atomic_store(&s->healthy, 0);
			og_log("warn", "event=health_down upstream=%s server=%s why=%s",
			       h->cu->name, s->addr->text, why);
		}
	}
	hc_schedule(h, hc->interval_ms);
}

static void hc_read(struct bufferevent *bev, void *arg)
{
	struct hc *h = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[16];
	size_t n = evbuffer_get_length(in);

	if (n < 12)
		return;
	evbuffer_copyout(in, line, 12);
	line[12] = 0;
	if (strncmp(line, "HTTP/1.", 7) || line[8] != ' ') {
		hc_result(h, 0, "bad-response");
		return;
	}
	/* 2xx and 3xx pass, like haproxy's httpchk */
	hc_result(h, line[9] == '2' || line[9] == '3', "status");
}

static void hc_event(struct bufferevent *bev, short what, void *arg)
{
	struct hc *h = arg;

	if (what & BEV_EVENT_CONNECTED) {
		struct evbuffer *out = bufferevent_get_output(bev);

		evbuffer_add_printf(
		    out,
		    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ordergate-health\r\n"
		    "Connection: close\r\n\r\n",
		    h->cu->health.path ? h->cu->health.path : "/healthz", h->srv->addr->text);
		return;
	}
	hc_result(h, 0, (what & BEV_EVENT_TIMEOUT) ? "timeout" : "connect-or-reset");
}

static void hc_fire(evutil_socket_t fd, short what, void *arg)
{
	struct hc *h = arg;
	uint32_t to = h->cu->health.timeout_ms ? h->cu->health.timeout_ms : 500;
	struct timeval tv = {to / 1000, (to % 1000) * 1000};

	h->bev = bufferevent_socket_new(h->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!h->bev) {
		hc_schedule(h, h->cu->health.interval_ms);
		return;
	}
	bufferevent_setcb(h->bev, hc_read, NULL, hc_event, h);
	bufferevent_set_timeouts(h->bev, &tv, &tv);
	bufferevent_enable(h->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(h->bev, (struct sockaddr *)&h->srv->addr->ss,
				       (int)h->srv->addr->len) < 0)
		hc_result(h, 0, "connect");
}

void health_stop(void)
{
	for (int i = 0; i < n_checks; i++) {
		if (checks[i].bev)
			bufferevent_free(checks[i].bev);
		if (checks[i].timer)
			event_free(checks[i].timer);
	}
	free(checks);
	checks = NULL;
	n_checks = 0;
}

int health_start(struct event_base *base, struct og_rt *rt)
{
	int n = 0, k = 0;

	health_stop();
	for (int u = 0; u < rt->cfg->n_upstreams; u++)
		if (rt->cfg->upstreams[u].health.enabled)
			n += rt->ups[u].n_servers;
	if (!n)
		return 0;
	checks = calloc(n, sizeof(*checks));
	if (!checks)
		return -ENOMEM;
	for (int u = 0; u < rt->cfg->n_upstreams; u++) {
		if (!rt->cfg->upstreams[u].health.enabled)
			continue;
		for (int s = 0; s < rt->ups[u].n_servers; s++) {
			struct hc *h = &checks[k++];

			h->srv = &rt->ups[u].servers[s];
			h->cu = &rt->cfg->upstreams[u];
			h->base = base;
			h->timer = evtimer_new(base, hc_fire, h);
			if (!h->timer)
				return -ENOMEM;
			hc_schedule(h, 0); /* first check right away */
		}
	}
	n_checks = n;
	return 0;
}
