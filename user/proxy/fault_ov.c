// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Runtime fault overrides: a name-keyed table with TTLs, published per generation by seqlock. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/daemon.h"
#include "lib/log.h"
#include "proxy/fault_ov.h"

/*
 * Writers (the admin thread's POST /faults, the main thread's resolve and sweep) take <mu>
 * and keep the name-keyed entries. Readers (workers) never lock: table gen % N_TAB holds
 * generation gen's route positions with the override shown at each, behind a sequence
 * counter (odd while a writer is inside; a reader that saw it move reads again). Several
 * tables, so requests still starting on an older generation (a worker adopts a new one at
 * its next tick, 16 ms) keep their overrides across reloads, even quick ones in a row.
 */
#define N_TAB 4

struct ov_tab {
	_Atomic uint64_t seq;			/* odd while written */
	_Atomic uint64_t gen;			/* og_rt.gen of the positions, 0 = none */
	_Atomic uint64_t rec[CFG_MAX_ROUTES];	/* packed override (pack()), 0 = none */
	_Atomic uint64_t until[CFG_MAX_ROUTES]; /* CLOCK_MONOTONIC ms */
	int16_t ent[CFG_MAX_ROUTES];		/* writers only: entry shown, -1 none */
	int n_routes;				/* writers only: positions in use */
} __attribute__((aligned(64)));

struct ov_ent {
	char name[65]; /* route name, "" = free */
	uint64_t rec;
	uint64_t until_ms;
};

_Atomic uint32_t fault_ov_live;

static struct {
	pthread_mutex_t mu;
	struct ov_ent ent[FAULT_OV_MAX];
	struct ov_tab tab[N_TAB];
	int cur;		  /* table of the newest generation, -1 before the first */
	const struct config *cfg; /* the newest generation's config (lives while it is newest) */
} ov = {.mu = PTHREAD_MUTEX_INITIALIZER, .cur = -1};

/* One 64-bit word per override, so the seqlock guards few loads: delay_ms and jitter 20 bits
 * each (<= 600000), delay_percent 7, abort_status 10 (200..599, never 0: a set override is
 * never 0), abort_percent 7. */
static uint64_t pack(const struct cfg_fault *f)
{
	return (uint64_t)f->delay_ms | (uint64_t)f->delay_jitter_ms << 20 |
	       (uint64_t)f->delay_percent << 40 | (uint64_t)f->abort_status << 47 |
	       (uint64_t)f->abort_percent << 57;
}

static void unpack(uint64_t v, struct cfg_fault *f)
{
	f->delay_ms = (uint32_t)(v & 0xfffff);
	f->delay_jitter_ms = (uint32_t)(v >> 20 & 0xfffff);
	f->delay_percent = (uint32_t)(v >> 40 & 0x7f);
	f->abort_status = (uint32_t)(v >> 47 & 0x3ff);
	f->abort_percent = (uint32_t)(v >> 57 & 0x7f);
}

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

int fault_ov_get(uint64_t gen, int route, uint64_t now_ms, struct cfg_fault *out)
{
	struct ov_tab *t = &ov.tab[gen % N_TAB];
	uint64_t s, g, rec, until;

	if ((unsigned)route >= CFG_MAX_ROUTES)
		return 0;
	for (;;) {
		s = atomic_load_explicit(&t->seq, memory_order_acquire);
		if (s & 1) {
			relax();
			continue;
		}
		g = atomic_load_explicit(&t->gen, memory_order_relaxed);
		rec = atomic_load_explicit(&t->rec[route], memory_order_relaxed);
		until = atomic_load_explicit(&t->until[route], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&t->seq, memory_order_relaxed) == s)
			break;
	}
	if (g != gen || !rec || until <= now_ms)
		return 0;
	unpack(rec, out);
	return 1;
}

