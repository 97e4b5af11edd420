// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Per-worker upstream keep-alive pools, non-blocking connects, and server choice. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/breaker.h"
#include "core/hooks.h"
#include "proxy/upstream.h"

static void upc_event(evutil_socket_t fd, short what, void *arg);
static void upc_timeout(struct og_timer *t, uint64_t now_ms);

static uint32_t flat_count(const struct og_rt *rt)
{
	uint32_t n = 0;

	for (int u = 0; u < rt->cfg->n_upstreams; u++)
		n += rt->ups[u].n_servers;
	return n;
}

int upstream_worker_adopt(struct og_worker_priv *p, struct og_rt *ort, struct og_rt *nrt)
{
	uint32_t n = flat_count(nrt), base = 0;
	struct og_wpool *pools = calloc(n ? n : 1, sizeof(*pools));
	uint32_t *sb = calloc(nrt->cfg->n_upstreams + 1, sizeof(*sb));
	uint32_t *rr = calloc(nrt->cfg->n_upstreams + 1, sizeof(*rr));

	if (!pools || !sb || !rr) {
		free(pools);
		free(sb);
		free(rr);
		return -ENOMEM;
	}
	if (ort)
		upstream_close_idle(p);
	/* Busy connections of the old generation keep a flat index into the old layout; every
	 * use of u->flat checks u->rt == p->rt first (upstream_release, upconn_uncount in
	 * proxy.c), so it is never applied to the new array: they close when done. */
	for (int u = 0; u < nrt->cfg->n_upstreams; u++) {
		sb[u] = base;
		base += nrt->ups[u].n_servers;
	}
	free(p->pools);
	free(p->srv_base);
	free(p->rr);
	p->pools = pools;
	p->srv_base = sb;
	p->rr = rr;
	return 0;
}

int upstream_server_usable(struct og_server *s, uint64_t now_ms)
{
	if (!atomic_load_explicit(&s->healthy, memory_order_relaxed))
		return 0;
	if (atomic_load_explicit(&s->ejected_until_ms, memory_order_relaxed) > now_ms)
		return 0;
	return breaker_allows(s, now_ms, 0);
}

int upstream_pick(struct og_worker_priv *p, struct og_rt *rt, int ups, uint32_t hash, int avoid,
		  const char **reason)
{
	struct og_upstream_rt *ur = &rt->ups[ups];
	const struct cfg_upstream *cu = ur->cfg;
	int n = ur->n_servers, best, start, any_breaker, any_up, old_gen, skip = -1;
	uint32_t best_load;
	uint64_t now = p->now_ms;

	if (n == 0) {
		*reason = "no-healthy-server";
		return -1;
	}
	/* A request of an older generation (retry after a reload) has no pools here. */
	old_gen = rt != p->rt;
	switch (cu->balance) {
	case CFG_BAL_HASH_HEADER:
	case CFG_BAL_HASH_SOURCE:
		start = (int)(hash % (uint32_t)n);
		break;
	default:
		start = (int)((old_gen ? p->reqid_seq : p->rr[ups]++) % (uint32_t)n);
	}
again:
	best = -1;
	best_load = UINT32_MAX;
	any_breaker = any_up = 0;
	for (int k = 0; k < n; k++) {
		int i = (start + k) % n;
		struct og_server *s = &ur->servers[i];

		if (i == skip) {
			any_up = any_breaker = 1; /* its half-open probe is someone else's */
			continue;
		}
		if (!atomic_load_explicit(&s->healthy, memory_order_relaxed) ||
		    atomic_load_explicit(&s->ejected_until_ms, memory_order_relaxed) > now)
			continue;
		any_up = 1;
		if (!breaker_allows(s, now, 0)) {
			any_breaker = 1;
			continue;
		}
		if (i == avoid && n > 1) {
			if (best < 0)
				best = i; /* fallback if nothing else is usable */
			continue;
		}
		if (cu->balance == CFG_BAL_LEAST_REQUEST) {
			uint32_t load = old_gen ? 0 : p->pools[p->srv_base[ups] + i].inflight;

			if (load < best_load || best == avoid) {
				best = i;
				best_load = load;
			}
			continue;
		}
		best = i;
		break;
	}
	if (best < 0) {
		*reason = any_breaker && any_up ? "breaker-open" : "no-healthy-server";
		return -1;
	}
	/* Half-open: only one request may probe. One that loses the probe to another worker
	 * looks at the other servers again (once) before it gets 503 breaker-open. */
	if (!breaker_allows(&ur->servers[best], now, 1)) {
		if (skip < 0 && n > 1) {
			skip = best;
			goto again;
		}
		*reason = "breaker-open";
		return -1;
	}
	return best;
}

