/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-worker free lists of I/O buffers in two size classes, so requests never malloc. */
#ifndef OG_BUF_H
#define OG_BUF_H

#include <stddef.h>
#include <stdint.h>

#define OG_BUF_SMALL 4096  /* bytes per small buffer, header included (one page) */
#define OG_BUF_LARGE 65536 /* bytes per large buffer: a whole 41 KiB head, or body relay */

struct og_buf {
	uint64_t pad; /* keeps data[] 16-byte aligned (and the capacities as they were) */
	uint32_t cap; /* usable bytes in data[] */
	uint32_t cls; /* 0 small, 1 large */
	char data[];
};

#define OG_BUF_MAX_FREE_SMALL 4096 /* 16 MiB of small buffers at most kept idle */
#define OG_BUF_MAX_FREE_LARGE 256  /* 16 MiB of large ones */

/*
 * One per worker; only its worker touches it (no locks). Free buffers are kept as
 * stacks of pointers, not as a list linked through the buffers: a pop then reads one
 * hot array slot instead of the link in a buffer that may have left the cache (perf
 * showed that load as most of buf_get on the proxied path).
 */
struct og_bufpool {
	struct og_buf *small[OG_BUF_MAX_FREE_SMALL];
	struct og_buf *large[OG_BUF_MAX_FREE_LARGE];
	uint32_t nfree[2];
	uint64_t live; /* buffers handed out and not returned */
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
