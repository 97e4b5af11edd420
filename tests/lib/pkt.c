// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Packet builder for BPF fixtures: byte-exact frames from a small spec. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "pkt.h"

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static __u16 csum16(const __u8 *p, size_t n)
{
	__u32 sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (n & 1)
		sum += p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

int pkt_addr(const char *text, __u32 addr[4])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return AF_INET6;
	return 0;
}

static size_t build_l4(const struct pkt_spec *s, __u8 *p, size_t room)
{
	size_t n;

	if (s->proto == IPPROTO_TCP) {
		int doff = s->tcp_doff ? s->tcp_doff : 5 + s->tcp_opt_words;
		size_t hl = 20 + s->tcp_opt_words * 4;

		if (hl > room)
			return 0;
		memset(p, 0, hl);
		put16(p, s->sport);
		put16(p + 2, s->dport);
		p[7] = 1; /* seq */
		p[12] = (doff & 0xf) << 4;
		p[13] = s->tcp_flags ? s->tcp_flags : PKT_ACK;
		put16(p + 14, 65535);
		memset(p + 20, 1, hl - 20); /* NOP options */
		return hl;
	}
	if (s->proto == IPPROTO_UDP) {
		if (room < 8)
			return 0;
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put16(p + 4, 8 + s->payload);
		put16(p + 6, 0);
		return 8;
	}
	if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		n = 8;
		if (room < n)
			return 0;
		memset(p, 0, n);
		p[0] = s->proto == IPPROTO_ICMP ? 8 : 128; /* echo request */
		return n;
	}
	return 0;
}

static size_t build_ipv4(const struct pkt_spec *s, __u8 *p, size_t room, size_t l4len, __u32 *src,
			 __u32 *dst)
{
	size_t hl = 20 + s->ip_opt_words * 4;
	__u16 fo = s->frag_off & 0x1fff;

	if (hl > 60 || hl > room)
		return 0;
	memset(p, 0, hl);
	p[0] = 0x40 | (s->ihl ? s->ihl & 0xf : hl / 4);
	put16(p + 2, hl + l4len + s->payload);
	put16(p + 4, 0x1234);
	if (s->more_frags)
		fo |= 0x2000;
	put16(p + 6, fo);
	p[8] = 64;
	p[9] = s->proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	memset(p + 20, 1, hl - 20); /* NOP options */
	put16(p + 10, csum16(p, hl));
	return hl;
}

static size_t build_ipv6(const struct pkt_spec *s, __u8 *p, size_t room, size_t l4len, __u32 *src,
			 __u32 *dst)
{
	size_t n = 40, plen;
	__u8 *nh = p + 6;
	int i;

	if (room < 40)
		return 0;
	memset(p, 0, 40);
	p[0] = 0x60;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	for (i = 0; i < s->n_v6_ext && i < PKT_EXT_MAX; i++) {
		__u8 t = s->v6_ext[i];
		size_t len = t == IPPROTO_AH ? 16 : 8;

		if (n + len > room)
			return 0;
		*nh = t;
		memset(p + n, 0, len);
		nh = p + n;
		p[n + 1] = t == IPPROTO_AH ? len / 4 - 2 : len / 8 - 1;
		if (t == IPPROTO_ROUTING)
			p[n + 2] = 4; /* segments left 0 below, type 4 (SRH) */
		n += len;
	}
	if (s->v6_frag) {
		__u16 fo = (s->frag_off & 0x1fff) << 3;

		if (n + 8 > room)
			return 0;
		*nh = IPPROTO_FRAGMENT;
		memset(p + n, 0, 8);
		nh = p + n;
		if (s->more_frags)
			fo |= 1;
		put16(p + n + 2, fo);
		put16(p + n + 6, 0x4242);
		n += 8;
	}
	*nh = s->proto;
	plen = n - 40 + l4len + s->payload;
	put16(p + 4, plen);
	return n;
}

size_t pkt_build(const struct pkt_spec *s, __u8 *buf, struct pkt_layout *lay)
{
	static const __u8 dmac[6] = {0x02, 0, 0, 0, 0, 0x02}, smac[6] = {0x02, 0, 0, 0, 0, 0x01};
	__u32 src[4], dst[4];
	size_t n = 12, l3, l4 = 0, later;
	__u8 l4buf[128];
	int i;

	memset(buf, 0, PKT_MAX);
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	for (i = 0; i < s->vlans; i++) {
		put16(buf + n, i == 0 && s->vlans >= 2 ? 0x88a8 : 0x8100);
		put16(buf + n + 2, 100 + i);
		n += 4;
	}
	if (!s->family) {
		put16(buf + n, s->ethertype ? s->ethertype : 0x88b5);
		n += 2;
		if (lay)
			lay->l2_end = n;
		if (s->ethertype == 0x0806) { /* ARP request, Ethernet/IPv4 */
			__u8 *a = buf + n;

			put16(a, 1);
			put16(a + 2, 0x0800);
			a[4] = 6;
			a[5] = 4;
			put16(a + 6, 1);
			memcpy(a + 8, smac, 6);
			a[14] = 10, a[17] = 1;
			a[24] = 10, a[27] = 2;
			n += 28;
		}
		n += s->payload;
		if (n > PKT_MAX)
			return 0;
		if (lay)
			lay->l3_end = lay->l4_end = lay->len = n;
		return n;
	}
	put16(buf + n, s->family == AF_INET ? 0x0800 : 0x86dd);
	n += 2;
	if (lay)
		lay->l2_end = n;
	if (pkt_addr(s->src ? s->src : (s->family == AF_INET ? "10.0.0.1" : "fd00::1"), src) !=
		s->family ||
	    pkt_addr(s->dst ? s->dst : (s->family == AF_INET ? "10.0.0.2" : "fd00::2"), dst) !=
		s->family)
		return 0;
	/* A later fragment carries no L4 header, only payload. */
	later = s->frag_off != 0;
	if (!later) {
		l4 = build_l4(s, l4buf, sizeof(l4buf));
		if (!l4 && (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP))
			return 0;
	}
	if (s->family == AF_INET)
		l3 = build_ipv4(s, buf + n, PKT_MAX - n, l4, src, dst);
	else
		l3 = build_ipv6(s, buf + n, PKT_MAX - n, l4, src, dst);
	if (!l3)
		return 0;
	n += l3;
	if (lay)
		lay->l3_end = n;
	if (n + l4 + s->payload > PKT_MAX)
		return 0;
	memcpy(buf + n, l4buf, l4);
	n += l4;
	if (lay)
		lay->l4_end = n;
	for (i = 0; i < s->payload; i++)
		buf[n + i] = 'a' + i % 26;
	n += s->payload;
	if (lay)
		lay->len = n;
	return n;
}
