/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A bounded lock-free multi-producer, single-consumer queue of fixed-size kernel requests. */
#ifndef OG_KQ_H
#define OG_KQ_H

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include <ordergate/og_shared.h>

/*
 * Dmitry Vyukov's bounded queue: each cell carries a sequence number that says whose
 * turn it is, so a producer claims a cell with one compare-and-swap on the head and
 * publishes it with one release store; nobody waits for anybody. A full queue refuses
 * (-EAGAIN) instead of blocking. Producers: any thread; consumer: the writer thread.
 */

enum kq_op {
	KQ_PIN = 1,
	KQ_UNPIN,
	KQ_THROTTLE,
	KQ_UNTHROTTLE,
};

struct kq_req {
	uint8_t op; /* enum kq_op */
	uint8_t lane;
	uint8_t pad[6];
	union {
		struct og_flow_key flow; /* KQ_PIN, KQ_UNPIN */
		struct {
			struct og_addr_key src;
			uint32_t pad;
			uint64_t pps, burst, ttl_ms;
		} th; /* KQ_THROTTLE, KQ_UNTHROTTLE */
	};
};

struct kq_cell {
	_Atomic size_t seq;
	struct kq_req req;
};

struct kq {
	struct kq_cell *cells;
	size_t mask;
	_Alignas(64) _Atomic size_t head; /* producers */
	_Alignas(64) size_t tail;	  /* consumer only */
};

/* <cap> is rounded up to a power of two. Returns 0 or -ENOMEM. */
static inline int kq_init(struct kq *q, size_t cap)
{
	size_t n = 2, i;

	while (n < cap)
		n <<= 1;
	q->cells = calloc(n, sizeof(*q->cells));
	if (!q->cells)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		atomic_init(&q->cells[i].seq, i);
	q->mask = n - 1;
	atomic_init(&q->head, 0);
	q->tail = 0;
	return 0;
}

static inline void kq_free(struct kq *q)
{
	free(q->cells);
	q->cells = NULL;
}

/* Any thread. 0, or -EAGAIN when the queue is full. */
static inline int kq_push(struct kq *q, const struct kq_req *r)
{
	size_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
	struct kq_cell *c;

	for (;;) {
		c = &q->cells[pos & q->mask];
		size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		intptr_t dif = (intptr_t)seq - (intptr_t)pos;

		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
		} else if (dif < 0) {
			return -EAGAIN;
		} else {
			pos = atomic_load_explicit(&q->head, memory_order_relaxed);
		}
	}
	memcpy(&c->req, r, sizeof(*r));
	atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
	return 0;
}

/* Consumer thread only: 1 when kq_pop would return a request. */
static inline int kq_ready(struct kq *q)
{
	struct kq_cell *c = &q->cells[q->tail & q->mask];

	return atomic_load_explicit(&c->seq, memory_order_acquire) == q->tail + 1;
}

/* Consumer thread only. 1 with <r> filled, 0 when empty (or the next cell is not
 * published yet). */
static inline int kq_pop(struct kq *q, struct kq_req *r)
{
	struct kq_cell *c = &q->cells[q->tail & q->mask];
	size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);

	if ((intptr_t)seq - (intptr_t)(q->tail + 1) < 0)
		return 0;
	memcpy(r, &c->req, sizeof(*r));
	atomic_store_explicit(&c->seq, q->tail + q->mask + 1, memory_order_release);
	q->tail++;
	return 1;
}

#endif /* OG_KQ_H */
