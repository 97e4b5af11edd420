/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* og_seen: a small filter that answers "has this flow og_flows state?" before the hash probe. */
#ifndef OG_SEEN_H
#define OG_SEEN_H

#include "maps.h"

/*
 * A non-SYN packet of a flow without state (a random-source ACK or UDP flood,
 * a flow's first UDP packet) used to probe og_flows and miss: a random bucket
 * of a table sized for 64k flows, out of cache (89 ns a packet under an ACK
 * flood against 35 for a SYN flood; a third of the cold first-packet cost).
 * og_seen is a 32 KiB bitmap (small enough that the kernel kmallocs it, so it
 * sits in the direct map and in cache) with one bit per admitted flow: a
 * clear bit sends the packet straight to the stateless path.
 *
 * It never decides a verdict or a lane: a wrong "absent" only delays stats.
 * The stateless path resolves the lane in full (pin, prefix, port) and runs
 * the source gate; its second packet tries to admit, finds the entry
 * (-EEXIST) and sets the bit back, so a flow whose bit was lost (a reload of
 * og_xdp, two CPUs racing on one word, a long idle) misses per-flow stats
 * for at most two packets. A wrong "present" costs today's og_flows probe.
 *
 * Bits age out in two generations of OG_SEEN_EPOCH_SHIFT (17.2 s): each
 * 64-bit word holds the current epoch's bits, the previous epoch's and the
 * epoch's low 8 bits, and is rotated by whoever writes it first in a new
 * epoch. An admitted flow sets its bit; a known flow sets it again on its
 * first packet of an epoch (a compare against og_flow_stats.seen_ep per
 * packet), so a flow that sends once every 17 s keeps it, and the flows the
 * bitmap holds are the ones active in the last 17-34 s: churn cannot fill it.
 * Writes are plain loads and stores: a lost update is a lost bit, see above.
 */
#define OG_SEEN_BITS	    28 /* per generation per word */
#define OG_SEEN_GEN_MASK    ((1ULL << OG_SEEN_BITS) - 1)
#define OG_SEEN_EPOCH_SHIFT 34 /* ns: 2^34 = 17.2 s */

/* The filter epoch of <now> (ns), low 8 bits: a word 256 epochs (73 min) old
 * that nobody wrote looks current, which only costs probes. */
static __always_inline __u8 og_seen_epoch(__u64 now)
{
	return now >> OG_SEEN_EPOCH_SHIFT;
}

/* <k>'s word (NULL only if the map lookup fails) and, in <mask>, its bit in the
 * current generation. A cheap fold: an attacker who makes a flood hit set
 * bits only buys the og_flows probe every packet paid before. */
static __always_inline __u64 *og_seen_word(const struct og_flow_key *k, __u64 *mask)
{
	__u64 f = (__u64)og_key_fold(k) * 0x9E3779B97F4A7C15ULL;
	__u32 idx = f >> (64 - OG_SEEN_WORDS_BITS);

	*mask = 1ULL << (((f & 0xffffffff) * OG_SEEN_BITS) >> 32);
	return bpf_map_lookup_elem(&og_seen, &idx);
}

/* Whether word <w> may hold a flow whose current-generation bit is <m> at epoch <ep>. */
static __always_inline int og_seen_test(__u64 w, __u64 m, __u8 ep)
{
	__u8 wep = w >> 56;

	if (wep == ep)
		return !!(w & (m | m << OG_SEEN_BITS));
	/* Written last epoch: its current bits are this epoch's previous ones. */
	if (wep == (__u8)(ep - 1))
		return !!(w & m);
	return 0;
}

/* Sets bit <m> in word <wp> at epoch <ep>, rotating the word into <ep> first. */
static __always_inline void og_seen_set(__u64 *wp, __u64 m, __u8 ep)
{
	__u64 w = *wp, cur;
	__u8 wep = w >> 56;

	if (wep == ep) {
		if (!(w & m))
			*wp = w | m;
		return;
	}
	cur = wep == (__u8)(ep - 1) ? w & OG_SEEN_GEN_MASK : 0;
	*wp = (__u64)ep << 56 | cur << OG_SEEN_BITS | m;
}

/* og_seen_set for <k> at time <now>. */
static __always_inline void og_seen_mark(const struct og_flow_key *k, __u64 now)
{
	__u64 m, *w = og_seen_word(k, &m);

	if (w)
		og_seen_set(w, m, og_seen_epoch(now));
}

#endif /* OG_SEEN_H */
