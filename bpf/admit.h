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
 *
 * The slot also carries the first packet's classification (lane, its source,
 * the rules generation and the pin sequence it was resolved at), so the
 * admitting packet, while rules_gen has not moved, skips the pin, port and
 * og_pin_hint lookups and the entry starts with the lane the SYN was given.
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

/* The og_admit slot of <k> (NULL only if the map lookup fails) and, in <tag>, the
 * key's tag: the slot belongs to <k> when slot->tag == *tag. */
static __always_inline struct og_admit_slot *og_admit_slot(const struct og_flow_key *k, __u32 *tag)
{
	__u64 h = og_key_hash(k);
	__u32 idx = (__u32)h & (OG_ADMIT_SLOTS - 1);

	*tag = (__u32)(h >> 32) | 1;
	return bpf_map_lookup_elem(&og_admit, &idx);
}

/* Starts <s> over for the flow of <tag>: this packet is its first. */
static __always_inline void og_admit_start(struct og_admit_slot *s, __u32 tag, __u32 len, __u8 syn,
					   __u64 now)
{
	s->tag = tag;
	s->bytes = len;
	s->pkts = 1;
	s->syns = syn;
	s->first_ns = now;
}

/* Adds one more stateless packet (a SYN retransmit) to the flow's slot. */
static __always_inline void og_admit_add(struct og_admit_slot *s, __u32 len, __u8 syn)
{
	s->bytes += len;
	if (s->pkts < 0xffff)
		s->pkts++;
	if (s->syns < 0xffff && syn)
		s->syns++;
}

/* Records the classification the slot's flow was given at rules generation <gen>,
 * with <pin_seq> read before it. */
static __always_inline void og_admit_note(struct og_admit_slot *s, __u32 gen, __u32 pin_seq,
					  __u8 lane, __u8 lane_src)
{
	s->gen = gen;
	s->pin_seq = pin_seq;
	s->lane = lane;
	s->lane_src = lane_src;
}

/* The og_flows value of a flow admitted by a packet of <len> bytes at <now>: the
 * slot's counts plus this packet, and the slot's classification. */
static __always_inline void og_admit_value(const struct og_admit_slot *s, __u32 len, __u64 now,
					   struct og_flow_stats *v)
{
	v->pkts = s->pkts + 1;
	v->bytes = s->bytes + len;
	v->first_ns = s->first_ns;
	v->last_ns = now;
	v->syns = s->syns;
	v->gen = s->gen;
	v->lane = s->lane;
	v->lane_src = s->lane_src;
	v->pin_seq = s->pin_seq;
}

#endif /* OG_ADMIT_H */
