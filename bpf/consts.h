/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Constants vmlinux.h cannot carry (it has types, not #defines). */
#ifndef OG_CONSTS_H
#define OG_CONSTS_H

#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_ARP    0x0806
#define ETH_HLEN     14

#define AF_INET	 2
#define AF_INET6 10

#define IPPROTO_HOPOPTS	 0
#define IPPROTO_TCP	 6
#define IPPROTO_UDP	 17
#define IPPROTO_ROUTING	 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_AH	 51
#define IPPROTO_NONE	 59
#define IPPROTO_DSTOPTS	 60

#define IP_MF	  0x2000
#define IP_OFFSET 0x1FFF

#define TC_ACT_UNSPEC (-1)
#define TC_ACT_OK     0
#define TC_ACT_SHOT   2

/* errnos og_flow_insert returns (flows.h) */
#define ENOENT 2
#define EEXIST 17
#define EBUSY  16

#define OG_VLAN_MAX_DEPTH 2 /* 802.1ad outer + 802.1Q inner */
#define OG_IPV6_EXT_MAX	  6 /* extension headers walked before giving up */

#endif /* OG_CONSTS_H */
