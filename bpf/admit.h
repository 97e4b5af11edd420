/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Admission filter: a flow gets og_flows state only once a non-SYN packet repeats it. */
#ifndef OG_ADMIT_H
#define OG_ADMIT_H

#include "maps.h"

/*
 * A spoofed-source flood is one packet per flow, so inserting every first
 * packet into og_flows made the attacker pay one packet for a ~0.5 us LRU
 * insert and let it evict real flows. Instead a flow's packets are remembered
 * in a small direct-mapped per-CPU table (og_admit) under a 32-bit tag of the
 * key's hash; a later non-SYN packet that finds its tag there admits the flow.
 * A TCP handshake's ACK does, a SYN flood never does (SYNs only record), and a
 * random-source flood of any protocol only overwrites slots. A slot a flood
 * overwrote between two packets of a real flow delays its admission by one
 * packet; the packets meanwhile are classified and counted per lane as usual.
 */

/* 64-bit multiply-xorshift mix of the 40-byte key, word by word. */
static __always_inline __u64 og_key_hash(const struct og_flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u64 h = 0x9E3779B97F4A7C15ULL;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*k) / 4); i++)
		h = (h ^ w[i]) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 29);
}

/* Outcome of og_admit_check. */
#define OG_ADMIT_NO  0 /* remembered (or refused); no og_flows entry */
#define OG_ADMIT_YES 1 /* insert now; *prior holds the packets seen before */

/*
 * Records one packet of a stateless flow, or admits it. <prior> receives the
 * slot's counts on admission so the new entry starts with them.
 */
static __always_inline int og_admit_check(const struct og_flow_key *k, __u32 len, __u8 syn,
					  struct og_admit_slot *prior)
{
	__u64 h = og_key_hash(k);
	__u32 idx = (__u32)h & (OG_ADMIT_SLOTS - 1);
	__u32 tag = (__u32)(h >> 32) | 1;
	struct og_admit_slot *s = bpf_map_lookup_elem(&og_admit, &idx);

	if (!s)
		return OG_ADMIT_NO;
	if (s->tag != tag) {
		s->tag = tag;
		s->bytes = len;
		s->pkts = 1;
		s->syns = syn;
		return OG_ADMIT_NO;
	}
	if (syn) {
		s->bytes += len;
		if (s->pkts < 0xffff)
			s->pkts++;
		if (s->syns < 0xffff)
			s->syns++;
		return OG_ADMIT_NO;
	}
	*prior = *s;
	s->tag = 0;
	return OG_ADMIT_YES;
}

#endif /* OG_ADMIT_H */