void upstream_want(struct og_upconn *u, short mask)
{
	if (u->evmask == mask || u->state == UC_CLOSED)
		return;
	if (u->evmask)
		event_del(&u->ev);
	u->evmask = mask;
	if (mask) {
		event_assign(&u->ev, u->p->w->base, u->fd, mask | EV_PERSIST, upc_event, u);
		event_add(&u->ev, NULL);
	}
}

static void pool_unlink(struct og_upconn *u)
{
	struct og_wpool *wp = &u->p->pools[u->flat];

	if (u->prev)
		u->prev->next = u->next;
	else
		wp->idle = u->next;
	if (u->next)
		u->next->prev = u->prev;
	u->next = u->prev = NULL;
	wp->n_idle--;
	OG_WSTAT_ADD(u->p->w, up_conns_idle, -1);
}

int upstream_full(struct og_worker_priv *p, struct og_rt *rt, int ups, int srv)
{
	struct og_wpool *wp;

	if (rt != p->rt)
		return 0; /* an older generation's request: its pools are gone, let it finish */
	wp = &p->pools[p->srv_base[ups] + srv];
	return !wp->idle && wp->inflight >= rt->ups[ups].cfg->max_connections;
}

struct og_upconn *upstream_get(struct og_worker_priv *p, struct og_rt *rt, int ups, int srv,
			       const struct og_upc_owner *owner)
{
	int cur = rt == p->rt; /* older generations get fresh, never pooled connections */
	uint32_t flat = cur ? p->srv_base[ups] + srv : 0;
	const struct cfg_addr *a = rt->ups[ups].servers[srv].addr;
	struct og_upconn *u = cur ? p->pools[flat].idle : NULL;
	int fd, one = 1;

	if (u) {
		pool_unlink(u);
		og_hooks.upconn(p->w, ups, srv, 1, -1);
		u->state = UC_BUSY;
		u->reused = 1;
		u->owner = owner;
		OG_WSTAT_ADD(p->w, up_conns_active, 1);
		OG_WSTAT_ADD(p->w, up_reused, 1);
		return u;
	}
	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0 && errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		errno = e;
		return NULL;
	}
	u = p->upc_free;
	if (u) {
		p->upc_free = u->next;
		p->n_upc_free--;
	} else {
		u = malloc(sizeof(*u));
		if (!u) {
			close(fd);
			errno = ENOMEM;
			return NULL;
		}
	}
	memset(u, 0, sizeof(*u));
	u->p = p;
	u->fd = fd;
	u->rt = rt;
	u->ups = (uint16_t)ups;
	u->srv = (uint16_t)srv;
	u->flat = flat;
	u->state = UC_CONNECTING;
	u->owner = owner;
	u->tm.cb = upc_timeout;
	og_hooks.upconn(p->w, ups, srv, 1, 0);
	p->n_upconns++;
	OG_WSTAT_ADD(p->w, up_conns_opened, 1);
	OG_WSTAT_ADD(p->w, up_conns_active, 1);
	return u;
}

