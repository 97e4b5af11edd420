// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Idempotency-Key table: claim, replay, 409 states, window, scopes, bounds, and many threads. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/og_test.h"
#include "lanes/idem.h"

static char out[IDEM_MAX_RESPONSE];

static struct idem_id mk(const char *key, const char *scope, uint64_t fp)
{
	struct idem_id id = {.key = key, .key_len = (uint32_t)strlen(key), .fp = fp};

	id.scope_len = (uint8_t)strlen(scope);
	memcpy(id.scope, scope, id.scope_len);
	return id;
}

static enum idem_verdict begin(struct idem_table *t, struct idem_id id, uint64_t now,
			       uint32_t *slot, uint32_t *tag)
{
	uint32_t s = 0, g = 0, hl = 0, bl = 0;
	enum idem_verdict v =
	    idem_begin(t, &id, now, slot ? slot : &s, tag ? tag : &g, out, &hl, &bl);

	if (v == IDEM_REPLAY)
		out[hl + bl] = 0;
	return v;
}

/* Claim <key>, store "H" + <body> as its answer, at <now>. */
static void store(struct idem_table *t, struct idem_id id, uint64_t now, const char *body)
{
	uint32_t slot, tag;
	char *a;

	if (begin(t, id, now, &slot, &tag) != IDEM_CLAIMED) {
		OK(0, "claim %.*s for storing", (int)id.key_len, id.key);
		return;
	}
	a = idem_resp_area(t, slot);
	a[0] = 'H';
	memcpy(a + 1, body, strlen(body));
	idem_end(t, slot, tag, IDEM_END_STORE, now, 1, (uint32_t)strlen(body));
}

static void test_basics(void)
{
	struct idem_params p = {
	    .window_ms = 1000, .max_entries = 64, .max_key = 32, .max_response = 64};
	struct idem_table *t = idem_table_new(&p);
	struct idem_stats st;
	uint32_t slot, tag;
	uint64_t now = 5000;

	OK(t != NULL, "a table is made");
	if (!t)
		return;
	OK_EQ(begin(t, mk("k1", "A", 1), now, &slot, &tag), IDEM_CLAIMED, "first k1: claimed");
	OK_EQ(begin(t, mk("k1", "A", 1), now, NULL, NULL), IDEM_IN_FLIGHT,
	      "k1 again while the first is in flight: in flight");
	OK_EQ(begin(t, mk("k1", "B", 1), now, NULL, NULL), IDEM_CLAIMED,
	      "k1 from another client (scope B): its own claim, never A's answer");
	OK_EQ(begin(t, mk("k2", "A", 1), now, NULL, NULL), IDEM_CLAIMED, "another key: claimed");
	memcpy(idem_resp_area(t, slot), "HTTP/1.1 201 Created\r\nbody!", 27);
	OK_EQ(idem_end(t, slot, tag, IDEM_END_STORE, now, 22, 5), 0, "k1 answer stored");
	OK_EQ(idem_end(t, slot, tag, IDEM_END_STORE, now, 22, 5), -ESTALE,
	      "the same claim cannot end twice");
	OK_EQ(begin(t, mk("k1", "A", 1), now + 10, NULL, NULL), IDEM_REPLAY, "k1 again: replay");
	OK(!strcmp(out, "HTTP/1.1 201 Created\r\nbody!"), "... the stored head and body");
	OK_EQ(begin(t, mk("k1", "A", 2), now + 10, NULL, NULL), IDEM_KEY_REUSED,
	      "k1 with another fingerprint: key reused");
	OK_EQ(begin(t, mk("k1", "A", 1), now + 999, NULL, NULL), IDEM_REPLAY,
	      "still replayed 1 ms before the window ends");
	OK_EQ(begin(t, mk("k1", "A", 1), now + 1000, &slot, &tag), IDEM_CLAIMED,
	      "the window is over: the key goes through again");
	OK_EQ(idem_end(t, slot, tag, IDEM_END_RELEASE, now + 1000, 0, 0), 0, "released");
	OK_EQ(begin(t, mk("k1", "A", 1), now + 1001, &slot, &tag), IDEM_CLAIMED,
	      "a released key (nothing reached the upstream) is claimed again at once");
	OK_EQ(idem_end(t, slot, tag, IDEM_END_UNKNOWN, now + 1001, 0, 0), 0, "ended unknown");
	OK_EQ(begin(t, mk("k1", "A", 1), now + 1002, NULL, NULL), IDEM_NOT_REPLAYABLE,
	      "outcome unknown: not replayable, and not let through");
	OK_EQ(begin(t, mk("k3", "A", 1), now, &slot, &tag), IDEM_CLAIMED, "k3 claimed");
	OK_EQ(idem_end(t, slot, tag, IDEM_END_STORE, now, 40, 40), 0, "k3 ends with 80 bytes");
	OK_EQ(begin(t, mk("k3", "A", 1), now, NULL, NULL), IDEM_NOT_REPLAYABLE,
	      "an answer over max_response (80 > 64) is not replayable");
	idem_stats(t, &st);
	OK(st.verdicts[IDEM_CLAIMED] == 6 && st.verdicts[IDEM_REPLAY] == 2 &&
	       st.verdicts[IDEM_IN_FLIGHT] == 1 && st.ends[IDEM_END_RELEASE] == 1,
	   "counters: 6 claimed, 2 replayed, 1 in flight, 1 released");
	OK_EQ(st.entries, 4, "4 entries held (k1 A, k1 B, k2, k3)");
	idem_table_put(t);
}