/* Writer side of a table's seqlock (under ov.mu): readers retry between begin and end. */
static void w_begin(struct ov_tab *t)
{
	atomic_store_explicit(&t->seq, atomic_load_explicit(&t->seq, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void w_end(struct ov_tab *t)
{
	atomic_store_explicit(&t->seq, atomic_load_explicit(&t->seq, memory_order_relaxed) + 1,
			      memory_order_release);
}

/* Show entry <e> (-1: nothing) at position <pos> of <t>. Inside w_begin/w_end. */
static void put(struct ov_tab *t, int pos, int e)
{
	t->ent[pos] = (int16_t)e;
	atomic_store_explicit(&t->rec[pos], e >= 0 ? ov.ent[e].rec : 0, memory_order_relaxed);
	atomic_store_explicit(&t->until[pos], e >= 0 ? ov.ent[e].until_ms : 0,
			      memory_order_relaxed);
}

/* Rewrite every position of every table that shows entry <e> (after it changed). */
static void refresh(int e)
{
	for (int i = 0; i < N_TAB; i++) {
		struct ov_tab *t = &ov.tab[i];
		int began = 0;

		for (int pos = 0; pos < t->n_routes; pos++) {
			if (t->ent[pos] != e)
				continue;
			if (!began++)
				w_begin(t);
			put(t, pos, ov.ent[e].name[0] ? e : -1);
		}
		if (began)
			w_end(t);
	}
}

static void drop(int e)
{
	ov.ent[e].name[0] = 0;
	refresh(e);
	atomic_fetch_sub_explicit(&fault_ov_live, 1, memory_order_relaxed);
}

static int find(const char *name)
{
	for (int e = 0; e < FAULT_OV_MAX; e++)
		if (ov.ent[e].name[0] && !strcmp(ov.ent[e].name, name))
			return e;
	return -1;
}

/* The config's bounds for a fault section (config_guard.c), with the same messages' words. */
static int check(const struct cfg_fault *f, char *err, size_t errlen)
{
	if (f->delay_ms > FAULT_OV_DELAY_MAX || f->delay_jitter_ms > FAULT_OV_DELAY_MAX) {
		snprintf(err, errlen, "delay_ms and delay_jitter_ms must be 0..%d",
			 FAULT_OV_DELAY_MAX);
		return -EINVAL;
	}
	if (f->delay_jitter_ms > f->delay_ms) {
		snprintf(err, errlen,
			 "delay_jitter_ms (%u) may not exceed delay_ms (%u): the delay is drawn "
			 "from delay_ms +- delay_jitter_ms",
			 f->delay_jitter_ms, f->delay_ms);
		return -EINVAL;
	}
	if (f->delay_percent > 100 || f->abort_percent > 100) {
		snprintf(err, errlen, "delay_percent and abort_percent must be 0..100");
		return -EINVAL;
	}
	if (f->abort_status < 200 || f->abort_status > 599) {
		snprintf(err, errlen, "abort_status must be 200..599, got %u", f->abort_status);
		return -EINVAL;
	}
	return 0;
}

/* Position of the upstream route <name> in the newest config, or -1 with the reason. */
static int route_of(const char *name, char *err, size_t errlen)
{
	const struct config *cfg = ov.cfg;

	if (!cfg) {
		snprintf(err, errlen, "no config loaded");
		return -1;
	}
	for (int r = 0; r < cfg->n_routes; r++) {
		if (strcmp(cfg->routes[r].name, name))
			continue;
		if (cfg->routes[r].is_respond) {
			snprintf(
			    err, errlen,
			    "route \"%s\" answers by itself (respond:): faults apply to upstream "
			    "routes only",
			    name);
			return -1;
		}
		return r;
	}
	snprintf(err, errlen, "unknown route \"%s\" (GET /config lists the routes)", name);
	return -1;
}

int fault_ov_set(const char *name, const struct cfg_fault *f, uint64_t ttl_ms, uint64_t now_ms,
		 char *err, size_t errlen)
{
	struct cfg_fault v = *f;
	int e, r, pos;

	if (!name || !*name || strlen(name) > 64) {
		snprintf(err, errlen, "route must name a route (1 to 64 characters)");
		return -EINVAL;
	}
	if (ttl_ms > FAULT_OV_TTL_MAX) {
		snprintf(err, errlen, "ttl_ms must be 1..%d (0 removes the override)",
			 FAULT_OV_TTL_MAX);
		return -EINVAL;
	}
	if (ttl_ms && (r = check(&v, err, errlen)))
		return r;
	if (!v.delay_ms)
		v.delay_percent = 0;
	pthread_mutex_lock(&ov.mu);
	e = find(name);
	/* an override of a route a reload dropped can still be removed */
	pos = ttl_ms || e < 0 ? route_of(name, err, errlen) : 0;
	if (pos < 0) {
		pthread_mutex_unlock(&ov.mu);
		return -EINVAL;
	}
	if (!ttl_ms) {
		if (e >= 0)
			drop(e);
		pthread_mutex_unlock(&ov.mu);
		og_log("info", "event=fault_override route=\"%s\" removed=%d", name, e >= 0);
		return 0;
	}
	if (e < 0) {
		for (e = 0; e < FAULT_OV_MAX && ov.ent[e].name[0]; e++)
			;
		if (e == FAULT_OV_MAX) {
			pthread_mutex_unlock(&ov.mu);
			snprintf(err, errlen, "at most %d fault overrides at a time", FAULT_OV_MAX);
			return -ENOSPC;
		}
		snprintf(ov.ent[e].name, sizeof(ov.ent[e].name), "%s", name);
		atomic_fetch_add_explicit(&fault_ov_live, 1, memory_order_relaxed);
	}
	ov.ent[e].rec = pack(&v);
	ov.ent[e].until_ms = now_ms + ttl_ms;
	refresh(e); /* where older generations show it too */
	w_begin(&ov.tab[ov.cur]);
	put(&ov.tab[ov.cur], pos, e);
	w_end(&ov.tab[ov.cur]);
	pthread_mutex_unlock(&ov.mu);
	og_log("info",
	       "event=fault_override route=\"%s\" delay_ms=%u delay_jitter_ms=%u delay_percent=%u "
	       "abort_status=%u abort_percent=%u ttl_ms=%llu",
	       name, v.delay_ms, v.delay_jitter_ms, v.delay_percent, v.abort_status,
	       v.abort_percent, (unsigned long long)ttl_ms);
	return 0;
}

void fault_ov_resolve(const struct og_rt *rt)
{
	const struct config *cfg = rt->cfg;
	struct ov_tab *t;
	int i, n;

	pthread_mutex_lock(&ov.mu);
	i = (int)(rt->gen % N_TAB);
	t = &ov.tab[i];
	n = cfg->n_routes > t->n_routes ? cfg->n_routes : t->n_routes;
	w_begin(t);
	atomic_store_explicit(&t->gen, rt->gen, memory_order_relaxed);
	for (int pos = 0; pos < n; pos++)
		put(t, pos,
		    pos < cfg->n_routes && !cfg->routes[pos].is_respond
			? find(cfg->routes[pos].name)
			: -1);
	t->n_routes = cfg->n_routes;
	w_end(t);
	ov.cur = i;
	ov.cfg = cfg;
	pthread_mutex_unlock(&ov.mu);
}

void fault_ov_sweep(uint64_t now_ms)
{
	if (!fault_ov_any())
		return;
	pthread_mutex_lock(&ov.mu);
	for (int e = 0; e < FAULT_OV_MAX; e++)
		if (ov.ent[e].name[0] && ov.ent[e].until_ms <= now_ms) {
			og_log("info", "event=fault_override route=\"%s\" expired=1",
			       ov.ent[e].name);
			drop(e);
		}
	pthread_mutex_unlock(&ov.mu);
}

int fault_ov_peek(const char *name, uint64_t now_ms, struct cfg_fault *f, uint64_t *ttl_ms)
{
	int e, r = 0;

	pthread_mutex_lock(&ov.mu);
	e = find(name);
	if (e >= 0 && ov.ent[e].until_ms > now_ms) {
		unpack(ov.ent[e].rec, f);
		*ttl_ms = ov.ent[e].until_ms - now_ms;
		r = 1;
	}
	pthread_mutex_unlock(&ov.mu);
	return r;
}
