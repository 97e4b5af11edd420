/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* og_flows: find a flow's way, admit a flow into its set (layout and rules in og_shared.h). */
#ifndef OG_FLOWS_H
#define OG_FLOWS_H

#include "consts.h"
#include "maps.h"

/*
 * Why not the kernel's LRU_PERCPU_HASH (ABI 4 and before): an insert took a
 * random bucket, a fresh element from the LRU's free lists, zeroed the value
 * of every possible CPU and, once full, ran the LRU's eviction under its lock:
 * ~0.6 us an admission in a handshake storm here, more with more CPUs. A set
 * is one 512-byte line group in one page: a lookup reads its header line and
 * the way, an admission writes one way, and eviction is a compare of 4 stamps.
 */

#define OG_READ_ONCE(x) (*(volatile typeof(x) *)&(x))

/* The set of key hash <h>, or NULL. The mask comes from the map itself (CO-RE
 * read of bpf_array.index_mask), so a pinned table of any size is indexed right. */
static __always_inline struct og_flow_set *og_flow_set_of(__u64 h)
{
	struct bpf_array *a = (void *)&og_flows;
	__u32 idx = (__u32)h & a->index_mask;

	return bpf_map_lookup_elem(&og_flows, &idx);
}

/* The way of <set> holding <k> (tag <tag>), its index in <wi>; NULL when none
 * does. The tag is read again after the key compare: a writer clears it before
 * it touches the key, so a way taken over meanwhile is a miss. */
static __always_inline struct og_flow_way *
og_flow_find(struct og_flow_set *set, const struct og_flow_key *k, __u32 tag, __u32 *wi)
{
	int i;

#pragma unroll
	for (i = 0; i < OG_FLOW_WAYS; i++) {
		if (OG_READ_ONCE(set->tag[i]) != tag)
			continue;
		barrier(); /* the key loads stay between the two tag loads (x86 keeps loads in order) */
		if (!og_key_eq(&set->way[i].key, k))
			continue;
		barrier();
		if (OG_READ_ONCE(set->tag[i]) != tag)
			continue;
		*wi = i;
		return &set->way[i];
	}
	return NULL;
}

/* og_flow_find by key alone (og_tc_*: no hash at hand). */
static __always_inline struct og_flow_way *og_flow_lookup(const struct og_flow_key *k)
{
	__u64 h = og_key_hash(k);
	struct og_flow_set *set = og_flow_set_of(h);
	__u32 wi;

	return set ? og_flow_find(set, k, og_key_tag(h), &wi) : NULL;
}

/* Eviction order of a way with tag <t>: free first, then the oldest stamp, an
 * order flow as if OG_FLOW_ORDER_GRACE younger; a way being written never. */
static __always_inline __u32 og_flow_rank(const struct og_flow_set *set, __u32 t, int i)
{
	if (t == OG_FLOW_FREE)
		return 0;
	if (t == OG_FLOW_BUSY)
		return ~0U;
	return 1 + set->stamp[i] + (set->lane[i] == OG_LANE_ORDER ? OG_FLOW_ORDER_GRACE : 0);
}

/*
 * Puts <k> (hash <h>) with state <v> into its set at <now>. Returns 0; -EEXIST
 * when the set already holds <k>; -EBUSY when another CPU claimed the chosen
 * way first (the flow stays stateless and its next packets admit it again);
 * -ENOENT without a set. <evicted> is the lane of the live flow that lost its
 * way to <k>, or -1.
 */
static __always_inline int og_flow_insert(const struct og_flow_key *k, __u64 h,
					  const struct og_flow_stats *v, __u64 now, int *evicted)
{
	struct og_flow_set *set = og_flow_set_of(h);
	__u32 tag = og_key_tag(h), t, r, best_r = ~0U, best_t = 0, bi = 0;
	struct og_flow_way *w;
	int i;

	if (!set)
		return -ENOENT;
#pragma unroll
	for (i = 0; i < OG_FLOW_WAYS; i++) {
		t = OG_READ_ONCE(set->tag[i]);
		if (t == tag && og_key_eq(&set->way[i].key, k))
			return -EEXIST;
		r = og_flow_rank(set, t, i);
		if (r < best_r) {
			best_r = r;
			best_t = t;
			bi = i;
		}
	}
	if (best_r == ~0U || bi >= OG_FLOW_WAYS)
		return -EBUSY;
	if (__sync_val_compare_and_swap(&set->tag[bi], best_t, OG_FLOW_BUSY) != best_t)
		return -EBUSY;
	*evicted = best_t != OG_FLOW_FREE ? set->lane[bi] : -1;
	w = &set->way[bi];
	w->key = *k;
	w->s = *v;
	set->stamp[bi] = now >> OG_FLOW_STAMP_SHIFT;
	set->lane[bi] = v->lane;
	/* Publish after the writes above. A plain store is enough on x86 (TSO: stores
	 * become visible in order; the objects are built for x86) and keeps the
	 * store buffer's misses on the way off this packet's path; an exchange here
	 * cost the admission ~60 ns one-shot. A weakly ordered CPU needs a
	 * store-release instead (BPF_STORE_REL, kernel 6.15+). */
	barrier();
	OG_READ_ONCE(set->tag[bi]) = tag;
	return 0;
}

/* Keeps way <wi>'s eviction stamp current: a store only when it moved (~1 s). */
static __always_inline void og_flow_touch(struct og_flow_set *set, __u32 wi, __u64 now)
{
	__u32 st = now >> OG_FLOW_STAMP_SHIFT;

	if (wi < OG_FLOW_WAYS && set->stamp[wi] != st)
		set->stamp[wi] = st;
}

#endif /* OG_FLOWS_H */
