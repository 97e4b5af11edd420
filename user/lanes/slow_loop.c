// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The slow loop around slow_decide: og_flows deltas, L7 rejection notes, actions to the writer. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "lanes/kern.h"
#include "lanes/slow.h"
#include "lib/log.h"

/* ---- L7 rejection notes: per-thread tables, double-buffered ---- */

#define NOTE_SLOTS   256 /* per table; a power of two */
#define NOTE_PROBE   8
#define NOTE_THREADS 80 /* workers (OG_MAX_WORKERS) and a few others */

struct note_slot {
	_Atomic uint32_t used;
	struct og_addr_key k;
	_Atomic uint64_t n;
};

/* One writer thread per note_thread; the slow loop reads and clears the table the
 * writers are not pointed at. A writer that loaded the index just before a flip may
 * still add to the old table while it is read: that count can be lost, which a rate
 * heuristic tolerates; it never blocks anyone. */
struct note_thread {
	struct note_slot t[2][NOTE_SLOTS];
};

static struct note_thread notes[NOTE_THREADS];
static _Atomic int n_notes, note_cur;
static _Atomic uint64_t notes_lost;
static __thread struct note_thread *my_notes;
static _Atomic int slow_on; /* a loop reads the notes: without one, noting is wasted work */

static uint32_t addr_hash(const struct og_addr_key *k)
{
	uint32_t h = 2166136261u;
	const uint8_t *p = (const uint8_t *)k;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

void lanes_slow_note_reject(const struct og_addr_key *src)
{
	struct note_slot *t;
	uint32_t h;

	if (!atomic_load_explicit(&slow_on, memory_order_relaxed))
		return;
	if (__builtin_expect(!my_notes, 0)) {
		int i = atomic_fetch_add_explicit(&n_notes, 1, memory_order_relaxed);

		if (i >= NOTE_THREADS) {
			atomic_fetch_add_explicit(&notes_lost, 1, memory_order_relaxed);
			return;
		}
		my_notes = &notes[i];
	}
	t = my_notes->t[atomic_load_explicit(&note_cur, memory_order_acquire) & 1];
	h = addr_hash(src);
	for (int p = 0; p < NOTE_PROBE; p++) {
		struct note_slot *s = &t[(h + p) & (NOTE_SLOTS - 1)];

		if (!atomic_load_explicit(&s->used, memory_order_acquire)) {
			s->k = *src;
			atomic_store_explicit(&s->n, 1, memory_order_relaxed);
			atomic_store_explicit(&s->used, 1, memory_order_release);
			return;
		}
		if (!memcmp(&s->k, src, sizeof(*src))) {
			/* single writer: a plain add, no locked instruction */
			atomic_store_explicit(&s->n,
					      atomic_load_explicit(&s->n, memory_order_relaxed) + 1,
					      memory_order_relaxed);
			return;
		}
	}
	atomic_fetch_add_explicit(&notes_lost, 1, memory_order_relaxed);
}

/* ---- the loop ---- */

struct flow_rec {
	struct og_flow_key k;
	uint64_t pkts, bytes, syns;
	uint8_t lane;
};

struct vec {
	void *p;
	size_t n, cap, sz;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		void *p = realloc(v->p, cap * v->sz);

		if (!p)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	return (char *)v->p + v->sz * v->n++;
}

static struct {
	struct slow_params p;
	struct slow_state *st;
	struct vec cur, prev, src, fl;
	struct slow_action act[512];
	uint64_t last_ms;
	int primed;
	struct dp_maps *m; /* the writer's maps, during a tick */
	_Atomic uint64_t ticks, flows, throttles, releases, demotes, post_failed, last_ns;
	_Atomic uint32_t throttled;
	pthread_mutex_t mu; /* <pending>: a reload's thresholds, taken at the next tick */
	struct slow_params pending;
	int has_pending;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .cur.sz = sizeof(struct flow_rec),
       .prev.sz = sizeof(struct flow_rec),
       .src.sz = sizeof(struct slow_src_in),
       .fl.sz = sizeof(struct slow_flow_in)};

int slow_init(const struct slow_params *p)
{
	if (p)
		S.p = *p;
	else
		slow_params_default(&S.p);
	S.st = calloc(1, sizeof(*S.st));
	S.primed = 0;
	S.has_pending = 0;
	atomic_store(&slow_on, S.st != NULL);
	return S.st ? 0 : -ENOMEM;
}

void slow_set_params(const struct slow_params *p)
{
	pthread_mutex_lock(&S.mu);
	if (p->syn_rate != S.p.syn_rate || p->pkt_rate != S.p.pkt_rate ||
	    p->reject_rate != S.p.reject_rate || p->throttle_pps != S.p.throttle_pps ||
	    p->throttle_burst != S.p.throttle_burst || p->ttl_ms != S.p.ttl_ms ||
	    p->calm_ticks != S.p.calm_ticks) {
		S.pending = *p;
		S.has_pending = 1;
	}
	pthread_mutex_unlock(&S.mu);
}

void slow_fini(void)
{
	atomic_store(&slow_on, 0);
	free(S.st);
	S.st = NULL;
	free(S.cur.p);
	free(S.prev.p);
	free(S.src.p);
	free(S.fl.p);
	S.cur = (struct vec){.sz = sizeof(struct flow_rec)};
	S.prev = (struct vec){.sz = sizeof(struct flow_rec)};
	S.src = (struct vec){.sz = sizeof(struct slow_src_in)};
	S.fl = (struct vec){.sz = sizeof(struct slow_flow_in)};
}

static int collect(const struct og_flow_key *k, const struct og_flow_stats *s, void *ctx)
{
	struct flow_rec *r = vec_push(&S.cur);

	if (!r)
		return -ENOMEM;
	r->k = *k;
	r->pkts = s->pkts;
	r->bytes = s->bytes;
	r->syns = s->syns;
	r->lane = s->lane;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct og_flow_key));
}

