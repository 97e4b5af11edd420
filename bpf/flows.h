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
 * ~0.6 us an admission in a handshake storm here, more with more CPUs. Here an
 * admission reads one 16-byte directory entry (a dense 512 KiB array that stays
 * in cache), claims a way with one compare-and-swap and writes it without
 * reading it; eviction compares four stamps in that same entry.
 */

/* og_flow_insert publishes a way with a plain store after a compiler barrier and
 * og_flow_find reads word, key, word with plain loads: correct where stores and
 * loads stay in program order (x86's TSO). A weakly ordered target needs a
 * store-release and load-acquires (BPF_STORE_REL/BPF_LOAD_ACQ, kernel 6.15+,
 * LLVM 20+) instead; refuse to build there rather than tear ways silently. */
#ifndef __TARGET_ARCH_x86
#error "bpf/flows.h orders its table by x86 TSO; port og_flow_insert/og_flow_find first"
#endif

#define OG_READ_ONCE(x) (*(volatile typeof(x) *)&(x))

/* og_flow_dir's entries - 1 (a power of two), load-time rodata set by the loader
 * (dp_open) from the map's final size. A constant, not a read of the map's
 * bpf_array.index_mask: that load touched one more cold page, ~35 ns one-shot.
 * A mask larger than the map only makes lookups fail (a miss, no admission). */
const volatile __u32 og_flow_mask __weak = OG_DEF_FLOW_SETS - 1;

/* Where a found flow lives: its directory entry, way and the word seen. */
struct og_flow_ref {
	struct og_flow_dir *dir;
	__u32 wi;
	__u32 word;
};

/* The directory entry of key hash <h> and its set index, or NULL. */
static __always_inline struct og_flow_dir *og_flow_dir_of(__u64 h, __u32 *set)
{
	*set = (__u32)h & og_flow_mask;
	return bpf_map_lookup_elem(&og_flow_dir, set);
}

static __always_inline struct og_flow_way *og_flow_way_at(__u32 set, __u32 wi)
{
	__u32 idx = set * OG_FLOW_WAYS + wi;

	return bpf_map_lookup_elem(&og_flows, &idx);
}

/* The way holding <k> (hash <h>) and, in <ref>, where it is; NULL when no way
 * does. The word is read again after the key compare: a writer replaces it
 * before it touches the way, so a way taken over meanwhile is a miss. The loads
 * stay in that order on x86 (barrier() keeps the compiler from moving them). */
static __always_inline struct og_flow_way *og_flow_find(const struct og_flow_key *k, __u64 h,
							struct og_flow_ref *ref)
{
	__u32 tag = og_flow_tag(h), set, word;
	struct og_flow_dir *d = og_flow_dir_of(h, &set);
	struct og_flow_way *w;
	int i;

	if (!d)
		return NULL;
#pragma unroll
	for (i = 0; i < OG_FLOW_WAYS; i++) {
		word = OG_READ_ONCE(d->w[i]);
		if ((word & OG_FLOW_TAG_MASK) != tag)
			continue;
		w = og_flow_way_at(set, i);
		barrier();
		if (!w || !og_key_eq(&w->key, k))
			continue;
		barrier();
		if ((OG_READ_ONCE(d->w[i]) & OG_FLOW_TAG_MASK) != tag)
			continue;
		ref->dir = d;
		ref->wi = i;
		ref->word = word;
		return w;
	}
	return NULL;
}

/* og_flow_find by key alone (og_tc_*: no hash at hand). */
static __always_inline struct og_flow_way *og_flow_lookup(const struct og_flow_key *k)
{
	struct og_flow_ref ref;

	return og_flow_find(k, og_key_hash(k), &ref);
}

/* Replaces <ref>'s word with <nw> unless a writer changed it meanwhile. */
static __always_inline void og_flow_reword(struct og_flow_ref *ref, __u32 nw)
{
	if (ref->wi < OG_FLOW_WAYS &&
	    __sync_val_compare_and_swap(&ref->dir->w[ref->wi], ref->word, nw) == ref->word)
		ref->word = nw;
}

