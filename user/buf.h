/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-worker free lists of I/O buffers in two size classes, so requests never malloc. */
#ifndef OG_BUF_H
#define OG_BUF_H

#include <stddef.h>
#include <stdint.h>

#define OG_BUF_SMALL 4096  /* bytes per small buffer, header included (one page) */
#define OG_BUF_LARGE 65536 /* bytes per large buffer: a whole 41 KiB head, or body relay */

struct og_buf {
	struct og_buf *next; /* free-list link */
	uint32_t cap;	     /* usable bytes in data[] */
	uint32_t cls;	     /* 0 small, 1 large */
	char data[];
};

/* One per worker; only its worker touches it (no locks). */
struct og_bufpool {
	struct og_buf *free[2];
	uint32_t nfree[2];
	uint32_t max_free[2]; /* beyond this, returned buffers are freed (bounds idle memory) */
	uint64_t live;	      /* buffers handed out and not returned */
};

/* Set up an empty pool. */
void buf_pool_init(struct og_bufpool *p);
/* Free every pooled buffer (worker exit). Buffers still handed out are not touched. */
void buf_pool_destroy(struct og_bufpool *p);
/* A buffer with at least <need> bytes (<= large capacity), or NULL when malloc fails. */
struct og_buf *buf_get(struct og_bufpool *p, size_t need);
/* Return <b> (NULL is fine) to its pool. */
void buf_put(struct og_bufpool *p, struct og_buf *b);

#define OG_BUF_SMALL_CAP (OG_BUF_SMALL - (uint32_t)sizeof(struct og_buf))
#define OG_BUF_LARGE_CAP (OG_BUF_LARGE - (uint32_t)sizeof(struct og_buf))

#endif /* OG_BUF_H */