static int src_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct og_addr_key));
}

static uint64_t sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0; /* an LRU eviction and re-insert restarts a flow's counts */
}

static void add_src(const struct og_addr_key *k, uint64_t syns, uint64_t pkts, uint64_t rej)
{
	struct slow_src_in *s = vec_push(&S.src);

	if (!s)
		return;
	s->src = *k;
	s->syns = syns;
	s->pkts = pkts;
	s->rejects = rej;
	s->dropped_total = 0;
}

/* Window deltas per flow and per source: flows sorted, previous read bsearched. */
static void deltas(void)
{
	struct flow_rec *cur = S.cur.p, *prev = S.prev.p;
	struct slow_src_in *src;
	size_t i, j;

	S.src.n = S.fl.n = 0;
	if (S.cur.n)
		qsort(cur, S.cur.n, sizeof(*cur), key_cmp);
	for (i = 0; i < S.cur.n; i++) {
		const struct flow_rec *o =
		    S.prev.n ? bsearch(&cur[i].k, prev, S.prev.n, sizeof(*prev), key_cmp) : NULL;
		uint64_t dp = o ? sub(cur[i].pkts, o->pkts) : cur[i].pkts;
		uint64_t db = o ? sub(cur[i].bytes, o->bytes) : cur[i].bytes;
		uint64_t ds = o ? sub(cur[i].syns, o->syns) : cur[i].syns;
		struct og_addr_key a = {.family = cur[i].k.family};
		struct slow_flow_in *f;

		if (!dp)
			continue;
		memcpy(a.addr, cur[i].k.saddr, sizeof(a.addr));
		add_src(&a, ds, dp, 0);
		f = vec_push(&S.fl);
		if (f) {
			memset(f, 0, sizeof(*f));
			f->k = cur[i].k;
			f->bytes = db;
			f->lane = cur[i].lane;
		}
	}
	/* L7 rejections: flip the tables, read and clear the ones workers just left */
	int old = atomic_fetch_xor_explicit(&note_cur, 1, memory_order_acq_rel) & 1;
	int nt = atomic_load(&n_notes);

	for (int t = 0; t < nt && t < NOTE_THREADS; t++) {
		for (int s = 0; s < NOTE_SLOTS; s++) {
			struct note_slot *ns = &notes[t].t[old][s];

			if (!atomic_load_explicit(&ns->used, memory_order_acquire))
				continue;
			if (ns->k.family)
				add_src(&ns->k, 0, 0, atomic_load(&ns->n));
			memset(&ns->k, 0, sizeof(ns->k));
			atomic_store(&ns->n, 0);
			atomic_store_explicit(&ns->used, 0, memory_order_release);
		}
	}
	/* sources the loop holds throttled: their og_throttle drop counters */
	for (int k = 0; S.st && k < S.st->n_src; k++) {
		struct og_throttle t;

		if (!S.st->src[k].until_ms || !S.m ||
		    bpf_map_lookup_elem(S.m->fd[DP_MAP_THROTTLE], &S.st->src[k].src, &t))
			continue;
		struct slow_src_in *d = vec_push(&S.src);

		if (d) {
			memset(d, 0, sizeof(*d));
			d->src = S.st->src[k].src;
			d->dropped_total = t.dropped;
		}
	}
	/* one entry per source */
	src = S.src.p;
	if (S.src.n)
		qsort(src, S.src.n, sizeof(*src), src_cmp);
	for (i = 0, j = 0; i < S.src.n; i++) {
		if (j && !memcmp(&src[j - 1].src, &src[i].src, sizeof(src[i].src))) {
			src[j - 1].syns += src[i].syns;
			src[j - 1].pkts += src[i].pkts;
			src[j - 1].rejects += src[i].rejects;
			src[j - 1].dropped_total += src[i].dropped_total;
		} else {
			src[j++] = src[i];
		}
	}
	S.src.n = j;
}

