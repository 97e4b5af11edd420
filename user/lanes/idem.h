/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Idempotency-Key table: one per route, shared by every worker, fixed size, per-bucket locks. */
#ifndef OG_IDEM_H
#define OG_IDEM_H

#include <stddef.h>
#include <stdint.h>

/*
 * A table has 1.5 x <max_entries> slots (in whole buckets of IDEM_WAYS), each with room
 * for a key of <max_key> bytes and a stored response of <max_response> bytes, all in one
 * block mapped when the table is made: memory is bounded, untouched slots cost no RSS, and
 * nothing is allocated per request. A bucket is guarded by a spinlock held only to look up, claim,
 * publish or copy out one entry (a copy is at most max_response bytes).
 *
 * An entry is claimed by the first request with its (scope, key); while that request is in
 * flight only its owner writes the entry's response area, so capturing the answer takes no
 * lock. In-flight entries are never evicted; a finished one stays until <window_ms> after
 * it finished, then its slot may be reused. A key may live in either of two buckets (two
 * hashes; the emptier one is taken), so the table fills evenly; when both are full of
 * in-flight or unexpired entries the claim is refused (IDEM_FULL): the table never forgets
 * a live key to make room, since forgetting is what would let an order through twice.
 *
 * The fingerprint has two parts: <fp> (method, target, length) known with the head, and
 * <body_fp> (the body bytes) known once the body is read whole. The owner records its body's
 * hash before forwarding (idem_set_body). A repeat that finds a finished entry with a body
 * hash is told IDEM_CHECK_BODY: the entry is pinned (never reclaimed, even past its window)
 * until the repeat brings its own body's hash to idem_check_body, or gives up (idem_unpin).
 */

#define IDEM_WAYS	  8	  /* entries per bucket */
#define IDEM_SCOPE_MAX	  16	  /* bytes of client identity kept per entry */
#define IDEM_MAX_KEY	  255	  /* longest key a table may be configured for */
#define IDEM_MAX_RESPONSE 61440	  /* largest stored response (fits one 64 KiB buffer) */
#define IDEM_MAX_ENTRIES  1048576 /* largest table */

struct idem_params {
	uint32_t window_ms;    /* how long a finished answer is replayed */
	uint32_t max_entries;  /* keys the table must hold at once (it has 1.5 x as many slots) */
	uint32_t max_key;      /* longest key, bytes */
	uint32_t max_response; /* largest response stored (head + body), bytes */
};

/* What a request with a key finds (idem_begin). */
enum idem_verdict {
	IDEM_CLAIMED = 0,    /* first with this key: the caller owns the entry, proxies, ends it */
	IDEM_IN_FLIGHT,	     /* the first request is still being answered */
	IDEM_REPLAY,	     /* a stored answer was copied out */
	IDEM_NOT_REPLAYABLE, /* answered already, but the answer was not stored (too large, or
			      * the request reached the upstream and its outcome is unknown) */
	IDEM_KEY_REUSED,     /* the key was used with a different method, target, length or body */
	IDEM_FULL,	     /* no slot free in the key's bucket */
	IDEM__N,
	/* not an outcome (not counted): the first's body hash is known, so the repeat must read
	 * its body and call idem_check_body (or idem_unpin) with *slot / *tag */
	IDEM_CHECK_BODY = IDEM__N,
};

/* The identity of a request: its key, who sent it, and what it asked (fingerprint). */
struct idem_id {
	const char *key;
	uint32_t key_len;	       /* 1 .. max_key */
	uint8_t scope_len;	       /* 0 .. IDEM_SCOPE_MAX */
	uint8_t scope[IDEM_SCOPE_MAX]; /* client identity (address, or header hash) */
	uint64_t fp;		       /* method, target and length: idem_hash() */
	uint64_t body_fp; /* body bytes (idem_hash_more, then idem_hash), 0 = unknown */
};

/* How an owner ends its claim (idem_end). */
enum idem_end_kind {
	IDEM_END_RELEASE = 0, /* nothing reached the upstream: forget the key */
	IDEM_END_STORE,	      /* the answer is in the response area: replay it */
	IDEM_END_UNKNOWN,     /* the upstream may have acted but the answer was not kept */
};

