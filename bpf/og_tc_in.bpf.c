// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* og_tc_in: carry the lane og_xdp chose onto the skb as skb->mark. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lane.h"

/*
 * The lane comes from og_xdp's metadata when the driver kept it, else from the
 * flow's cached lane or a fresh resolution. Returns TC_ACT_UNSPEC so filters
 * after ours still run; it never drops (og_xdp already did what drops).
 * skb->mark is only written for a classified packet: lane NONE leaves any
 * mark someone else set alone.
 */
SEC("tc")
int og_tc_in(struct __sk_buff *skb)
{
	struct og_xdp_meta *m = (void *)(long)skb->data_meta;
	void *data = (void *)(long)skb->data;
	struct og_lane_stats *s;
	struct og_config *cfg;
	struct og_pkt p = {};
	__u32 lane = OG_LANE_NONE;
	__u8 src = OG_LSRC_NONE;
	int via_meta = 0;

	cfg = og_cfg();
	if (!cfg || !cfg->enabled)
		return TC_ACT_UNSPEC;
	if ((void *)(m + 1) <= data && m->magic == OG_META_MAGIC) {
		lane = m->lane;
		via_meta = 1;
	} else {
		og_skb_parse(skb, &p);
		if (p.kind == OG_PK_L4 || p.kind == OG_PK_FRAG)
			lane = og_lane_of(cfg, &p, 1, &src); /* pins: no rules_gen bump */
	}
	if (lane >= OG_LANE_MAX)
		lane = OG_LANE_NONE;
	s = og_lstats(lane);
	if (s) {
		if (via_meta)
			s->tc_in_meta++;
		else
			s->tc_in_lookup++;
	}
	if (lane != OG_LANE_NONE)
		skb->mark = lane;
	return TC_ACT_UNSPEC;
}
