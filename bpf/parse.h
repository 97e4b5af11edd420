/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Header cursor and one bounds-checked parser per header: eth, vlan, ipv4, ipv6, tcp, udp. */
#ifndef OG_PARSE_H
#define OG_PARSE_H

#include "consts.h"
#include "ordergate/og_shared.h"

/*
 * Each og_parse_* takes the cursor, checks that its header fits before <end>,
 * advances past it and returns the next protocol, or OG_P_BAD when the header
 * is truncated or invalid. The same code serves XDP (xdp_md data) and TC
 * (__sk_buff data after bpf_skb_pull_data): it only sees two pointers.
 */

#define OG_P_BAD	(-1) /* truncated or invalid header */
#define OG_P_LATER_FRAG 256  /* IP fragment with offset != 0: no L4 header */

/* What og_parse_pkt found; og_pkt.kind. */
#define OG_PK_L4       0 /* TCP or UDP, ports in the key */
#define OG_PK_FRAG     1 /* later IP fragment: addresses only */
#define OG_PK_NONIP    2 /* not IPv4/IPv6 (ARP, LLDP, a third VLAN tag ...) */
#define OG_PK_OTHER_L4 3 /* IP, but neither TCP nor UDP (ICMP ...): source known */
#define OG_PK_BAD      4 /* truncated or invalid header at some layer */

struct og_cursor {
	void *pos;
};

struct og_pkt {
	struct og_flow_key key; /* ingress orientation as seen on the wire */
	__u8 kind;		/* OG_PK_* */
	__u8 syn;		/* TCP SYN without ACK */
};

struct og_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct og_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in the upper 13 bits */
	__be32 id;
};

static __always_inline int og_parse_eth(struct og_cursor *c, void *end)
{
	struct ethhdr *eth = c->pos;

	if ((void *)(eth + 1) > end)
		return OG_P_BAD;
	c->pos = eth + 1;
	return bpf_ntohs(eth->h_proto);
}

static __always_inline int og_parse_vlan(struct og_cursor *c, void *end)
{
	struct og_vlan_hdr *v = c->pos;

	if ((void *)(v + 1) > end)
		return OG_P_BAD;
	c->pos = v + 1;
	return bpf_ntohs(v->proto);
}

static __always_inline int og_parse_ipv4(struct og_cursor *c, void *end, struct og_pkt *p)
{
	struct iphdr *ip = c->pos;
	__u32 hlen;
	__u8 vihl;

	if ((void *)(ip + 1) > end)
		return OG_P_BAD;
	vihl = *(__u8 *)ip;
	hlen = (vihl & 0xf) * 4;
	if ((vihl >> 4) != 4 || hlen < sizeof(*ip))
		return OG_P_BAD;
	/* tot_len 0 is a BIG TCP super-packet on egress (length in skb->len). */
	if (ip->tot_len && bpf_ntohs(ip->tot_len) < hlen)
		return OG_P_BAD;
	if (c->pos + hlen > end)
		return OG_P_BAD;
	p->key.family = AF_INET;
	p->key.saddr[0] = ip->saddr;
	p->key.daddr[0] = ip->daddr;
	c->pos += hlen;
	if (ip->frag_off & bpf_htons(IP_OFFSET))
		return OG_P_LATER_FRAG;
	return ip->protocol;
}

/* Walks at most OG_IPV6_EXT_MAX extension headers; a longer chain returns the
 * extension's number, which the caller counts as "other". */
static __always_inline int og_parse_ipv6(struct og_cursor *c, void *end, struct og_pkt *p)
{
	struct ipv6hdr *ip6 = c->pos;
	struct og_ip6_frag *fh;
	struct ipv6_opt_hdr *oh;
	int nh, i;

	if ((void *)(ip6 + 1) > end)
		return OG_P_BAD;
	if ((*(__u8 *)ip6 >> 4) != 6)
		return OG_P_BAD;
	p->key.family = AF_INET6;
	__builtin_memcpy(p->key.saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->key.daddr, &ip6->daddr, 16);
	nh = ip6->nexthdr;
	c->pos = ip6 + 1;

#pragma unroll
	for (i = 0; i < OG_IPV6_EXT_MAX; i++) {
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			oh = c->pos;
			if ((void *)(oh + 1) > end)
				return OG_P_BAD;
			nh = oh->nexthdr;
			if (c->pos + (oh->hdrlen + 1) * 8 > end)
				return OG_P_BAD;
			c->pos += (oh->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH:
			oh = c->pos;
			if ((void *)(oh + 1) > end)
				return OG_P_BAD;
			nh = oh->nexthdr;
			if (c->pos + (oh->hdrlen + 2) * 4 > end)
				return OG_P_BAD;
			c->pos += (oh->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			fh = c->pos;
			if ((void *)(fh + 1) > end)
				return OG_P_BAD;
			c->pos = fh + 1;
			if (fh->frag_off & bpf_htons(0xfff8))
				return OG_P_LATER_FRAG;
			nh = fh->nexthdr;
			break;
		default:
			return nh;
		}
	}
	return nh;
}

static __always_inline int og_parse_tcp(struct og_cursor *c, void *end, struct og_pkt *p)
{
	struct tcphdr *th = c->pos;
	__u8 *b = c->pos;
	__u32 hlen;

	if ((void *)(th + 1) > end)
		return OG_P_BAD;
	hlen = (b[12] >> 4) * 4;
	if (hlen < sizeof(*th) || c->pos + hlen > end)
		return OG_P_BAD;
	p->key.sport = th->source;
	p->key.dport = th->dest;
	p->syn = (b[13] & 0x12) == 0x02; /* SYN set, ACK clear */
	c->pos += hlen;
	return 0;
}

static __always_inline int og_parse_udp(struct og_cursor *c, void *end, struct og_pkt *p)
{
	struct udphdr *uh = c->pos;

	if ((void *)(uh + 1) > end)
		return OG_P_BAD;
	p->key.sport = uh->source;
	p->key.dport = uh->dest;
	c->pos = uh + 1;
	return 0;
}

/* Parses [data, end) into <p> (which must be zeroed) and returns p->kind. */
static __always_inline int og_parse_pkt(void *data, void *end, struct og_pkt *p)
{
	struct og_cursor c = {.pos = data};
	int proto, i;

	proto = og_parse_eth(&c, end);
#pragma unroll
	for (i = 0; i < OG_VLAN_MAX_DEPTH; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		proto = og_parse_vlan(&c, end);
	}
	if (proto == ETH_P_IP)
		proto = og_parse_ipv4(&c, end, p);
	else if (proto == ETH_P_IPV6)
		proto = og_parse_ipv6(&c, end, p);
	else if (proto == OG_P_BAD)
		return p->kind = OG_PK_BAD;
	else
		return p->kind = OG_PK_NONIP;

	if (proto == OG_P_BAD)
		return p->kind = OG_PK_BAD;
	if (proto == OG_P_LATER_FRAG)
		return p->kind = OG_PK_FRAG;
	if (proto == IPPROTO_TCP) {
		p->key.proto = IPPROTO_TCP;
		if (og_parse_tcp(&c, end, p) < 0)
			return p->kind = OG_PK_BAD;
		return p->kind = OG_PK_L4;
	}
	if (proto == IPPROTO_UDP) {
		p->key.proto = IPPROTO_UDP;
		if (og_parse_udp(&c, end, p) < 0)
			return p->kind = OG_PK_BAD;
		return p->kind = OG_PK_L4;
	}
	return p->kind = OG_PK_OTHER_L4;
}

#endif /* OG_PARSE_H */
