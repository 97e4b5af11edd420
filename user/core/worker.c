// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Worker threads: event loop, runtime generations by reference count, tick, drain and exit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hooks.h"
#include "core/listener.h"
#include "lib/log.h"
#include "core/worker.h"

#define DRAIN_IDLE_MS 250 /* during drain, a keep-alive connection idle this long is closed */

#define OG_WORKER_MODS 4

static _Atomic int alive;
struct worker_policy worker_policy;
static const struct og_worker_mod *mods[OG_WORKER_MODS];
static int n_mods;
static og_accept_fn *accept_fn;

int worker_mod_register(const struct og_worker_mod *m)
{
	if (n_mods == OG_WORKER_MODS)
		return -ENOSPC;
	mods[n_mods++] = m;
	return 0;
}

void worker_accept_register(og_accept_fn *fn)
{
	accept_fn = fn;
}

void worker_accept(struct og_worker_priv *p, int fd, const struct sockaddr *peer, socklen_t plen,
		   int read_now)
{
	if (accept_fn)
		accept_fn(p, fd, peer, plen, read_now);
	else
		close(fd);
}

int worker_shed(struct og_worker_priv *p)
{
	for (int i = 0; i < n_mods; i++)
		if (mods[i]->shed && mods[i]->shed(p))
			return 1;
	return 0;
}

void worker_reap(struct og_worker_priv *p)
{
	for (int i = 0; i < n_mods; i++)
		if (mods[i]->reap)
			mods[i]->reap(p);
}

static void mods_drain(struct og_worker_priv *p, uint64_t idle_ms)
{
	for (int i = 0; i < n_mods; i++)
		if (mods[i]->drain)
			mods[i]->drain(p, idle_ms);
}

static void mods_close_all(struct og_worker_priv *p)
{
	for (int i = 0; i < n_mods; i++)
		if (mods[i]->close_all)
			mods[i]->close_all(p);
}

static int mods_busy(struct og_worker_priv *p)
{
	for (int i = 0; i < n_mods; i++)
		if (mods[i]->busy && mods[i]->busy(p))
			return 1;
	return 0;
}

int worker_alive(void)
{
	return atomic_load(&alive);
}

static void worker_set_rt(struct og_worker_priv *p, struct og_rt *rt)
{
	p->rt = rt;
	p->rt_ref = &rt->refs[p->w->id].n;
}

/*
 * Switch new requests to generation <nrt>: tick only, so no request is inside this.
 * Requests in flight keep the generation they hold a reference on until they end; the
 * main thread frees it after that (worker_rt_unused). Connections queued on a listener
 * the new config drops are accepted here but served from the loop, on <nrt>. When the
 * new pools cannot be allocated the worker stays on its generation and tries again at
 * the next tick.
 */
static void worker_adopt(struct og_worker_priv *p, struct og_rt *nrt)
{
	struct og_rt *ort = p->rt;
	int r = 0;

	for (int i = 0; i < n_mods && !r; i++)
		if (mods[i]->adopt)
			r = mods[i]->adopt(p, ort, nrt);
	if (r) {
		og_log("error", "event=adopt worker=%d gen=%llu err=\"%s\"", p->w->id,
		       (unsigned long long)nrt->gen, strerror(-r));
		return;
	}
	worker_set_rt(p, nrt);
	if (!p->draining)
		listener_reconcile(p, nrt->cfg);
	/* last: once published, <ort> may be freed as soon as its references are gone */
	atomic_store_explicit(&p->w->rt_gen, nrt->gen, memory_order_release);
}

int worker_rt_unused(const struct og_rt *rt)
{
	for (int i = 0; i < og_d.n_workers; i++) {
		/* rt_gen first: a worker that moved past <rt> takes no new reference on it, and
		 * the references it took before are visible once its rt_gen is */
		if (atomic_load_explicit(&og_d.workers[i].rt_gen, memory_order_acquire) <= rt->gen)
			return 0;
		if (atomic_load_explicit(&rt->refs[i].n, memory_order_acquire))
			return 0;
	}
	return 1;
}

static void worker_exit_if_done(struct og_worker_priv *p)
{
	if (p->draining && !mods_busy(p))
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
	mods_drain(p, DRAIN_IDLE_MS);
	worker_reap(p);
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
	for (int i = 0; i < n_mods; i++)
		if (mods[i]->tick)
			mods[i]->tick(p);
	tw_run(&p->tw, p->now_ms);
	/* Move to a newly published config even on a worker with no traffic, so the old
	 * generation can be freed. */
	cur = atomic_load_explicit(&og_d.rt, memory_order_acquire);
	if (cur != p->rt)
		worker_adopt(p, cur);
	if (!p->draining && atomic_load_explicit(&og_d.draining, memory_order_acquire))
		worker_start_drain(p);
	if (p->draining) {
		mods_drain(p, DRAIN_IDLE_MS);
		if (p->now_ms >= p->drain_deadline_ms)
			mods_close_all(p); /* grace is over: whatever is left is cut */
		worker_exit_if_done(p);
	}
	if (p->accept_paused_until && !p->draining)
		listener_resume(p);
	worker_reap(p);
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
	worker_set_rt(p, rt);
	atomic_store(&w->rt_gen, rt->gen);
	buf_pool_init(&p->bufs);
	p->msg = malloc(sizeof(*p->msg));
	if (!p->msg)
		return -ENOMEM;
	worker_clock(p);
	tw_init(&p->tw, p->now_ms);
	for (int i = 0; i < n_mods; i++) {
		int r = mods[i]->init ? mods[i]->init(p, rt) : 0;

		if (r) {
			snprintf(err, errlen, "worker %d: %s", w->id, strerror(-r));
			return r;
		}
	}
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
		snprintf(p->laddr[p->n_listen], sizeof(p->laddr[0]), "%s", rt->cfg->listen[i].text);
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
		og_hooks.worker_init(&og_d.workers[i]);
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
	mods_close_all(p);
	worker_reap(p);
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
