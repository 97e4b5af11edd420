// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Worker threads: event loop, runtime generations by reference count, tick, drain and exit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front/conn.h"
#include "ops/hooks.h"
#include "core/listener.h"
#include "lib/log.h"
#include "front/respond.h"
#include "proxy/upstream.h"
#include "core/worker.h"

#define DRAIN_IDLE_MS 250 /* during drain, a keep-alive connection idle this long is closed */

static _Atomic int alive;
struct worker_policy worker_policy;

int worker_alive(void)
{
	return atomic_load(&alive);
}

static void publish_gen(struct og_worker_priv *p)
{
	uint64_t g = p->rt->gen;

	for (int i = 0; i < p->n_old; i++)
		if (p->old[i].rt->gen < g)
			g = p->old[i].rt->gen;
	atomic_store_explicit(&p->w->rt_gen, g, memory_order_release);
}

/* Switch new requests to runtime <nrt>; the old one lives on while requests use it. */
static void worker_adopt(struct og_worker_priv *p, struct og_rt *nrt)
{
	struct og_rt *ort = p->rt;

	if (p->rt_refs) {
		if (p->n_old == OG_MAX_OLD_RT)
			return; /* too many generations in flight: adopt on a later request */
		p->old[p->n_old].rt = ort;
		p->old[p->n_old++].refs = p->rt_refs;
	}
	if (!p->draining)
		listener_reconcile(p, ort->cfg, nrt->cfg);
	upstream_worker_adopt(p, ort, nrt);
	p->rt = nrt;
	p->rt_refs = 0;
	publish_gen(p);
}

struct og_rt *worker_rt_get(struct og_worker_priv *p)
{
	struct og_rt *cur = atomic_load_explicit(&og_d.rt, memory_order_acquire);

	if (__builtin_expect(cur != p->rt, 0))
		worker_adopt(p, cur);
	p->rt_refs++;
	return p->rt;
}

void worker_rt_put(struct og_worker_priv *p, struct og_rt *rt)
{
	if (rt == p->rt) {
		p->rt_refs--;
		return;
	}
	for (int i = 0; i < p->n_old; i++) {
		if (p->old[i].rt != rt)
			continue;
		if (--p->old[i].refs == 0) {
			p->old[i] = p->old[--p->n_old];
			publish_gen(p);
		}
		return;
	}
}

static void worker_exit_if_done(struct og_worker_priv *p)
{
	if (p->draining && p->n_conns == 0 && upstream_active(p) == 0)
		event_base_loopbreak(p->w->base);
}

void worker_conn_closed(struct og_worker_priv *p)
{
	if (__builtin_expect(p->draining, 0))
		worker_exit_if_done(p);
}

static void worker_start_drain(struct og_worker_priv *p)
{
	p->draining = 1;
	p->drain_deadline_ms = atomic_load(&og_d.drain_deadline_ms);
	listener_stop(p);
	upstream_close_idle(p);
	conn_drain_sweep(p, DRAIN_IDLE_MS);
	conn_reap(p);
	worker_exit_if_done(p);
}

/* Runs after the other callbacks of a loop pass that read the clock: see worker_cb_ns. */
static void worker_clock_pass_end(evutil_socket_t fd, short what, void *arg)
{
	struct og_worker_priv *p = arg;

	p->cb_ns = 0;
}

static void worker_tick(evutil_socket_t fd, short what, void *arg)
{
	struct og_worker_priv *p = arg;
	struct og_rt *cur;

	p->cb_ns = 0;
	worker_clock(p);
	respond_date_refresh(p);
	tw_run(&p->tw, p->now_ms);
	/* Move to a newly published config even on a worker with no traffic, so the old
	 * generation can be freed. */
	cur = atomic_load_explicit(&og_d.rt, memory_order_acquire);
	if (cur != p->rt)
		worker_adopt(p, cur);
	if (!p->draining && atomic_load_explicit(&og_d.draining, memory_order_acquire))
		worker_start_drain(p);
	if (p->draining) {
		conn_drain_sweep(p, DRAIN_IDLE_MS);
		if (p->now_ms >= p->drain_deadline_ms) {
			/* grace is over: whatever is left is cut */
			while (p->conns)
				conn_close(p->conns);
			upstream_close_all(p);
		}
		worker_exit_if_done(p);
	}
	if (p->accept_paused_until && !p->draining)
		listener_resume(p);
	hook_worker_tick(p->w);
	conn_reap(p);
	upstream_reap(p);
}

