/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Admission filter: a flow gets og_flows state only once a non-SYN packet repeats it. */
#ifndef OG_ADMIT_H
#define OG_ADMIT_H

#include "lane.h"

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
 * A SYN also leaves its classification (lane, lane source, rules_gen) in the
 * slot: the handshake's ACK, while rules_gen has not moved, is admitted on it
 * without a second resolution (no pin or port lookup). The pin lookup a SYN
 * skips is not owed either: the daemon sees a connection only once its ACK
 * has passed, so it cannot have pinned it before (ordergated listens without
 * TCP Fast Open, which would hand it the SYN's data earlier).
 */

/* The og_admit slot of key hash <h> (og_key_hash; NULL only if the map lookup
 * fails): the slot holds the key's packets when slot->tag == og_key_tag(h). */
static __always_inline struct og_admit_slot *og_admit_slot(__u64 h)
{
	__u32 idx = (__u32)h & (OG_ADMIT_SLOTS - 1);

	return bpf_map_lookup_elem(&og_admit, &idx);
}

/* Whether the ACK (non-SYN) packet of <s>'s flow may take the lane its SYN was
 * given: a SYN wrote the slot, at the rules generation <gen> still current. */
static __always_inline int og_admit_classified(const struct og_admit_slot *s, __u32 gen)
{
	return s->syns && s->gen == gen;
}

/*
 * Records one stateless packet of <len> bytes in <s>, the slot of <tag>: the
 * flow's first (a flood's only) packet overwrites it. A SYN also leaves the
 * lane <r> it was classified with at rules generation <gen>.
 */
static __always_inline void og_admit_record(struct og_admit_slot *s, __u32 tag, __u32 len, __u8 syn,
					    __u32 gen, const struct og_res *r)
{
	if (s->tag != tag) {
		s->tag = tag;
		s->bytes = len;
		s->pkts = 1;
		s->syns = 0;
	} else {
		s->bytes += len;
		if (s->pkts < 0xffff)
			s->pkts++;
	}
	if (syn) {
		if (s->syns < 0xff)
			s->syns++;
		s->gen = gen;
		s->lane = (r->lane & 0xf) | r->lane_src << 4;
	}
}

/* The og_flows value of a flow admitted by a packet of <len> bytes at <now>: the
 * slot's counts plus this packet. */
static __always_inline void og_admit_value(const struct og_admit_slot *s, __u32 len, __u64 now,
					   struct og_flow_stats *v)
{
	v->pkts = s->pkts + 1;
	v->bytes = s->bytes + len;
	v->first_ns = now;
	v->last_ns = now;
	v->syns = s->syns;
}

#endif /* OG_ADMIT_H */
