/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Packet builder for BPF fixtures: eth, VLAN/QinQ, IPv4 (+options, fragments), IPv6 (+ext), TCP,
 * UDP, ARP. */
#ifndef OG_TEST_PKT_H
#define OG_TEST_PKT_H

#include <stddef.h>
#include <linux/types.h>

#define PKT_MAX	    2048
#define PKT_EXT_MAX 8

/* TCP flag bits (byte 13 of the header). */
#define PKT_FIN 0x01
#define PKT_SYN 0x02
#define PKT_RST 0x04
#define PKT_PSH 0x08
#define PKT_ACK 0x10

/* What to build. Zero fields take the defaults noted. */
struct pkt_spec {
	int vlans; /* 0, 1 (802.1Q) or 2 (802.1ad outer + 802.1Q inner); 3+ stacks more 802.1Q */
	__u16 ethertype; /* non-IP frames (family 0): e.g. 0x0806 builds an ARP request */
	int family;	 /* AF_INET, AF_INET6, or 0 for a non-IP frame */
	__u8 proto;	 /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, ... */
	const char *src,
	    *dst; /* addresses as text; default 10.0.0.1 / 10.0.0.2 or fd00::1 / fd00::2 */
	__u16 sport, dport; /* host order */
	__u8 tcp_flags;	    /* PKT_*; default PKT_ACK */
	__u8 tcp_doff;	    /* 32-bit words; 0 = 5, or 5 + tcp_opt_words when given */
	int tcp_opt_words;  /* TCP option words (NOPs) */
	int ip_opt_words;   /* IPv4 option words (NOPs); ihl = 5 + this */
	__u8 ihl;	    /* override the IPv4 ihl nibble (invalid values for malformed cases) */
	__u16 frag_off;	    /* IPv4/IPv6 fragment offset in 8-byte units */
	int more_frags;	    /* MF flag */
	int v6_frag; /* IPv6: add a fragment header (with frag_off/more_frags) after v6_ext */
	__u8 v6_ext[PKT_EXT_MAX]; /* IPv6 extension headers in order: 0, 43, 60, 51 */
	int n_v6_ext;
	int payload; /* L4 payload bytes */
};

/* Where each layer ends in a built frame, for truncation at every boundary. */
struct pkt_layout {
	size_t l2_end; /* after Ethernet and VLAN tags */
	size_t l3_end; /* after the IP header, its options and IPv6 extension headers */
	size_t l4_end; /* after the TCP/UDP header (with options) */
	size_t len;    /* whole frame */
};

/* Builds the frame <s> describes into <buf> (PKT_MAX bytes); fills <lay> when
 * non-NULL. Returns the frame length, or 0 when <s> asks for something
 * unbuildable (bad address text, too long). */
size_t pkt_build(const struct pkt_spec *s, __u8 *buf, struct pkt_layout *lay);

/* Parses <text> as IPv4 or IPv6 into four network-order words (IPv4 in word 0)
 * and returns its family (AF_INET/AF_INET6), or 0 when it is neither. */
int pkt_addr(const char *text, __u32 addr[4]);

#endif /* OG_TEST_PKT_H */
