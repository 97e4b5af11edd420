// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Per-source token buckets in og_throttle, and the live count og_xdp uses to skip them. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "dp/dp_int.h"

int dp_throttle_set(struct dp_maps *m, const struct og_addr_key *k, __u64 pps, __u64 burst,
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
	return dp_throttle_recount(m, NULL);
}

int dp_throttle_clear(struct dp_maps *m, const struct og_addr_key *k)
{
	struct og_addr_key key = *k;
	int ret = 0;

	memset(key.pad, 0, sizeof(key.pad));
	if (bpf_map_delete_elem(m->fd[DP_MAP_THROTTLE], &key))
		ret = -errno;
	dp_throttle_recount(m, NULL);
	return ret;
}

int dp_throttle_recount(struct dp_maps *m, __u32 *live)
{
	struct og_addr_key k, next, *prev = NULL;
	int fd = m->fd[DP_MAP_THROTTLE], ret;
	__u64 now = dp_now_ns();
	struct og_config c;
	struct og_throttle t;
	__u32 n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &t) == 0 && t.expires_ns > now)
			n++;
	}
	if (live)
		*live = n;
	ret = dp_config_get(m, &c);
	if (ret)
		return ret;
	if (c.throttle_count == n)
		return 0;
	c.throttle_count = n;
	return dp_config_put(m, &c);
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