/* Begin with no body hash (the repeat has only its head), at <now>. */
static enum idem_verdict begin_head(struct idem_table *t, const char *key, uint64_t now,
				    uint32_t *slot, uint32_t *tag)
{
	return begin(t, mk(key, "A", 7), now, slot, tag);
}

static enum idem_verdict check(struct idem_table *t, uint32_t slot, uint32_t tag, uint64_t h)
{
	uint32_t hl = 0, bl = 0;
	enum idem_verdict v = idem_check_body(t, slot, tag, h, out, &hl, &bl);

	if (v == IDEM_REPLAY)
		out[hl + bl] = 0;
	return v;
}

static void test_body(void)
{
	struct idem_params p = {
	    .window_ms = 1000, .max_entries = 64, .max_key = 32, .max_response = 64};
	struct idem_table *t = idem_table_new(&p);
	uint64_t now = 5000, h1, h2, h;
	uint32_t slot, tag, s2, g2;
	struct idem_stats st;

	OK(t != NULL, "a table is made");
	if (!t)
		return;
	/* the hash over pieces is the hash of the whole, and tells bodies of one length apart */
	h1 = idem_hash(t, 0, "qty=100", 7);
	h = idem_hash_more(t, idem_hash_more(t, 0, "qt", 2), "y=100", 5);
	OK_EQ(idem_hash(t, h, NULL, 0), h1, "a body hashed in two pieces = hashed whole");
	h2 = idem_hash(t, 0, "qty=900", 7);
	OK(h1 != h2, "qty=100 and qty=900 (same length) hash apart");

	/* the first records its body; a repeat's head alone is not enough to answer */
	OK_EQ(begin_head(t, "b1", now, &slot, &tag), IDEM_CLAIMED, "b1 claimed");
	OK_EQ(idem_set_body(t, slot, tag, h1), 0, "its body hash recorded while in flight");
	OK_EQ(idem_set_body(t, slot, tag + 1, h1), -ESTALE, "not on another claim's tag");
	OK_EQ(begin_head(t, "b1", now, NULL, NULL), IDEM_IN_FLIGHT,
	      "a repeat while the first is in flight: still 409, body or not");
	memcpy(idem_resp_area(t, slot), "HTTP/1.1 201 Created\r\nid=1", 26);
	OK_EQ(idem_end(t, slot, tag, IDEM_END_STORE, now, 22, 4), 0, "b1 answer stored");
	OK_EQ(begin_head(t, "b1", now + 1, &s2, &g2), IDEM_CHECK_BODY,
	      "a repeat's head: read its body first (check body)");
	OK_EQ(check(t, s2, g2, h1), IDEM_REPLAY, "... same body: replay");
	OK(!strcmp(out, "HTTP/1.1 201 Created\r\nid=1"), "... of the stored answer");
	OK_EQ(begin_head(t, "b1", now + 2, &s2, &g2), IDEM_CHECK_BODY, "another repeat");
	OK_EQ(check(t, s2, g2, h2), IDEM_KEY_REUSED,
	      "... with a different body of the same length: key reused, never a replay");
	OK_EQ(begin_head(t, "b1", now + 3, &s2, &g2), IDEM_CHECK_BODY, "another repeat");
	OK_EQ(check(t, s2, g2, 0), IDEM_KEY_REUSED,
	      "... whose body could not be read whole: key reused");
	OK_EQ(begin(t, mk("b1", "A", 8), now + 4, NULL, NULL), IDEM_KEY_REUSED,
	      "another method/target/length is refused at the head, as before");
	{
		struct idem_id id = mk("b1", "A", 7);

		id.body_fp = h1;
		OK_EQ(begin(t, id, now + 5, NULL, NULL), IDEM_REPLAY,
		      "a lookup that brings its body hash is answered at once");
		id.body_fp = h2;
		OK_EQ(begin(t, id, now + 5, NULL, NULL), IDEM_KEY_REUSED, "... or refused");
	}

	/* a pinned entry outlives its window until the repeat has compared */
	OK_EQ(begin_head(t, "b1", now + 999, &s2, &g2), IDEM_CHECK_BODY,
	      "a repeat 1 ms before the window ends pins the entry");
	OK_EQ(begin_head(t, "b1", now + 1500, &slot, &tag), IDEM_CHECK_BODY,
	      "past the window, the pinned entry is not reclaimed");
	OK_EQ(check(t, s2, g2, h1), IDEM_REPLAY, "the first repeat's body matches: replay");
	idem_unpin(t, slot, tag);
	idem_unpin(t, slot, tag); /* a second unpin of one pin must not underflow */
	OK_EQ(begin_head(t, "b1", now + 1500, &slot, &tag), IDEM_CLAIMED,
	      "unpinned past its window: the key goes through again");
	OK_EQ(idem_end(t, slot, tag, IDEM_END_RELEASE, now + 1500, 0, 0), 0, "released");

	/* without a body hash (the body streamed) the head decides, as before */
	OK_EQ(begin_head(t, "b2", now, &slot, &tag), IDEM_CLAIMED, "b2 claimed, body not hashed");
	memcpy(idem_resp_area(t, slot), "H", 1);
	idem_end(t, slot, tag, IDEM_END_STORE, now, 1, 0);
	OK_EQ(begin_head(t, "b2", now + 1, NULL, NULL), IDEM_REPLAY,
	      "its repeat is replayed on method, target and length");

	/* not replayable stays not replayable, unless the body differs */
	OK_EQ(begin_head(t, "b3", now, &slot, &tag), IDEM_CLAIMED, "b3 claimed");
	idem_set_body(t, slot, tag, h1);
	idem_end(t, slot, tag, IDEM_END_UNKNOWN, now, 0, 0);
	OK_EQ(begin_head(t, "b3", now + 1, &s2, &g2), IDEM_CHECK_BODY, "b3 repeat: check body");
	OK_EQ(check(t, s2, g2, h1), IDEM_NOT_REPLAYABLE, "... same body: 409 not replayable");
	OK_EQ(begin_head(t, "b3", now + 1, &s2, &g2), IDEM_CHECK_BODY, "b3 repeat again");
	OK_EQ(check(t, s2, g2, h2), IDEM_KEY_REUSED, "... another body: key reused");
	OK_EQ(check(t, s2, g2, h1), IDEM_KEY_REUSED, "a check without a pin is refused");

	idem_stats(t, &st);
	OK(st.verdicts[IDEM_REPLAY] == 4 && st.verdicts[IDEM_KEY_REUSED] == 6 &&
	       st.verdicts[IDEM_NOT_REPLAYABLE] == 1,
	   "counters: outcomes counted once each (4 replayed, 6 key reused, 1 not replayable; "
	   "got %llu %llu %llu)",
	   (unsigned long long)st.verdicts[IDEM_REPLAY],
	   (unsigned long long)st.verdicts[IDEM_KEY_REUSED],
	   (unsigned long long)st.verdicts[IDEM_NOT_REPLAYABLE]);
	idem_table_put(t);
}