static int worker_init(struct og_worker *w, struct og_rt *rt, char *err, size_t errlen)
{
	struct og_worker_priv *p = calloc(1, sizeof(*p));
	struct event_config *ec = event_config_new();
	struct timeval tv = {0, TW_TICK_MS * 1000};

	if (!p || !ec)
		return -ENOMEM;
	w->priv = p;
	p->w = w;
	/* Workers share nothing with other threads through libevent: no base lock even if
	 * another module turned on evthread for its own base. */
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	w->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (!w->base) {
		snprintf(err, errlen, "worker %d: event_base_new failed", w->id);
		return -ENOMEM;
	}
	p->rt = rt;
	atomic_store(&w->rt_gen, rt->gen);
	buf_pool_init(&p->bufs);
	p->msg = malloc(sizeof(*p->msg));
	if (!p->msg)
		return -ENOMEM;
	worker_clock(p);
	tw_init(&p->tw, p->now_ms);
	respond_date_refresh(p);
	if (upstream_worker_adopt(p, NULL, rt))
		return -ENOMEM;
	p->clk_ev = event_new(w->base, -1, 0, worker_clock_pass_end, p);
	if (!p->clk_ev)
		return -ENOMEM;
	p->tick = event_new(w->base, -1, EV_PERSIST, worker_tick, p);
	if (!p->tick || event_add(p->tick, &tv))
		return -ENOMEM;
	for (int i = 0; i < rt->cfg->n_listen; i++) {
		int fd;

		if (!listener_wanted(w->id, &rt->cfg->listen[i]))
			continue;
		fd = listener_open(&rt->cfg->listen[i], err, errlen);
		if (fd < 0)
			return fd;
		listener_opened(w->id, fd, &rt->cfg->listen[i]);
		p->lfd[p->n_listen++] = fd;
	}
	return listener_start(p);
}

int worker_create_all(struct og_rt *rt, char *err, size_t errlen)
{
	int n = (int)rt->cfg->workers;

	if (n < 1)
		n = 1;
	if (n > OG_MAX_WORKERS)
		n = OG_MAX_WORKERS;
	og_d.workers = calloc(n, sizeof(*og_d.workers));
	if (!og_d.workers)
		return -ENOMEM;
	og_d.n_workers = n;
	for (int i = 0; i < n; i++) {
		int r;

		og_d.workers[i].id = i;
		r = worker_init(&og_d.workers[i], rt, err, errlen);
		if (r)
			return r;
		hook_worker_init(&og_d.workers[i]);
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct og_worker *w = arg;
	struct og_worker_priv *p = w->priv;

	if (worker_policy.thread_start)
		worker_policy.thread_start(w->id);
	event_base_loop(w->base, 0);
	/* drained: release everything this worker owns */
	listener_stop(p);
	while (p->conns)
		conn_close(p->conns);
	upstream_close_all(p);
	conn_reap(p);
	upstream_reap(p);
	hook_worker_exit(w);
	atomic_fetch_sub(&alive, 1);
	return NULL;
}

int worker_start_all(void)
{
	for (int i = 0; i < og_d.n_workers; i++) {
		atomic_fetch_add(&alive, 1);
		int r =
		    pthread_create(&og_d.workers[i].thread, NULL, worker_main, &og_d.workers[i]);

		if (r)
			return -r;
		char name[16];

		snprintf(name, sizeof(name), "ogd-w%d", i % 1000);
		pthread_setname_np(og_d.workers[i].thread, name);
	}
	return 0;
}

void worker_join_all(void)
{
	for (int i = 0; i < og_d.n_workers; i++)
		pthread_join(og_d.workers[i].thread, NULL);
}

uint64_t worker_min_gen(void)
{
	uint64_t g = UINT64_MAX;

	for (int i = 0; i < og_d.n_workers; i++) {
		uint64_t x = atomic_load_explicit(&og_d.workers[i].rt_gen, memory_order_acquire);

		if (x < g)
			g = x;
	}
	return g;
}
