// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Write og_src_rules, og_port_lane (each write bumps rules_gen) and og_flow_lane (og_pin_hint). */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "dp/dp_int.h"

static int bump(struct dp_maps *m, int ret)
{
	/* bump even after a failed write: a partial change must not stay cached */
	int r2 = dp_config_bump_gen(m);

	return ret ? ret : r2;
}

int dp_src_rule_set(struct dp_maps *m, const struct dp_prefix *p, const struct og_src_rule *r)
{
	struct og_lpm_key k;
	struct og_src_rule v = *r;

	if (v.lane >= OG_LANE_MAX)
		return -EINVAL;
	memset(v.pad, 0, sizeof(v.pad));
	dp_prefix_to_lpm(p, &k);
	return bump(m, bpf_map_update_elem(m->fd[DP_MAP_SRC_RULES], &k, &v, BPF_ANY) ? -errno : 0);
}

/* Exact-prefix lookup: an LPM trie's lookup is longest-match, so walk keys instead
 * (O(rules); fine for the CLI and config loads, not for a per-packet path). */
static int rule_get(struct dp_maps *m, const struct og_lpm_key *want, struct og_src_rule *r)
{
	struct og_lpm_key k, next, *prev = NULL;
	int fd = m->fd[DP_MAP_SRC_RULES];

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (!memcmp(&k, want, sizeof(k)))
			return bpf_map_lookup_elem(fd, &k, r) ? -errno : 0;
	}
	return -ENOENT;
}

int dp_src_rule_get(struct dp_maps *m, const struct dp_prefix *p, struct og_src_rule *r)
{
	struct og_lpm_key k;

	dp_prefix_to_lpm(p, &k);
	return rule_get(m, &k, r);
}

int dp_src_block(struct dp_maps *m, const struct dp_prefix *p, bool block)
{
	struct og_src_rule r = {0};
	struct og_lpm_key k;
	int ret;

	dp_prefix_to_lpm(p, &k);
	ret = rule_get(m, &k, &r);
	if (ret && ret != -ENOENT)
		return ret;
	if (!block && ret == -ENOENT)
		return -ENOENT;
	if (block)
		r.flags |= OG_RULE_BLOCK;
	else
		r.flags &= ~OG_RULE_BLOCK;
	if (!r.flags && r.lane == OG_LANE_NONE)
		return dp_src_rule_del(m, p);
	return dp_src_rule_set(m, p, &r);
}

int dp_src_rule_del(struct dp_maps *m, const struct dp_prefix *p)
{
	struct og_lpm_key k;

	dp_prefix_to_lpm(p, &k);
	if (bpf_map_delete_elem(m->fd[DP_MAP_SRC_RULES], &k))
		return -errno;
	return bump(m, 0);
}

int dp_src_rules_foreach(struct dp_maps *m,
			 int (*cb)(const struct dp_prefix *p, const struct og_src_rule *r,
				   void *ctx),
			 void *ctx)
{
	struct og_lpm_key k, next, *prev = NULL;
	int fd = m->fd[DP_MAP_SRC_RULES], ret;
	struct og_src_rule r;
	struct dp_prefix p;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &r))
			continue;
		dp_lpm_to_prefix(&k, &p);
		ret = cb(&p, &r, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

int dp_port_lane_set(struct dp_maps *m, unsigned int port, unsigned int lane)
{
	struct og_port_key k = {.port = port};
	struct og_lane_val v = {.lane = lane};
	int fd = m->fd[DP_MAP_PORT_LANE];

	if (port > 65535 || lane >= OG_LANE_MAX)
		return -EINVAL;
	if (lane == OG_LANE_NONE) {
		if (bpf_map_delete_elem(fd, &k))
			return -errno;
		return bump(m, 0);
	}
	return bump(m, bpf_map_update_elem(fd, &k, &v, BPF_ANY) ? -errno : 0);
}

int dp_port_lanes_foreach(struct dp_maps *m,
			  int (*cb)(unsigned int port, unsigned int lane, void *ctx), void *ctx)
{
	struct og_port_key k, next, *prev = NULL;
	int fd = m->fd[DP_MAP_PORT_LANE], ret;
	struct og_lane_val v;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		ret = cb(k.port, v.lane, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Pins change one flow: instead of bumping rules_gen (which re-resolves every
 * flow), add 1 to the key's og_pin_hint slot after the write, so og_xdp
 * re-reads og_flow_lane only for flows sharing that slot. Two writers racing
 * on a slot may add once instead of twice; either change is seen.
 */
static int pin_hint_bump(struct dp_maps *m, const struct og_flow_key *k, int ret)
{
	__u32 slot = og_pin_slot(k), seq = 0;

	if (bpf_map_lookup_elem(m->fd[DP_MAP_PIN_HINT], &slot, &seq))
		return ret ? ret : -errno;
	seq++;
	if (bpf_map_update_elem(m->fd[DP_MAP_PIN_HINT], &slot, &seq, BPF_ANY))
		return ret ? ret : -errno;
	return ret;
}

/*
 * og_pin_count: a new entry is counted before it exists and uncounted after it
 * is gone, so og_xdp, which skips og_flow_lane for a slot counting 0, never
 * misses a pin. Only the writer whose BPF_NOEXIST insert (or delete) succeeded
 * keeps its add (or subtracts): exactly one per entry, whoever races.
 */
int dp_flow_pin_set(struct dp_maps *m, const struct og_flow_key *k, unsigned int lane)
{
	struct og_flow_pin v = {.lane = lane, .pinned_ns = dp_now_ns()};
	__u32 *n = m->pin_count ? &m->pin_count[og_pin_slot(k)] : NULL;
	int fd = m->fd[DP_MAP_FLOW_LANE], ret = -EAGAIN, tries;

	if (lane >= OG_LANE_MAX)
		return -EINVAL;
	if (!n)
		return -EBADF;
	/* Replace an existing pin in place; insert (counted) when there is none. A
	 * clear between the two steps sends us round again. */
	for (tries = 0; tries < 4 && ret == -EAGAIN; tries++) {
		if (!bpf_map_update_elem(fd, k, &v, BPF_EXIST)) {
			ret = 0;
			break;
		}
		if (errno != ENOENT) {
			ret = -errno;
			break;
		}
		__atomic_fetch_add(n, 1, __ATOMIC_SEQ_CST);
		if (!bpf_map_update_elem(fd, k, &v, BPF_NOEXIST)) {
			ret = 0;
			break;
		}
		ret = errno == EEXIST ? -EAGAIN : -errno;
		__atomic_fetch_sub(n, 1, __ATOMIC_SEQ_CST);
	}
	return pin_hint_bump(m, k, ret);
}

int dp_flow_pin_clear(struct dp_maps *m, const struct og_flow_key *k)
{
	__u32 *n = m->pin_count ? &m->pin_count[og_pin_slot(k)] : NULL, old;

	if (!n)
		return -EBADF;
	if (bpf_map_delete_elem(m->fd[DP_MAP_FLOW_LANE], k))
		return -errno;
	/* Never below 0: an entry counted by nobody (written by hand) is not ours. */
	old = __atomic_load_n(n, __ATOMIC_SEQ_CST);
	while (old && !__atomic_compare_exchange_n(n, &old, old - 1, false, __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST))
		;
	return pin_hint_bump(m, k, 0);
}