static void test_bounds(void)
{
	struct idem_params p = {
	    .window_ms = 100, .max_entries = 5, .max_key = 8, .max_response = 16};
	struct idem_table *t = idem_table_new(&p);
	struct idem_params bad = p;
	char key[16];
	int claimed = 0, full = 0;

	OK(t != NULL, "a one-bucket table is made");
	if (!t)
		return;
	OK_EQ(begin(t, mk("123456789", "A", 1), 0, NULL, NULL), IDEM_FULL,
	      "a key longer than max_key is refused (the caller answers 400 first)");
	for (int i = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		enum idem_verdict v = begin(t, mk(key, "A", 1), 10, NULL, NULL);

		claimed += v == IDEM_CLAIMED;
		full += v == IDEM_FULL;
	}
	OK(claimed == IDEM_WAYS && full == 12 - IDEM_WAYS,
	   "8 ways in flight: %d claimed, the rest refused as full (%d): live keys are never "
	   "evicted",
	   claimed, full);
	for (int i = 0; i < IDEM_WAYS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		OK(begin(t, mk(key, "A", 1), 10, NULL, NULL) == IDEM_IN_FLIGHT,
		   "k%d still in flight", i);
	}
	bad.max_key = IDEM_MAX_KEY + 1;
	OK(idem_table_new(&bad) == NULL, "max_key over %d is refused", IDEM_MAX_KEY);
	bad = p;
	bad.max_response = IDEM_MAX_RESPONSE + 1;
	OK(idem_table_new(&bad) == NULL, "max_response over %d is refused", IDEM_MAX_RESPONSE);
	idem_table_put(t);

	/* two bucket choices and 1.5 x slots: a table takes max_entries distinct keys (here 20
	 * tables of 4096, to see a rare refusal) */
	bad = p;
	bad.max_entries = 4096;
	full = 0;
	for (int k = 0; k < 20; k++) {
		t = idem_table_new(&bad);
		for (int i = 0; i < 4096; i++) {
			snprintf(key, sizeof(key), "f%d", i);
			full += begin(t, mk(key, "A", 1), 10, NULL, NULL) != IDEM_CLAIMED;
		}
		idem_table_put(t);
	}
	OK_EQ(full, 0, "20 tables filled with max_entries (4096) keys each: none refused");

	/* finished entries free their slot once their window is over */
	t = idem_table_new(&p);
	for (int i = 0; i < IDEM_WAYS; i++) {
		snprintf(key, sizeof(key), "d%d", i);
		store(t, mk(key, "A", 1), 0, "x");
	}
	OK_EQ(begin(t, mk("new", "A", 1), 50, NULL, NULL), IDEM_FULL,
	      "a bucket of answers within their window is full");
	OK_EQ(begin(t, mk("new", "A", 1), 100, NULL, NULL), IDEM_CLAIMED,
	      "after the window their slots are reused");
	idem_table_put(t);
}