struct idem_table;

/* Make a table for <p> (values within the IDEM_MAX_* limits). NULL on ENOMEM/EINVAL. */
struct idem_table *idem_table_new(const struct idem_params *p);
/* Take / drop a reference (config generations that share the table); the last put frees it.
 * Any thread. */
void idem_table_get(struct idem_table *t);
void idem_table_put(struct idem_table *t);
/* 1 when <t> was made with exactly <p> (a reload may keep it). */
int idem_table_same(const struct idem_table *t, const struct idem_params *p);
const struct idem_params *idem_table_params(const struct idem_table *t);

/* Seeded 64-bit hash of <len> bytes of <data>, continuing from <h> (0 to start). */
uint64_t idem_hash(const struct idem_table *t, uint64_t h, const void *data, size_t len);
/* The same hash over a stream fed in pieces, unfinished: the same bytes give the same state
 * however they are split. Start with <h> 0; finish with idem_hash(t, h, NULL, 0). */
uint64_t idem_hash_more(const struct idem_table *t, uint64_t h, const void *data, size_t len);

/*
 * Look up <id> at <now_ms>. On IDEM_CLAIMED, *<slot> and *<tag> name the claim (for
 * idem_resp_area, idem_set_body and idem_end); on IDEM_CHECK_BODY, the pinned entry (for
 * idem_check_body or idem_unpin, one of which must follow). On IDEM_REPLAY, the stored
 * answer is copied to <out> (room for max_response bytes): *<head_len> bytes of head (status
 * line and fields, no final empty line), then *<body_len> bytes of body. Any thread; never
 * blocks beyond the bucket's spinlock.
 */
enum idem_verdict idem_begin(struct idem_table *t, const struct idem_id *id, uint64_t now_ms,
			     uint32_t *slot, uint32_t *tag, char *out, uint32_t *head_len,
			     uint32_t *body_len);
/* The owner of claim <slot>/<tag> read its body whole: repeats compare theirs with <body_fp>
 * (not 0). Returns 0 or -ESTALE. */
int idem_set_body(struct idem_table *t, uint32_t slot, uint32_t tag, uint64_t body_fp);
/*
 * A repeat told IDEM_CHECK_BODY for <slot>/<tag> read its body whole: <body_fp> is its hash
 * (0: it could not be read whole, so it cannot be the first's body). Unpins the entry and
 * returns IDEM_REPLAY (copied out as by idem_begin), IDEM_NOT_REPLAYABLE or IDEM_KEY_REUSED.
 */
enum idem_verdict idem_check_body(struct idem_table *t, uint32_t slot, uint32_t tag,
				  uint64_t body_fp, char *out, uint32_t *head_len,
				  uint32_t *body_len);
/* A repeat told IDEM_CHECK_BODY gives up before its body came (timeout, close). */
void idem_unpin(struct idem_table *t, uint32_t slot, uint32_t tag);
/* The response area of claimed <slot> (max_response bytes): only its owner writes it. */
char *idem_resp_area(struct idem_table *t, uint32_t slot);
/*
 * End the claim <slot>/<tag> at <now_ms>: <kind> says what to keep; for IDEM_END_STORE the
 * area holds <head_len> bytes of head then <body_len> bytes of body. A claim that is not
 * the current one (never happens unless misused) is ignored. Returns 0 or -ESTALE.
 */
int idem_end(struct idem_table *t, uint32_t slot, uint32_t tag, enum idem_end_kind kind,
	     uint64_t now_ms, uint32_t head_len, uint32_t body_len);

/* Counters, relaxed reads (any thread): verdicts of idem_begin and ends by kind. */
struct idem_stats {
	uint64_t verdicts[IDEM__N];
	uint64_t ends[3]; /* by enum idem_end_kind */
	uint64_t entries; /* slots holding a key now (in flight or within their window) */
};
void idem_stats(const struct idem_table *t, struct idem_stats *out);
/* Name of verdict <v> for metrics labels ("claimed", "in_flight", ...). */
const char *idem_verdict_name(enum idem_verdict v);

#endif /* OG_IDEM_H */