static void act(const struct slow_action *a, uint64_t window_ms)
{
	char s[64], d[64];
	int ret = 0;

	dp_addr_str(a->src.family, a->src.addr, s, sizeof(s));
	switch (a->kind) {
	case SLOW_THROTTLE:
		ret = kern_throttle(&a->src, a->pps, a->burst, a->ttl_ms);
		atomic_fetch_add(&S.throttles, 1);
		og_log("info",
		       "event=slow_decision action=throttle src=%s why=%s syn_rate=%llu "
		       "pkt_rate=%llu reject_rate=%llu window_ms=%llu pps=%llu burst=%llu "
		       "ttl_ms=%llu strikes=%u post=%d",
		       s, a->why, (unsigned long long)a->syn_rate, (unsigned long long)a->pkt_rate,
		       (unsigned long long)a->reject_rate, (unsigned long long)window_ms,
		       (unsigned long long)a->pps, (unsigned long long)a->burst,
		       (unsigned long long)a->ttl_ms, a->strikes, ret);
		break;
	case SLOW_RELEASE:
		ret = kern_unthrottle(&a->src);
		atomic_fetch_add(&S.releases, 1);
		og_log("info",
		       "event=slow_decision action=release src=%s why=%s syn_rate=%llu "
		       "pkt_rate=%llu reject_rate=%llu window_ms=%llu strikes=%u post=%d",
		       s, a->why, (unsigned long long)a->syn_rate, (unsigned long long)a->pkt_rate,
		       (unsigned long long)a->reject_rate, (unsigned long long)window_ms,
		       a->strikes, ret);
		break;
	case SLOW_DEMOTE:
		ret = kern_pin(&a->flow, OG_LANE_BULK);
		atomic_fetch_add(&S.demotes, 1);
		dp_addr_str(a->flow.family, a->flow.daddr, d, sizeof(d));
		og_log("info",
		       "event=slow_decision action=demote src=%s sport=%u dst=%s dport=%u why=%s "
		       "bytes=%llu lane_median=%llu factor=%.1f window_ms=%llu post=%d",
		       s, ntohs(a->flow.sport), d, ntohs(a->flow.dport), a->why,
		       (unsigned long long)a->bytes, (unsigned long long)a->median,
		       S.p.heavy_factor, (unsigned long long)window_ms, ret);
		break;
	}
	if (ret)
		atomic_fetch_add(&S.post_failed, 1);
}

void slow_tick(struct dp_maps *m, uint64_t now_ms, void *ctx)
{
	struct timespec t0, t1;
	struct vec tmp;
	uint32_t throttled = 0;
	int n, ret;

	(void)ctx;
	if (!S.st)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&S.mu); /* the writer thread's, once a window: not the hot path */
	if (S.has_pending) {
		/* only what the config sets; the rest keeps its value */
		S.p.syn_rate = S.pending.syn_rate;
		S.p.pkt_rate = S.pending.pkt_rate;
		S.p.reject_rate = S.pending.reject_rate;
		S.p.throttle_pps = S.pending.throttle_pps;
		S.p.throttle_burst = S.pending.throttle_burst;
		S.p.ttl_ms = S.pending.ttl_ms;
		S.p.calm_ticks = S.pending.calm_ticks;
		S.has_pending = 0;
		og_log("info",
		       "event=slow_params syn_rate=%llu pkt_rate=%llu reject_rate=%llu "
		       "throttle_pps=%llu throttle_burst=%llu ttl_ms=%llu calm_ticks=%u",
		       (unsigned long long)S.p.syn_rate, (unsigned long long)S.p.pkt_rate,
		       (unsigned long long)S.p.reject_rate, (unsigned long long)S.p.throttle_pps,
		       (unsigned long long)S.p.throttle_burst, (unsigned long long)S.p.ttl_ms,
		       S.p.calm_ticks);
	}
	pthread_mutex_unlock(&S.mu);
	S.cur.n = 0;
	S.m = m;
	ret = dp_flows_foreach(m, collect, NULL);
	if (ret) {
		og_log("warn", "event=slow_tick err=\"og_flows: %s\"", strerror(-ret));
		return;
	}
	deltas();
	if (S.primed) {
		uint64_t w = now_ms > S.last_ms ? now_ms - S.last_ms : 1;

		n = slow_decide(&S.p, S.st, now_ms, w, S.src.p, (int)S.src.n, S.fl.p, (int)S.fl.n,
				S.act, (int)(sizeof(S.act) / sizeof(S.act[0])));
		for (int i = 0; i < n; i++)
			act(&S.act[i], w);
	}
	S.primed = 1;
	S.last_ms = now_ms;
	tmp = S.prev;
	S.prev = S.cur;
	S.cur = tmp;
	for (int i = 0; i < S.st->n_src; i++)
		throttled += S.st->src[i].until_ms > now_ms;
	atomic_store(&S.throttled, throttled);
	atomic_fetch_add(&S.ticks, 1);
	atomic_store(&S.flows, S.prev.n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	atomic_store(&S.last_ns, (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ull +
				     (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec);
}

void slow_stats_read(struct slow_stats *s)
{
	s->ticks = atomic_load(&S.ticks);
	s->flows = atomic_load(&S.flows);
	s->throttles = atomic_load(&S.throttles);
	s->releases = atomic_load(&S.releases);
	s->demotes = atomic_load(&S.demotes);
	s->post_failed = atomic_load(&S.post_failed);
	s->notes_lost = atomic_load(&notes_lost);
	s->throttled = atomic_load(&S.throttled);
	s->last_ns = atomic_load(&S.last_ns);
}
