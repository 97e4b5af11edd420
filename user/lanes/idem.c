// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Idempotency-Key table: fixed-size buckets of entries under per-bucket spinlocks. */
#include <errno.h>
#include <immintrin.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "lanes/idem.h"

enum { E_FREE = 0, E_IN_FLIGHT, E_DONE, E_GONE };

struct idem_entry {
	uint64_t hash;	     /* of scope + key (seeded) */
	uint64_t fp;	     /* request fingerprint of the claim: method, target, length */
	uint64_t body_fp;    /* hash of the claim's body bytes, 0 = not known (streamed) */
	uint64_t expires_ms; /* E_DONE/E_GONE: reusable from then on */
	uint32_t tag;	     /* claim number: a stale owner cannot end a reused slot */
	uint32_t head_len;   /* E_DONE: stored head bytes, then body_len bytes of body */
	uint32_t body_len;
	uint32_t pins; /* repeats reading their body to compare it: not reclaimed */
	uint16_t key_len;
	uint8_t state;
	uint8_t scope_len;
	uint8_t scope[IDEM_SCOPE_MAX];
};

struct idem_bucket {
	atomic_flag lock;
	struct idem_entry e[IDEM_WAYS];
};

struct idem_table {
	struct idem_params p;
	uint32_t n_buckets; /* 1.5 x max_entries / IDEM_WAYS, rounded up */
	size_t stride;	    /* bytes per slot in data: key, then response */
	uint64_t seed;
	struct idem_bucket *b;
	char *data; /* n_buckets * IDEM_WAYS * stride, mmap'd: untouched slots cost no RSS */
	size_t data_len;
	_Atomic uint32_t refs;
	_Atomic uint32_t tags;
	_Atomic uint64_t verdicts[IDEM__N];
	_Atomic uint64_t ends[3];
	_Atomic int64_t entries;
};

static const char *const verdict_names[IDEM__N] = {
    "claimed", "in_flight", "replayed", "not_replayable", "key_reused", "table_full",
};

const char *idem_verdict_name(enum idem_verdict v)
{
	return (unsigned)v < IDEM__N ? verdict_names[v] : "other";
}

static void lock(struct idem_bucket *b)
{
	while (atomic_flag_test_and_set_explicit(&b->lock, memory_order_acquire))
		_mm_pause();
}

static void unlock(struct idem_bucket *b)
{
	atomic_flag_clear_explicit(&b->lock, memory_order_release);
}

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

uint64_t idem_hash_more(const struct idem_table *t, uint64_t h, const void *data, size_t len)
{
	const unsigned char *s = data;

	/* FNV-1a from a per-table random start: keys are compared in full, so the hash only
	 * spreads them; the seed keeps clients from aiming at a bucket. Bodies are compared by
	 * this hash alone: not a MAC, but a collision needs the seed, and keys are per scope,
	 * so a client could only confuse its own orders */
	if (!h)
		h = 14695981039346656037ull ^ t->seed;
	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

uint64_t idem_hash(const struct idem_table *t, uint64_t h, const void *data, size_t len)
{
	/* a murmur finaliser over the FNV state */
	h = idem_hash_more(t, h, data, len);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h ? h : 1;
}

struct idem_table *idem_table_new(const struct idem_params *p)
{
	struct idem_table *t;
	uint32_t nb;

	if (!p->max_entries || p->max_entries > IDEM_MAX_ENTRIES || !p->max_key ||
	    p->max_key > IDEM_MAX_KEY || p->max_response > IDEM_MAX_RESPONSE) {
		errno = EINVAL;
		return NULL;
	}
	/* half again as many slots as keys: with two choices of 8 ways, buckets then fill up
	 * only when the table is nearly full (tests/unit/test_idem.c measures it) */
	nb = (uint32_t)(((uint64_t)p->max_entries * 3 / 2 + IDEM_WAYS - 1) / IDEM_WAYS);
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->p = *p;
	t->n_buckets = nb;
	t->stride = (p->max_key + p->max_response + 63) & ~(size_t)63;
	t->b = calloc(nb, sizeof(*t->b));
	t->data_len = (size_t)nb * IDEM_WAYS * t->stride;
	t->data =
	    mmap(NULL, t->data_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!t->b || t->data == MAP_FAILED) {
		if (t->data != MAP_FAILED)
			munmap(t->data, t->data_len);
		free(t->b);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < nb; i++)
		atomic_flag_clear(&t->b[i].lock);
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uintptr_t)t;
	atomic_init(&t->refs, 1);
	return t;
}