/* Threads race on the same keys: exactly one claim per key and round, the rest see the claim
 * (in flight) or its answer (replay), and each replay carries that key's own answer. */
#define N_THREADS 4
#define N_KEYS	  256
#define N_ROUNDS  40

static struct idem_table *ct;
static _Atomic int claims[N_ROUNDS][N_KEYS];
static _Atomic int bad_replays, other_verdicts;
static pthread_barrier_t bar;

static void *racer(void *arg)
{
	char key[32], want[64], buf[IDEM_MAX_RESPONSE];
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int r = 0; r < N_ROUNDS; r++) {
		pthread_barrier_wait(&bar);
		for (int i = 0; i < N_KEYS; i++) {
			int k = (i + (int)(seed * 97)) % N_KEYS; /* each thread starts elsewhere */
			struct idem_id id;
			uint32_t slot, tag, hl, bl;
			enum idem_verdict v;

			snprintf(key, sizeof(key), "r%d-k%d", r, k);
			id = mk(key, "S", 7);
			v = idem_begin(ct, &id, 1000 + (uint64_t)r, &slot, &tag, buf, &hl, &bl);
			snprintf(want, sizeof(want), "answer of %s", key);
			if (v == IDEM_CLAIMED) {
				atomic_fetch_add(&claims[r][k], 1);
				memcpy(idem_resp_area(ct, slot), want, strlen(want));
				idem_end(ct, slot, tag, IDEM_END_STORE, 1000 + (uint64_t)r, 0,
					 (uint32_t)strlen(want));
			} else if (v == IDEM_REPLAY) {
				if (hl != 0 || bl != strlen(want) || memcmp(buf, want, bl))
					atomic_fetch_add(&bad_replays, 1);
			} else if (v != IDEM_IN_FLIGHT) {
				atomic_fetch_add(&other_verdicts, 1);
			}
		}
	}
	return NULL;
}

