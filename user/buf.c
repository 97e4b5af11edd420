// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Per-worker buffer free lists: pop/push on the hot path, malloc only when a list is empty. */
#include <stdlib.h>

#include "buf.h"

void buf_pool_init(struct og_bufpool *p)
{
	p->free[0] = p->free[1] = NULL;
	p->nfree[0] = p->nfree[1] = 0;
	p->max_free[0] = 4096; /* 16 MiB of small buffers at most kept idle */
	p->max_free[1] = 256;  /* 16 MiB of large ones */
	p->live = 0;
}

void buf_pool_destroy(struct og_bufpool *p)
{
	for (int i = 0; i < 2; i++) {
		while (p->free[i]) {
			struct og_buf *b = p->free[i];
			p->free[i] = b->next;
			free(b);
		}
		p->nfree[i] = 0;
	}
}

struct og_buf *buf_get(struct og_bufpool *p, size_t need)
{
	int cls = need > OG_BUF_SMALL_CAP;
	struct og_buf *b = p->free[cls];

	if (need > OG_BUF_LARGE_CAP)
		return NULL;
	if (b) {
		p->free[cls] = b->next;
		p->nfree[cls]--;
	} else {
		b = malloc(cls ? OG_BUF_LARGE : OG_BUF_SMALL);
		if (!b)
			return NULL;
		b->cap = cls ? OG_BUF_LARGE_CAP : OG_BUF_SMALL_CAP;
		b->cls = cls;
	}
	b->next = NULL;
	p->live++;
	return b;
}

void buf_put(struct og_bufpool *p, struct og_buf *b)
{
	if (!b)
		return;
	p->live--;
	if (p->nfree[b->cls] >= p->max_free[b->cls]) {
		free(b);
		return;
	}
	b->next = p->free[b->cls];
	p->free[b->cls] = b;
	p->nfree[b->cls]++;
}