void idem_table_get(struct idem_table *t)
{
	atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

void idem_table_put(struct idem_table *t)
{
	if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
		return;
	munmap(t->data, t->data_len);
	free(t->b);
	free(t);
}

int idem_table_same(const struct idem_table *t, const struct idem_params *p)
{
	return t->p.window_ms == p->window_ms && t->p.max_entries == p->max_entries &&
	       t->p.max_key == p->max_key && t->p.max_response == p->max_response;
}

const struct idem_params *idem_table_params(const struct idem_table *t)
{
	return &t->p;
}

static char *slot_key(struct idem_table *t, uint32_t slot)
{
	return t->data + (size_t)slot * t->stride;
}

char *idem_resp_area(struct idem_table *t, uint32_t slot)
{
	return slot_key(t, slot) + t->p.max_key;
}

static int same_id(struct idem_table *t, uint32_t slot, const struct idem_entry *e,
		   const struct idem_id *id, uint64_t h)
{
	return e->hash == h && e->key_len == id->key_len && e->scope_len == id->scope_len &&
	       !memcmp(e->scope, id->scope, id->scope_len) &&
	       !memcmp(slot_key(t, slot), id->key, id->key_len);
}

/* Look for <id> in bucket <bi> (locked). Returns its way or -1; counts free (or expired, then
 * freed) ways in *<n_free> and remembers the first in *<free_way>. */
static int scan(struct idem_table *t, uint32_t bi, const struct idem_id *id, uint64_t h,
		uint64_t now_ms, int *free_way, int *n_free)
{
	struct idem_bucket *b = &t->b[bi];

	*free_way = -1;
	*n_free = 0;
	for (int w = 0; w < IDEM_WAYS; w++) {
		struct idem_entry *e = &b->e[w];

		if (e->state != E_FREE && e->state != E_IN_FLIGHT && e->expires_ms <= now_ms &&
		    !e->pins) {
			/* past its window: reclaim it lazily, here under the lock (a repeat still
			 * reading its body to compare holds it: its head came within the window) */
			e->state = E_FREE;
			atomic_fetch_sub_explicit(&t->entries, 1, memory_order_relaxed);
		}
		if (e->state == E_FREE) {
			if (*free_way < 0)
				*free_way = w;
			++*n_free;
			continue;
		}
		if (same_id(t, bi * IDEM_WAYS + (uint32_t)w, e, id, h))
			return w;
	}
	return -1;
}

/* The verdict for a finished entry <e> whose fingerprint matched, given the repeat's body
 * hash <body_fp> (0 = unknown: then only a claim without a body hash is answered). */
static enum idem_verdict finished(struct idem_table *t, struct idem_entry *e, uint32_t slot,
				  uint64_t body_fp, char *out, uint32_t *head_len,
				  uint32_t *body_len)
{
	if (e->body_fp && e->body_fp != body_fp)
		return IDEM_KEY_REUSED;
	if (e->state == E_GONE)
		return IDEM_NOT_REPLAYABLE;
	memcpy(out, idem_resp_area(t, slot), (size_t)e->head_len + e->body_len);
	*head_len = e->head_len;
	*body_len = e->body_len;
	return IDEM_REPLAY;
}

static enum idem_verdict found(struct idem_table *t, struct idem_entry *e, uint32_t slot,
			       const struct idem_id *id, uint32_t *pslot, uint32_t *tag, char *out,
			       uint32_t *head_len, uint32_t *body_len)
{
	if (e->state == E_IN_FLIGHT)
		return IDEM_IN_FLIGHT;
	if (e->fp != id->fp)
		return IDEM_KEY_REUSED;
	if (e->body_fp && !id->body_fp) {
		/* the first's body is known and the repeat's is not yet: hold the entry until
		 * the repeat has read its body and compares (idem_check_body) */
		e->pins++;
		*pslot = slot;
		*tag = e->tag;
		return IDEM_CHECK_BODY;
	}
	return finished(t, e, slot, id->body_fp, out, head_len, body_len);
}

enum idem_verdict idem_begin(struct idem_table *t, const struct idem_id *id, uint64_t now_ms,
			     uint32_t *slot, uint32_t *tag, char *out, uint32_t *head_len,
			     uint32_t *body_len)
{
	uint64_t h = idem_hash(t, idem_hash(t, 0, id->scope, id->scope_len), id->key, id->key_len);
	/* two choices of bucket (each key may live in either): with 8 ways each, a table fills
	 * evenly to near its size before a key finds both full */
	uint32_t bi[2] = {(uint32_t)(((h >> 32) * t->n_buckets) >> 32),
			  (uint32_t)(((h & 0xffffffffu) * t->n_buckets) >> 32)};
	int way[2], fw[2], nf[2], pick, n = 2;
	enum idem_verdict v = IDEM_FULL;

	if (!id->key_len || id->key_len > t->p.max_key || id->scope_len > IDEM_SCOPE_MAX) {
		/* the caller checks lengths first; refuse rather than overrun a slot */
		count(&t->verdicts[IDEM_FULL]);
		return IDEM_FULL;
	}
	if (bi[0] == bi[1]) {
		n = 1;
	} else if (bi[0] > bi[1]) { /* locks are taken in bucket order: no deadlock */
		uint32_t x = bi[0];

		bi[0] = bi[1];
		bi[1] = x;
	}
	for (int i = 0; i < n; i++)
		lock(&t->b[bi[i]]);
	for (int i = 0; i < n; i++) {
		way[i] = scan(t, bi[i], id, h, now_ms, &fw[i], &nf[i]);
		if (way[i] >= 0) {
			uint32_t s = bi[i] * IDEM_WAYS + (uint32_t)way[i];

			v = found(t, &t->b[bi[i]].e[way[i]], s, id, slot, tag, out, head_len,
				  body_len);
			goto out;
		}
	}
	pick = n == 2 && nf[1] > nf[0];
	if (nf[pick]) {
		struct idem_entry *e = &t->b[bi[pick]].e[fw[pick]];

		e->hash = h;
		e->fp = id->fp;
		e->body_fp = id->body_fp;
		e->pins = 0;
		e->expires_ms = 0;
		e->tag = atomic_fetch_add_explicit(&t->tags, 1, memory_order_relaxed) + 1;
		e->head_len = e->body_len = 0;
		e->key_len = (uint16_t)id->key_len;
		e->scope_len = id->scope_len;
		memcpy(e->scope, id->scope, id->scope_len);
		*slot = bi[pick] * IDEM_WAYS + (uint32_t)fw[pick];
		memcpy(slot_key(t, *slot), id->key, id->key_len);
		e->state = E_IN_FLIGHT;
		*tag = e->tag;
		atomic_fetch_add_explicit(&t->entries, 1, memory_order_relaxed);
		v = IDEM_CLAIMED;
	}
out:
	for (int i = n - 1; i >= 0; i--)
		unlock(&t->b[bi[i]]);
	if (v != IDEM_CHECK_BODY)
		count(&t->verdicts[v]);
	return v;
}

/* The entry of <slot> with bucket <*b> locked when it is still claim <tag> in a state of
 * <mask> (bits of 1 << E_*); NULL (nothing locked) otherwise. */
static struct idem_entry *entry_lock(struct idem_table *t, uint32_t slot, uint32_t tag,
				     unsigned mask, struct idem_bucket **b)
{
	struct idem_entry *e;

	if (slot / IDEM_WAYS >= t->n_buckets)
		return NULL;
	*b = &t->b[slot / IDEM_WAYS];
	e = &(*b)->e[slot % IDEM_WAYS];
	lock(*b);
	if (e->tag == tag && (mask & (1u << e->state)))
		return e;
	unlock(*b);
	return NULL;
}

int idem_set_body(struct idem_table *t, uint32_t slot, uint32_t tag, uint64_t body_fp)
{
	struct idem_bucket *b;
	struct idem_entry *e = entry_lock(t, slot, tag, 1u << E_IN_FLIGHT, &b);

	if (!e)
		return -ESTALE;
	e->body_fp = body_fp;
	unlock(b);
	return 0;
}

enum idem_verdict idem_check_body(struct idem_table *t, uint32_t slot, uint32_t tag,
				  uint64_t body_fp, char *out, uint32_t *head_len,
				  uint32_t *body_len)
{
	struct idem_bucket *b;
	struct idem_entry *e = entry_lock(t, slot, tag, 1u << E_DONE | 1u << E_GONE, &b);
	enum idem_verdict v;

	if (!e || !e->pins) {
		/* never happens unless misused: a pinned entry stays as it was */
		if (e)
			unlock(b);
		count(&t->verdicts[IDEM_KEY_REUSED]);
		return IDEM_KEY_REUSED;
	}
	e->pins--;
	v = body_fp ? finished(t, e, slot, body_fp, out, head_len, body_len) : IDEM_KEY_REUSED;
	unlock(b);
	count(&t->verdicts[v]);
	return v;
}

void idem_unpin(struct idem_table *t, uint32_t slot, uint32_t tag)
{
	struct idem_bucket *b;
	struct idem_entry *e = entry_lock(t, slot, tag, 1u << E_DONE | 1u << E_GONE, &b);

	if (!e)
		return;
	if (e->pins)
		e->pins--;
	unlock(b);
}

int idem_end(struct idem_table *t, uint32_t slot, uint32_t tag, enum idem_end_kind kind,
	     uint64_t now_ms, uint32_t head_len, uint32_t body_len)
{
	struct idem_bucket *b;
	struct idem_entry *e = entry_lock(t, slot, tag, 1u << E_IN_FLIGHT, &b);

	if (!e)
		return -ESTALE;
	if (kind == IDEM_END_STORE && (uint64_t)head_len + body_len > t->p.max_response)
		kind = IDEM_END_UNKNOWN;
	switch (kind) {
	case IDEM_END_RELEASE:
		e->state = E_FREE;
		break;
	case IDEM_END_STORE:
		e->head_len = head_len;
		e->body_len = body_len;
		e->state = E_DONE;
		break;
	default:
		e->state = E_GONE;
	}
	e->expires_ms = now_ms + t->p.window_ms;
	unlock(b);
	if (kind == IDEM_END_RELEASE)
		atomic_fetch_sub_explicit(&t->entries, 1, memory_order_relaxed);
	count(&t->ends[kind]);
	return 0;
}

void idem_stats(const struct idem_table *t, struct idem_stats *out)
{
	int64_t n = atomic_load_explicit(&t->entries, memory_order_relaxed);

	for (int i = 0; i < IDEM__N; i++)
		out->verdicts[i] = atomic_load_explicit(&t->verdicts[i], memory_order_relaxed);
	for (int i = 0; i < 3; i++)
		out->ends[i] = atomic_load_explicit(&t->ends[i], memory_order_relaxed);
	out->entries = n > 0 ? (uint64_t)n : 0;
}