/* Keeps the found way's stamp current: a compare-and-swap only when it moved
 * (every 4.3 s of a flow's life). */
static __always_inline void og_flow_touch(struct og_flow_ref *ref, __u64 now)
{
	__u32 st = (now >> OG_FLOW_STAMP_SHIFT) & OG_FLOW_STAMP_MASK;

	if (((ref->word >> 16) & OG_FLOW_STAMP_MASK) != st)
		og_flow_reword(ref,
			       og_flow_word(ref->word & OG_FLOW_TAG_MASK, st, ref->word >> 30));
}

/* Records a new lane of the found way for eviction. */
static __always_inline void og_flow_relane(struct og_flow_ref *ref, __u32 lane)
{
	if ((ref->word >> 30) != (lane & 3))
		og_flow_reword(ref,
			       og_flow_word(ref->word & OG_FLOW_TAG_MASK, ref->word >> 16, lane));
}

/* Eviction rank of a live way's word at stamp <st>: its age in stamps, plus
 * OG_FLOW_ORDER_GRACE unless it is an order flow; the largest goes first. */
static __always_inline __u32 og_flow_age(__u32 word, __u32 st)
{
	__u32 age = (st - (word >> 16)) & OG_FLOW_STAMP_MASK;

	return (word >> 30) == OG_LANE_ORDER ? age : age + OG_FLOW_ORDER_GRACE;
}

/*
 * Puts <k> (hash <h>) with state <v> into its set at <now>: a free way, else the
 * oldest (og_flow_age); a way being written never. Returns 0; -EEXIST when the
 * set already holds <k>; -EBUSY when another CPU claimed the chosen way first
 * (the flow stays stateless and its next packets admit it again); -ENOENT
 * without a set. <evicted> is the lane of the live flow that lost its way, or -1.
 */
static __always_inline int og_flow_insert(const struct og_flow_key *k, __u64 h,
					  const struct og_flow_stats *v, __u64 now, int *evicted)
{
	__u32 tag = og_flow_tag(h), st = (now >> OG_FLOW_STAMP_SHIFT) & OG_FLOW_STAMP_MASK;
	__u32 set, word, age, best_age = 0, best_w = 0, bi = OG_FLOW_WAYS;
	struct og_flow_dir *d = og_flow_dir_of(h, &set);
	struct og_flow_way *w;
	int i;

	if (!d)
		return -ENOENT;
#pragma unroll
	for (i = 0; i < OG_FLOW_WAYS; i++) {
		word = OG_READ_ONCE(d->w[i]);
		if ((word & OG_FLOW_TAG_MASK) == tag) {
			w = og_flow_way_at(set, i);
			if (w && og_key_eq(&w->key, k))
				return -EEXIST;
		}
		if (word == OG_FLOW_BUSY)
			continue;
		age = word == OG_FLOW_FREE ? 0x10000 : og_flow_age(word, st);
		if (bi == OG_FLOW_WAYS || age > best_age) {
			best_age = age;
			best_w = word;
			bi = i;
		}
	}
	if (bi >= OG_FLOW_WAYS)
		return -EBUSY;
	if (__sync_val_compare_and_swap(&d->w[bi], best_w, OG_FLOW_BUSY) != best_w)
		return -EBUSY;
	w = og_flow_way_at(set, bi);
	if (!w) {
		OG_READ_ONCE(d->w[bi]) = OG_FLOW_FREE;
		return -ENOENT;
	}
	*evicted = best_w != OG_FLOW_FREE ? (int)(best_w >> 30) : -1;
	/* Written without being read: the miss on the way's lines drains from the
	 * store buffer while the packet goes on. */
	w->key = *k;
	w->s = *v;
	/* Publish after the writes above. A plain store is enough on x86 (TSO: stores
	 * become visible in order; the objects are built for x86); an exchange cost
	 * the admission ~60 ns one-shot here. A weakly ordered CPU needs a
	 * store-release instead (BPF_STORE_REL, kernel 6.15+). */
	barrier();
	OG_READ_ONCE(d->w[bi]) = og_flow_word(tag, st, v->lane);
	return 0;
}

#endif /* OG_FLOWS_H */
