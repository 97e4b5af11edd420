// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Read og_flows and og_lane_stats, summing their per-CPU copies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "dp/dp_int.h"

#define FLOW_STRIDE ((sizeof(struct og_flow_stats) + 7) & ~7UL)
#define LANE_STRIDE ((sizeof(struct og_lane_stats) + 7) & ~7UL)
#define BATCH_MIN   256
#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal errno some bpf paths leak */
#endif
#define BATCH_MAX 65536

/* Sum the <ncpus> copies at <v> into <out> (see dp_flows_foreach for the rules). */
static void flow_sum(const void *v, int ncpus, struct og_flow_stats *out)
{
	__u64 newest = 0;
	int c;

	memset(out, 0, sizeof(*out));
	for (c = 0; c < ncpus; c++) {
		const struct og_flow_stats *s = (const void *)((const char *)v + c * FLOW_STRIDE);

		if (!s->pkts && !s->last_ns && !s->gen)
			continue; /* this CPU never saw the flow */
		out->pkts += s->pkts;
		out->bytes += s->bytes;
		out->syns += s->syns;
		if (s->first_ns && (!out->first_ns || s->first_ns < out->first_ns))
			out->first_ns = s->first_ns;
		if (s->last_ns >= newest) {
			newest = s->last_ns;
			out->last_ns = s->last_ns;
			out->lane = s->lane;
			out->lane_src = s->lane_src;
			out->blocked = s->blocked;
			out->gen = s->gen;
		}
	}
}

static int grow(struct dp_maps *m, size_t batch)
{
	void *k, *v;

	k = realloc(m->keys, batch * sizeof(struct og_flow_key));
	if (!k)
		return -ENOMEM;
	m->keys = k;
	v = realloc(m->vals, batch * m->ncpus * FLOW_STRIDE);
	if (!v)
		return -ENOMEM;
	m->vals = v;
	m->batch = batch;
	return 0;
}

typedef int (*flow_cb)(const struct og_flow_key *k, const struct og_flow_stats *s, void *ctx);

static int foreach_slow(struct dp_maps *m, flow_cb cb, void *ctx)
{
	struct og_flow_key key, next, *prev = NULL;
	int fd = m->fd[DP_MAP_FLOWS], ret;
	struct og_flow_stats sum;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, m->vals))
			continue; /* evicted between the two calls */
		flow_sum(m->vals, m->ncpus, &sum);
		ret = cb(&key, &sum, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

int dp_flows_foreach(struct dp_maps *m, flow_cb cb, void *ctx)
{
	int fd = m->fd[DP_MAP_FLOWS], ret;
	struct og_flow_stats sum;
	__u64 token = 0;
	void *in = NULL;
	__u32 i, count;

	if (fd < 0)
		return -EBADF;
	if (!m->batch && (ret = grow(m, BATCH_MIN)))
		return ret;
	if (m->no_batch)
		return foreach_slow(m, cb, ctx);
	for (;;) {
		int done;

		count = m->batch;
		ret = bpf_map_lookup_batch(fd, in, &token, m->keys, m->vals, &count, NULL);
		ret = ret ? -errno : 0;
		if (ret == -ENOSPC && m->batch < BATCH_MAX) {
			/* one hash bucket holds more than a batch: retry the same bucket */
			if ((ret = grow(m, m->batch * 4)))
				return ret;
			continue;
		}
		if (ret && ret != -ENOENT) {
			if (in || (ret != -EINVAL && ret != -EOPNOTSUPP && ret != -ENOTSUPP))
				return ret;
			m->no_batch = true; /* kernel without batch ops for this map type */
			return foreach_slow(m, cb, ctx);
		}
		done = ret == -ENOENT;
		for (i = 0; i < count; i++) {
			flow_sum((char *)m->vals + (size_t)i * m->ncpus * FLOW_STRIDE, m->ncpus,
				 &sum);
			ret = cb((struct og_flow_key *)m->keys + i, &sum, ctx);
			if (ret)
				return ret;
		}
		if (done)
			return 0;
		in = &token;
	}
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
