// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* og_reuseport: steer new connections from order sources to the reserved workers' listeners. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "consts.h"
#include "maps.h"

/*
 * Attached as a plain sk_reuseport program (not sk_reuseport/migrate), so a closing
 * listener's queue still moves to a sibling by the kernel's own tcp_migrate_req. For a
 * SYN on a listening address in og_rp_groups: an order source (longest match in
 * og_rp_src with lane ORDER) picks one of the reserved workers' sockets, anyone else
 * one of the other workers', by the flow hash. A slot that is empty (a worker closed
 * its listener while draining) or a group without sockets of that kind returns SK_PASS
 * with nothing selected: the kernel then picks by its own hash, so nobody is refused.
 */
SEC("sk_reuseport")
int og_reuseport(struct sk_reuseport_md *md)
{
	struct og_rp_key gk = {};
	struct og_lpm_key k = {};
	struct og_lane_val *src;
	struct og_rp_group *g;
	struct bpf_sock *sk;
	__u32 idx, n;

	sk = md->sk;
	if (!sk)
		return SK_PASS;
	gk.port = sk->src_port;
	gk.family = sk->family;
	g = bpf_map_lookup_elem(&og_rp_groups, &gk);
	if (!g)
		return SK_PASS;
	if (md->eth_protocol == bpf_htons(ETH_P_IP)) {
		k.family = AF_INET;
		k.prefixlen = OG_LPM_HDR_BITS + 32;
		if (bpf_skb_load_bytes_relative(md, 12, &k.addr[0], 4, BPF_HDR_START_NET))
			return SK_PASS;
	} else if (md->eth_protocol == bpf_htons(ETH_P_IPV6)) {
		k.family = AF_INET6;
		k.prefixlen = OG_LPM_HDR_BITS + 128;
		if (bpf_skb_load_bytes_relative(md, 8, &k.addr[0], 16, BPF_HDR_START_NET))
			return SK_PASS;
	} else {
		return SK_PASS;
	}
	src = bpf_map_lookup_elem(&og_rp_src, &k);
	if (src && src->lane == OG_LANE_ORDER) {
		idx = g->base;
		n = g->n_order;
	} else {
		idx = g->base + g->n_order;
		n = g->n_other;
	}
	if (!n)
		return SK_PASS;
	idx += md->hash % n;
	/* -ENOENT for an empty slot: nothing selected, the kernel's hash decides */
	bpf_sk_select_reuseport(md, &og_rp_socks, &idx, 0);
	return SK_PASS;
}
