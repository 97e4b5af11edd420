// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Read og_flows (through its shared mapping) and og_lane_stats (summing its per-CPU copies). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "dp/dp_int.h"

#define LANE_STRIDE ((sizeof(struct og_lane_stats) + 7) & ~7UL)

typedef int (*flow_cb)(const struct og_flow_key *k, const struct og_flow_stats *s, void *ctx);

/*
 * Copies the flow in way <w> of set <i> into <k>/<v>, if it holds one. The
 * directory word is read before and after the copy (acquire): og_xdp replaces it
 * before it rewrites a way, so an unchanged odd tag means the copy is whole.
 */
static bool way_copy(struct dp_maps *m, __u32 i, int w, struct og_flow_key *k,
		     struct og_flow_stats *v)
{
	const __u32 *wp = &m->flow_dir[i].w[w];
	const struct og_flow_way *way = &m->flows[(size_t)i * OG_FLOW_WAYS + w];
	__u32 t = __atomic_load_n(wp, __ATOMIC_ACQUIRE) & OG_FLOW_TAG_MASK;

	if (!(t & 1))
		return false;
	memcpy(k, &way->key, sizeof(*k));
	memcpy(v, &way->s, sizeof(*v));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return (__atomic_load_n(wp, __ATOMIC_RELAXED) & OG_FLOW_TAG_MASK) == t;
}

int dp_flows_foreach(struct dp_maps *m, flow_cb cb, void *ctx)
{
	struct og_flow_key k[OG_FLOW_WAYS];
	struct og_flow_stats v[OG_FLOW_WAYS];
	bool ok[OG_FLOW_WAYS];
	__u32 i;
	int w, o, ret;

	if (!m->flows || !m->flow_dir)
		return -EBADF;
	for (i = 0; i < m->flow_sets; i++) {
		for (w = 0; w < OG_FLOW_WAYS; w++)
			ok[w] = way_copy(m, i, w, &k[w], &v[w]);
		for (w = 0; w < OG_FLOW_WAYS; w++) {
			if (!ok[w])
				continue;
			/* Two CPUs admitting one flow at once can leave it in two ways of
			 * its set; report the one og_xdp updates (the first, see flows.h). */
			for (o = 0; o < w; o++)
				if (ok[o] && og_key_eq(&k[o], &k[w]))
					break;
			if (o < w)
				continue;
			ret = cb(&k[w], &v[w], ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int dp_flows_count(struct dp_maps *m, __u64 *n)
{
	__u32 i;
	int w;

	*n = 0;
	if (!m->flow_dir)
		return -EBADF;
	for (i = 0; i < m->flow_sets; i++)
		for (w = 0; w < OG_FLOW_WAYS; w++)
			*n += __atomic_load_n(&m->flow_dir[i].w[w], __ATOMIC_RELAXED) & 1;
	return 0;
}

int dp_lane_stats_read(struct dp_maps *m, struct og_lane_stats out[OG_LANE_MAX])
{
	int fd = m->fd[DP_MAP_LANE_STATS];
	__u32 lane;
	char *buf;
	int c;

	memset(out, 0, sizeof(out[0]) * OG_LANE_MAX);
	if (fd < 0)
		return -EBADF;
	buf = calloc(m->ncpus, LANE_STRIDE);
	if (!buf)
		return -ENOMEM;
	for (lane = 0; lane < OG_LANE_MAX; lane++) {
		if (bpf_map_lookup_elem(fd, &lane, buf)) {
			int ret = -errno;

			free(buf);
			return ret;
		}
		for (c = 0; c < m->ncpus; c++) {
			const __u64 *s = (const __u64 *)(buf + c * LANE_STRIDE);
			__u64 *d = (__u64 *)&out[lane];
			size_t f;

			/* every field is a __u64 counter */
			for (f = 0; f < sizeof(out[0]) / sizeof(__u64); f++)
				d[f] += s[f];
		}
	}
	free(buf);
	return 0;
}