void upstream_close(struct og_upconn *u)
{
	struct og_worker_priv *p = u->p;

	if (u->state == UC_CLOSED)
		return;
	if (u->state == UC_IDLE) {
		pool_unlink(u);
		og_hooks.upconn(p->w, u->ups, u->srv, 0, -1);
	} else {
		OG_WSTAT_ADD(p->w, up_conns_active, -1);
		og_hooks.upconn(p->w, u->ups, u->srv, -1, 0);
	}
	if (u->evmask)
		event_del(&u->ev);
	u->evmask = 0;
	tw_disarm(&p->tw, &u->tm);
	close(u->fd);
	u->fd = -1;
	buf_put(&p->bufs, u->wb);
	buf_put(&p->bufs, u->rb);
	u->wb = u->rb = NULL;
	if (u->msg) {
		free(u->msg);
		u->msg = NULL;
	}
	u->state = UC_CLOSED;
	u->c = NULL;
	u->owner = NULL;
	u->next = p->up_zombies;
	p->up_zombies = u;
	p->n_upconns--;
	worker_conn_closed(p);
}

void upstream_release(struct og_upconn *u, int reusable)
{
	struct og_worker_priv *p = u->p;
	struct og_wpool *wp;
	uint32_t keep;

	if (u->state == UC_CLOSED)
		return;
	/* Only connections of the current generation go back to the pool. */
	if (!reusable || p->draining || u->rt != p->rt || u->rlen > u->rpos ||
	    ++u->n_req >= p->rt->ups[u->ups].cfg->keepalive_requests) {
		upstream_close(u);
		return;
	}
	wp = &p->pools[u->flat];
	keep = p->rt->ups[u->ups].cfg->keepalive;
	if (wp->n_idle >= keep) {
		upstream_close(u);
		return;
	}
	buf_put(&p->bufs, u->wb);
	buf_put(&p->bufs, u->rb);
	u->wb = u->rb = NULL;
	u->c = NULL;
	u->owner = NULL;
	u->state = UC_IDLE;
	og_hooks.upconn(p->w, u->ups, u->srv, -1, 1);
	OG_WSTAT_ADD(p->w, up_conns_active, -1);
	OG_WSTAT_ADD(p->w, up_conns_idle, 1);
	u->next = wp->idle;
	u->prev = NULL;
	if (wp->idle)
		wp->idle->prev = u;
	wp->idle = u;
	wp->n_idle++;
	/* readable while idle = the origin closed it (or misbehaves): drop it then */
	upstream_want(u, EV_READ);
	/* closed by us before the origin's own idle timeout can race a request into it */
	tw_arm(&p->tw, &u->tm, p->now_ms + p->rt->ups[u->ups].cfg->keepalive_timeout_ms);
}

static void upc_event(evutil_socket_t fd, short what, void *arg)
{
	struct og_upconn *u = arg;
	struct og_worker_priv *p = u->p;
	const struct og_upc_owner *o = u->owner;

	if (!o) {
		upstream_close(u); /* pooled: readable means the origin closed it */
		upstream_reap(p);
		return;
	}
	o->event(u, what);
	o->cb_end(p);
}

static void upc_timeout(struct og_timer *t, uint64_t now_ms)
{
	struct og_upconn *u = (struct og_upconn *)((char *)t - offsetof(struct og_upconn, tm));

	if (!u->owner)
		upstream_close(u); /* pooled too long */
	else
		u->owner->timeout(u); /* the timer wheel's caller reclaims */
}

/* Servers of <ur> other than <srv> usable now, and how many are ejected. */
static int others_usable(struct og_upstream_rt *ur, int srv, uint64_t now, int *ejected)
{
	int n = 0;

	*ejected = 0;
	for (int i = 0; i < ur->n_servers; i++) {
		struct og_server *o = &ur->servers[i];

		if (atomic_load_explicit(&o->ejected_until_ms, memory_order_relaxed) > now)
			(*ejected)++;
		else if (i != srv && upstream_server_usable(o, now))
			n++;
	}
	return n;
}