static void test_threads(void)
{
	struct idem_params p = {.window_ms = 60000,
				.max_entries = 2 * N_KEYS * N_ROUNDS,
				.max_key = 32,
				.max_response = 64};
	pthread_t th[N_THREADS];
	int once = 0, never = 0, twice = 0;
	struct idem_stats st;

	ct = idem_table_new(&p);
	OK(ct != NULL, "table for %d threads", N_THREADS);
	if (!ct)
		return;
	pthread_barrier_init(&bar, NULL, N_THREADS);
	for (int i = 0; i < N_THREADS; i++)
		pthread_create(&th[i], NULL, racer, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	for (int r = 0; r < N_ROUNDS; r++)
		for (int k = 0; k < N_KEYS; k++) {
			int n = atomic_load(&claims[r][k]);

			once += n == 1;
			never += n == 0;
			twice += n > 1;
		}
	OK(once == N_ROUNDS * N_KEYS && !never && !twice,
	   "%d threads x %d keys x %d rounds: every key claimed exactly once (%d once, %d never, "
	   "%d more than once)",
	   N_THREADS, N_KEYS, N_ROUNDS, once, never, twice);
	OK_EQ(atomic_load(&bad_replays), 0, "every replay carried its own key's answer");
	OK_EQ(atomic_load(&other_verdicts), 0, "no other verdict (full, reused) under the race");
	idem_stats(ct, &st);
	OK_EQ(st.verdicts[IDEM_CLAIMED] + st.verdicts[IDEM_REPLAY] + st.verdicts[IDEM_IN_FLIGHT],
	      (uint64_t)N_THREADS * N_KEYS * N_ROUNDS, "counters add up to every lookup");
	og_diag("race: %llu replays, %llu saw the claim in flight",
		(unsigned long long)st.verdicts[IDEM_REPLAY],
		(unsigned long long)st.verdicts[IDEM_IN_FLIGHT]);
	idem_table_put(ct);
}

/* Many threads repeat one key past its window, half with the first's body, half with
 * another: pins and reclaims race, and no thread may get the other body's verdict. */
static _Atomic uint64_t pin_now;
static _Atomic int pin_wrong, pin_claims;
static uint64_t pin_h[2];

static void *pinner(void *arg)
{
	int odd = (int)(uintptr_t)arg & 1;
	char buf[IDEM_MAX_RESPONSE];

	pthread_barrier_wait(&bar);
	for (int i = 0; i < 20000; i++) {
		uint64_t now = atomic_fetch_add(&pin_now, 1) / 64; /* the clock moves on */
		struct idem_id id = mk("p", "S", 7);
		uint32_t slot, tag, hl, bl;
		enum idem_verdict v = idem_begin(ct, &id, now, &slot, &tag, buf, &hl, &bl);

		if (v == IDEM_CHECK_BODY) {
			v = idem_check_body(ct, slot, tag, pin_h[odd], buf, &hl, &bl);
			if (v != (odd ? IDEM_KEY_REUSED : IDEM_REPLAY) ||
			    (v == IDEM_REPLAY && (bl != 2 || memcmp(buf, "ok", 2))))
				atomic_fetch_add(&pin_wrong, 1);
		} else if (v == IDEM_CLAIMED) {
			/* the window ended with no pin held: a new first request */
			atomic_fetch_add(&pin_claims, 1);
			idem_set_body(ct, slot, tag, pin_h[0]);
			memcpy(idem_resp_area(ct, slot), "ok", 2);
			idem_end(ct, slot, tag, IDEM_END_STORE, now, 0, 2);
		} else if (v != IDEM_IN_FLIGHT) {
			atomic_fetch_add(&pin_wrong, 1);
		}
	}
	return NULL;
}

static void test_pin_race(void)
{
	struct idem_params p = {.window_ms = 20, .max_entries = 8, .max_key = 8, .max_response = 8};
	pthread_t th[N_THREADS];
	uint32_t slot, tag;
	struct idem_stats st;

	ct = idem_table_new(&p);
	if (!ct) {
		OK(0, "table for the pin race");
		return;
	}
	pin_h[0] = idem_hash(ct, 0, "qty=100", 7);
	pin_h[1] = idem_hash(ct, 0, "qty=900", 7);
	pthread_barrier_init(&bar, NULL, N_THREADS);
	for (int i = 0; i < N_THREADS; i++)
		pthread_create(&th[i], NULL, pinner, (void *)(uintptr_t)i);
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	OK(atomic_load(&pin_wrong) == 0,
	   "%d threads x 20000 repeats, pins racing reclaims: every verdict is its body's (%d not)",
	   N_THREADS, atomic_load(&pin_wrong));
	OK(atomic_load(&pin_claims) >= 1, "the key was claimed again after windows (%d claims)",
	   atomic_load(&pin_claims));
	OK_EQ(begin(ct, mk("p", "S", 7), 1u << 30, &slot, &tag), IDEM_CLAIMED,
	      "no pin is left: long after, the key goes through");
	idem_end(ct, slot, tag, IDEM_END_RELEASE, 1u << 30, 0, 0);
	idem_stats(ct, &st);
	OK_EQ(st.entries, 0, "and the table is empty");
	idem_table_put(ct);
}

static void test_refs(void)
{
	struct idem_params p = {
	    .window_ms = 10, .max_entries = 10, .max_key = 8, .max_response = 8};
	struct idem_table *t = idem_table_new(&p);

	OK(t && idem_table_same(t, &p), "idem_table_same for the same sizes");
	p.window_ms = 11;
	OK(t && !idem_table_same(t, &p), "... and not for another window");
	idem_table_get(t);
	idem_table_put(t);
	store(t, mk("a", "", 1), 0, "ok");
	OK_EQ(begin(t, mk("a", "", 1), 1, NULL, NULL), IDEM_REPLAY,
	      "a table with one reference dropped of two still works");
	idem_table_put(t); /* the last reference: ASan/valgrind would flag a leak otherwise */
}

int main(void)
{
	test_basics();
	test_body();
	test_bounds();
	test_threads();
	test_pin_race();
	test_refs();
	return og_done();
}
