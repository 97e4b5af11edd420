// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Pin or unpin one flow's lane without touching any other flow's cached lane. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "dp/dp_int.h"

#define FLOW_STRIDE ((sizeof(struct og_flow_stats) + 7) & ~7UL)

/*
 * og_xdp caches a flow's lane in its og_flows value with the rules_gen it was resolved
 * at. Bumping rules_gen (what dp_flow_pin_set does) sends every flow of the box back
 * through the rule lookups; a pin concerns one flow, so only its own cached copies are
 * marked stale: gen 0, which no rules_gen ever equals. og_tc_out asks og_flow_lane
 * first and needs no invalidation; og_xdp re-resolves this flow on its next packet.
 * The read-modify-write of the per-CPU value can lose the increments of packets that
 * arrive in the microseconds between the two calls: a few counts, never a verdict.
 */
static int flow_invalidate(struct dp_maps *m, const struct og_flow_key *k)
{
	int fd = m->fd[DP_MAP_FLOWS], c, ret = 0, any = 0;
	char *v;

	if (fd < 0)
		return 0;
	v = calloc(m->ncpus, FLOW_STRIDE);
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, k, v))
		goto out; /* not seen yet: it resolves the pin on its first packet */
	for (c = 0; c < m->ncpus; c++) {
		struct og_flow_stats *s = (void *)(v + (size_t)c * FLOW_STRIDE);

		if (s->gen) {
			s->gen = 0;
			any = 1;
		}
	}
	if (any && bpf_map_update_elem(fd, k, v, BPF_EXIST) && errno != ENOENT)
		ret = -errno;
out:
	free(v);
	return ret;
}

int dp_flow_pin(struct dp_maps *m, const struct og_flow_key *k, unsigned int lane)
{
	struct og_flow_pin v = {.lane = lane, .pinned_ns = dp_now_ns()};

	if (lane == OG_LANE_NONE || lane >= OG_LANE_MAX)
		return -EINVAL;
	if (bpf_map_update_elem(m->fd[DP_MAP_FLOW_LANE], k, &v, BPF_ANY))
		return -errno;
	return flow_invalidate(m, k);
}

int dp_flow_unpin(struct dp_maps *m, const struct og_flow_key *k)
{
	if (bpf_map_delete_elem(m->fd[DP_MAP_FLOW_LANE], k))
		return -errno;
	return flow_invalidate(m, k);
}