void upstream_report(struct og_worker_priv *p, struct og_rt *rt, int ups, int srv, int status)
{
	struct og_upstream_rt *ur = &rt->ups[ups];
	const struct cfg_upstream *cu = ur->cfg;
	struct og_server *s = &ur->servers[srv];
	int brk_fail = !status || cfg_status_counts(&cu->breaker.statuses, (unsigned)status);
	int out_fail = !status || cfg_status_counts(&cu->outlier.statuses, (unsigned)status);
	int others = -1, ejected = 0;

	/* What the gateway observed about the server (transport errors, the configured
	 * gateway statuses) counts; an application's own 500 is not a server failure. */
	if (!brk_fail)
		breaker_success(s);
	if (!out_fail && atomic_load_explicit(&s->consec_5xx, memory_order_relaxed))
		atomic_store_explicit(&s->consec_5xx, 0, memory_order_relaxed);
	if (brk_fail && cu->breaker.consecutive_failures) {
		others = others_usable(ur, srv, p->now_ms, &ejected);
		breaker_failure(s, &cu->breaker, p->now_ms, others > 0);
	}
	if (out_fail && cu->outlier.consecutive_5xx &&
	    atomic_fetch_add(&s->consec_5xx, 1) + 1 >= cu->outlier.consecutive_5xx) {
		atomic_store(&s->consec_5xx, 0);
		if (others < 0)
			others = others_usable(ur, srv, p->now_ms, &ejected);
		/* never the last usable server, never more than max_ejection_percent */
		if (others == 0 || (uint64_t)(ejected + 1) * 100 >
				       (uint64_t)ur->n_servers * cu->outlier.max_ejection_percent)
			return;
		atomic_store(&s->ejected_until_ms, p->now_ms + cu->outlier.eject_ms);
		atomic_fetch_add(&s->ejections, 1);
	}
}

uint32_t upstream_active(struct og_worker_priv *p)
{
	uint32_t idle = 0, n = p->rt ? flat_count(p->rt) : 0;

	for (uint32_t i = 0; i < n; i++)
		idle += p->pools[i].n_idle;
	return p->n_upconns - idle;
}

void upstream_close_idle(struct og_worker_priv *p)
{
	uint32_t n = p->rt ? flat_count(p->rt) : 0;

	for (uint32_t i = 0; i < n; i++)
		while (p->pools[i].idle)
			upstream_close(p->pools[i].idle);
}

void upstream_purge_server(struct og_worker_priv *p, int ups, int srv)
{
	struct og_wpool *wp = &p->pools[p->srv_base[ups] + srv];

	while (wp->idle)
		upstream_close(wp->idle);
}

void upstream_close_all(struct og_worker_priv *p)
{
	upstream_close_idle(p);
}

void upstream_reap(struct og_worker_priv *p)
{
	while (p->up_zombies) {
		struct og_upconn *u = p->up_zombies;

		p->up_zombies = u->next;
		if (p->n_upc_free < 1024) {
			u->next = p->upc_free;
			p->upc_free = u;
			p->n_upc_free++;
		} else {
			free(u);
		}
	}
}

static int up_init(struct og_worker_priv *p, struct og_rt *rt)
{
	return upstream_worker_adopt(p, NULL, rt);
}

static void up_drain(struct og_worker_priv *p, uint64_t idle_ms)
{
	upstream_close_idle(p); /* no new request will use them */
}

/* The pools' part of the worker loop (core/worker.h). */
static const struct og_worker_mod up_mod = {
    .init = up_init,
    .adopt = upstream_worker_adopt,
    .drain = up_drain,
    .busy = upstream_active,
    .close_all = upstream_close_all,
    .reap = upstream_reap,
};

int upstream_register(void)
{
	return worker_mod_register(&up_mod);
}
