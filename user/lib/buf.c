// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Per-worker buffer free stacks: pop/push on the hot path, malloc only when one is empty. */
#include <stdlib.h>

#include "lib/buf.h"

static struct og_buf **stack(struct og_bufpool *p, int cls)
{
	return cls ? p->large : p->small;
}

void buf_pool_init(struct og_bufpool *p)
{
	p->nfree[0] = p->nfree[1] = 0;
	p->live = 0;
}

void buf_pool_destroy(struct og_bufpool *p)
{
	for (int i = 0; i < 2; i++)
		while (p->nfree[i])
			free(stack(p, i)[--p->nfree[i]]);
}

struct og_buf *buf_get(struct og_bufpool *p, size_t need)
{
	int cls = need > OG_BUF_SMALL_CAP;
	struct og_buf *b;

	if (need > OG_BUF_LARGE_CAP)
		return NULL;
	if (p->nfree[cls]) {
		b = stack(p, cls)[--p->nfree[cls]];
	} else {
		b = malloc(cls ? OG_BUF_LARGE : OG_BUF_SMALL);
		if (!b)
			return NULL;
		b->cap = cls ? OG_BUF_LARGE_CAP : OG_BUF_SMALL_CAP;
		b->cls = cls;
	}
	p->live++;
	return b;
}

void buf_put(struct og_bufpool *p, struct og_buf *b)
{
	uint32_t cls;

	if (!b)
		return;
	cls = b->cls;
	p->live--;
	if (p->nfree[cls] >= (cls ? OG_BUF_MAX_FREE_LARGE : OG_BUF_MAX_FREE_SMALL)) {
		free(b);
		return;
	}
	stack(p, cls)[p->nfree[cls]++] = b;
}
