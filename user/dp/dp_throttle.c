// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Per-source token buckets in og_throttle, and the live count og_xdp uses to skip them. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "dp/dp_int.h"

int dp_throttle_put(struct dp_maps *m, const struct og_addr_key *k, __u64 pps, __u64 burst,
		    __u64 ttl_ns)
{
	struct og_throttle t = {0};
	struct og_addr_key key = *k;

	if (!pps || pps > OG_TB_MAX_RATE || !burst || burst > OG_TB_MAX_RATE || !ttl_ns)
		return -EINVAL;
	memset(key.pad, 0, sizeof(key.pad));
	t.rate_pps = pps;
	t.burst = burst;
	t.tokens = burst * OG_TB_NS; /* start full: the first <burst> packets pass */
	/* coarse clock, like og_xdp's, so the first refill never sees time run backwards */
	t.last_ns = dp_now_coarse_ns();
	t.expires_ns = dp_now_ns() + ttl_ns;
	if (bpf_map_update_elem(m->fd[DP_MAP_THROTTLE], &key, &t, BPF_ANY))
		return -errno;
	return 0;
}

int dp_throttle_set(struct dp_maps *m, const struct og_addr_key *k, __u64 pps, __u64 burst,
		    __u64 ttl_ns)
{
	int ret = dp_throttle_put(m, k, pps, burst, ttl_ns);

	return ret ? ret : dp_throttle_recount(m, NULL);
}

int dp_throttle_del(struct dp_maps *m, const struct og_addr_key *k)
{
	struct og_addr_key key = *k;

	memset(key.pad, 0, sizeof(key.pad));
	return bpf_map_delete_elem(m->fd[DP_MAP_THROTTLE], &key) ? -errno : 0;
}

int dp_throttle_clear(struct dp_maps *m, const struct og_addr_key *k)
{
	int ret = dp_throttle_del(m, k);

	dp_throttle_recount(m, NULL);
	return ret;
}

static int set_count(struct og_config *c, void *ctx)
{
	__u32 n = *(__u32 *)ctx;

	if (c->throttle_count == n)
		return 0;
	c->throttle_count = n;
	return 1;
}

/* Entries not yet expired; the walk runs under the og_config lock (see dp_cfglock.c), so
 * an entry another writer adds meanwhile is counted by that writer's recount after ours. */
static int count_live(struct og_config *c, void *ctx)
{
	struct dp_maps *m = ((void **)ctx)[0];
	__u32 *live = ((void **)ctx)[1];
	struct og_addr_key k, next, *prev = NULL;
	int fd = m->fd[DP_MAP_THROTTLE];
	__u64 now = dp_now_ns();
	struct og_throttle t;
	__u32 n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &t) == 0 && t.expires_ns > now)
			n++;
	}
	*live = n;
	return set_count(c, &n);
}

int dp_throttle_recount(struct dp_maps *m, __u32 *live)
{
	__u32 n = 0;
	void *ctx[2] = {m, &n};
	int ret;

	ret = dp_config_update(m, count_live, ctx);
	if (live)
		*live = n;
	return ret;
}

int dp_throttle_foreach(struct dp_maps *m,
			int (*cb)(const struct og_addr_key *k, const struct og_throttle *t,
				  void *ctx),
			void *ctx)
{
	struct og_addr_key k, next, *prev = NULL;
	int fd = m->fd[DP_MAP_THROTTLE], ret;
	struct og_throttle t;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &t))
			continue;
		ret = cb(&k, &t, ctx);
		if (ret)
			return ret;
	}
	return 0;
}
