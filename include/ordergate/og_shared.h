/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The kernel/user ABI of ordergate: lane ids, map keys and values, pin paths. */
#ifndef OG_SHARED_H
#define OG_SHARED_H

/*
 * Included by BPF code (after vmlinux.h) and by user code (after <linux/types.h>).
 * Data only: fixed-width types, explicit padding, a size assertion after each
 * struct, so both sides and `bpftool map dump` agree on every byte.
 * Bump OG_ABI_VERSION whenever a struct below changes layout.
 */

#ifndef __VMLINUX_H__
#include <linux/types.h> /* user side; BPF side gets the same names from vmlinux.h */
#endif

#define OG_ABI_VERSION 5
#define OG_PIN_DIR     "/sys/fs/bpf/ordergate"

/* Lanes. 0 is "unclassified": non-IP, non-TCP/UDP and malformed packets. */
#define OG_LANE_NONE   0
#define OG_LANE_ORDER  1
#define OG_LANE_NORMAL 2
#define OG_LANE_BULK   3
#define OG_LANE_MAX    4 /* array size for per-lane tables */

/* HTB class ids (TC_H_MAKE(major << 16, minor)); "1:10" is 0x00010010. */
#define OG_CLASS_ORDER	0x00010010
#define OG_CLASS_NORMAL 0x00010020
#define OG_CLASS_BULK	0x00010030

/* Where a flow's lane came from (og_flow_stats.lane_src), in precedence order. */
#define OG_LSRC_NONE	0
#define OG_LSRC_PIN	1 /* og_flow_lane: pinned by the daemon's L7 classifier */
#define OG_LSRC_PREFIX	2 /* og_src_rules: longest matching source prefix */
#define OG_LSRC_PORT	3 /* og_port_lane: destination port */
#define OG_LSRC_DEFAULT 4 /* og_config.default_lane */

/* og_src_rule.flags */
#define OG_RULE_BLOCK 0x1 /* drop every packet from the prefix at XDP */

/* og_config.fail_mode */
#define OG_FAIL_OPEN   0 /* a failed map operation passes the packet */
#define OG_FAIL_CLOSED 1 /* a failed map operation drops it (counted as drop_error) */

/* og_event.type */
#define OG_EV_THROTTLE	1 /* first drop of a throttled source since its entry was set */
#define OG_EV_MALFORMED 2 /* a packet failed header validation */
#define OG_EV_BLOCK	3 /* a flow with og_flows state was found blocked (rule change) */
#define OG_EV_KINDS	4 /* og_ev_gate size */

/* Event gate: at most OG_EV_PER_WIN events of one kind per CPU per OG_EV_WIN_NS;
 * the rest are only counted (og_lane_stats.ev_suppressed). */
#define OG_EV_PER_WIN 64
#define OG_EV_WIN_NS  1000000000ULL

/* Magic in the XDP metadata so og_tc_in can tell ours from anyone else's. */
#define OG_META_MAGIC 0x0a6e4d31

/* Flow identity as seen on ingress (client -> gateway). IPv4 uses addr word 0. */
struct og_flow_key {
	__u8 family;	 /* AF_INET (2) or AF_INET6 (10) */
	__u8 proto;	 /* IPPROTO_TCP or IPPROTO_UDP; 0 for a later fragment */
	__be16 sport;	 /* network byte order; 0 for a later fragment */
	__be16 dport;	 /* network byte order; 0 for a later fragment */
	__u16 pad;	 /* zero */
	__be32 saddr[4]; /* network byte order */
	__be32 daddr[4]; /* network byte order */
};
_Static_assert(sizeof(struct og_flow_key) == 40, "og_flow_key layout");

/* A flow's state in its og_flows way (struct og_flow_way), shared by all CPUs. */
struct og_flow_stats {
	__u64 pkts;	/* packets seen by og_xdp */
	__u64 bytes;	/* bytes, L2 frame length */
	__u64 first_ns; /* ns, CLOCK_MONOTONIC (coarse), when the flow was admitted */
	__u64 last_ns;	/* ns, CLOCK_MONOTONIC (coarse), last packet */
	__u32 syns;	/* TCP SYNs without ACK before admission (handshake SYN, retransmits) */
	__u32 gen;	/* og_config.rules_gen the cached lane/verdict were resolved at */
	__u8 lane;	/* OG_LANE_* */
	__u8 lane_src;	/* OG_LSRC_*: which rule chose the lane */
	__u8 blocked;	/* 1: a block rule matched the source (cached verdict) */
	__u8 seen_ep;	/* og_xdp-private: og_seen epoch the flow's bit was last set at */
	__u32 pin_seq;	/* og_pin_hint[og_pin_slot(key)] the pin was last checked at */
};
_Static_assert(sizeof(struct og_flow_stats) == 48, "og_flow_stats layout");

/*
 * og_flows: a set-associative table og_xdp manages itself. og_flow_dir holds
 * one 16-byte entry per set, a 32-bit word per way; og_flows holds the ways
 * (way w of set i at index i * OG_FLOW_WAYS + w). A key's og_key_hash picks its
 * set (low bits) and a 16-bit odd tag (high bits). The directory is small
 * (512 KiB for the default 65536 flows) and dense, so it stays in cache: a
 * lookup that misses, and an admission, touch the ways only to write one.
 *
 * A directory word: bits 0-15 the way's tag (OG_FLOW_FREE, OG_FLOW_BUSY or odd),
 * bits 16-29 its stamp (last packet, ns >> OG_FLOW_STAMP_SHIFT, modulo 2^14),
 * bits 30-31 its lane. An admission takes a free way, else evicts the way whose
 * stamp is oldest, an order-lane flow counting OG_FLOW_ORDER_GRACE stamps
 * younger: a storm of new bulk or normal connections displaces idle flows of
 * its own lanes first.
 *
 * Concurrency without locks: a writer claims a way by compare-and-swap of its
 * word to OG_FLOW_BUSY, writes the way, then publishes the word. A reader
 * matches the tag and the way's key, then reads the word again, so a way taken
 * over meanwhile is a miss, never another flow's entry. Counters are plain
 * adds: two CPUs on one flow at once may lose a count (RSS keeps a flow on one
 * queue). A user-space reader does the same check around its copy.
 */
#define OG_FLOW_WAYS	    4
#define OG_FLOW_FREE	    0 /* word of an empty way */
#define OG_FLOW_BUSY	    2 /* word of a way being written (real tags are odd) */
#define OG_FLOW_TAG_MASK    0xffffU
#define OG_FLOW_STAMP_SHIFT 32 /* stamp units: 2^32 ns = 4.3 s; 14 bits wrap in 19.5 h */
#define OG_FLOW_STAMP_MASK  0x3fffU
#define OG_FLOW_ORDER_GRACE 16 /* stamps (~69 s) an order flow outlives others by */

static inline __attribute__((always_inline)) __u32 og_flow_word(__u32 tag, __u32 stamp, __u32 lane)
{
	return tag | (stamp & OG_FLOW_STAMP_MASK) << 16 | (lane & 3) << 30;
}

struct og_flow_dir {
	__u32 w[OG_FLOW_WAYS]; /* og_flow_word() of each way */
};
_Static_assert(sizeof(struct og_flow_dir) == 16, "og_flow_dir layout");

struct og_flow_way {
	struct og_flow_key key; /* valid while the way's directory word has an odd tag */
	struct og_flow_stats s;
	__u64 pad; /* zero */
};
_Static_assert(sizeof(struct og_flow_way) == 96, "og_flow_way layout");

/* Sets (og_flow_dir entries) for a table of <flows> flows: twice as many ways, since hashing
 * fills sets unevenly (at half load ~4 % of flows meet a full set and evict its
 * oldest way), rounded up to a power of two, at least 4 sets. */
static inline __attribute__((always_inline)) __u32 og_flow_sets(__u32 flows)
{
	__u32 n = 4;

	while (n < 0x20000000U && n * OG_FLOW_WAYS < 2ULL * flows)
		n <<= 1;
	return n;
}
#define OG_DEF_FLOW_SETS (2 * OG_DEF_FLOWS / OG_FLOW_WAYS) /* og_flow_sets(OG_DEF_FLOWS) */
#define OG_DEF_FLOW_WAYS (OG_DEF_FLOW_SETS * OG_FLOW_WAYS)

/* 64-bit multiply-xorshift hash of a flow key, in 8-byte steps: og_flows' set
 * and tag (og_flow_tag), og_admit's slot and tag (og_key_tag). Unkeyed: only an admitted
 * (handshaken) flow takes a way, so aiming at one set needs real connections. */
static inline __attribute__((always_inline)) __u64 og_key_hash(const struct og_flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u64 h = 0x9E3779B97F4A7C15ULL;
	int i;

#ifdef __bpf__
#pragma unroll
#endif
	for (i = 0; i < (int)(sizeof(*k) / 8); i++)
		h = (h ^ ((__u64)w[2 * i + 1] << 32 | w[2 * i])) * 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

/* og_admit's tag of hash <h>: odd, so never an empty slot. */
static inline __attribute__((always_inline)) __u32 og_key_tag(__u64 h)
{
	return (__u32)(h >> 32) | 1;
}

/* og_flow_dir's tag of hash <h>: odd, so never OG_FLOW_FREE or OG_FLOW_BUSY. */
static inline __attribute__((always_inline)) __u32 og_flow_tag(__u64 h)
{
	return (__u32)(h >> 48) | 1;
}

/* Whether two flow keys are equal, word by word (keys are 4-byte aligned). */
static inline __attribute__((always_inline)) int og_key_eq(const struct og_flow_key *a,
							   const struct og_flow_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	__u32 d = 0;
	int i;

#ifdef __bpf__
#pragma unroll
#endif
	for (i = 0; i < (int)(sizeof(*a) / 4); i++)
		d |= x[i] ^ y[i];
	return !d;
}

/* og_lane_stats value, per CPU, indexed by lane. Every packet og_xdp sees adds 1
 * to exactly one lane's rx_pkts; the other counters break that down. */
struct og_lane_stats {
	__u64 rx_pkts;	     /* packets seen by og_xdp */
	__u64 rx_bytes;	     /* bytes, L2 frame length */
	__u64 tx_pkts;	     /* packets seen by og_tc_out */
	__u64 tx_bytes;	     /* bytes, skb->len */
	__u64 drop_block;    /* XDP_DROP: source prefix has OG_RULE_BLOCK */
	__u64 drop_throttle; /* XDP_DROP: source's token bucket was empty */
	__u64 drop_error;    /* XDP_DROP: map failure with OG_FAIL_CLOSED */
	__u64 other;	     /* passed untouched: not IPv4/IPv6, or not TCP/UDP */
	__u64 malformed;     /* passed untouched: truncated or invalid header */
	__u64 fragments;     /* later fragments, attributed by address only */
	__u64 new_flows;     /* og_flows entries created */
	__u64 tc_in_meta;    /* og_tc_in took the lane from XDP metadata */
	__u64 tc_in_lookup;  /* og_tc_in had no metadata and looked the flow up */
	__u64 stateless;     /* og_xdp packets of flows without og_flows state (first packets,
			      * SYNs, floods, sources dropped before classification) */
	__u64 ev_suppressed; /* events the per-CPU gate did not write to og_events */
	__u64 flows_evicted; /* og_flows ways of this lane's flows given to a newer flow */
};
_Static_assert(sizeof(struct og_lane_stats) == 128, "og_lane_stats layout");

/* og_src_rules key: an LPM prefix over (family, pad, addr). prefixlen counts the
 * 32 bits of family+pad too, so an IPv4 /24 is prefixlen 32 + 24 = 56. */
struct og_lpm_key {
	__u32 prefixlen; /* bits: 32 + prefix length */
	__u8 family;	 /* AF_INET or AF_INET6 */
	__u8 pad[3];	 /* zero */
	__be32 addr[4];	 /* network byte order; IPv4 in word 0 */
};
_Static_assert(sizeof(struct og_lpm_key) == 24, "og_lpm_key layout");
#define OG_LPM_HDR_BITS 32

struct og_src_rule {
	__u8 lane;   /* OG_LANE_*; OG_LANE_NONE = this rule assigns no lane */
	__u8 flags;  /* OG_RULE_* */
	__u8 pad[6]; /* zero */
};
_Static_assert(sizeof(struct og_src_rule) == 8, "og_src_rule layout");

/* og_port_lane: key is the destination port in host byte order (__u16 key,
 * padded to __u32 so bpftool prints it as a plain number). */
struct og_port_key {
	__u32 port; /* host byte order, 0..65535 */
};
_Static_assert(sizeof(struct og_port_key) == 4, "og_port_key layout");

struct og_lane_val {
	__u32 lane; /* OG_LANE_* */
};
_Static_assert(sizeof(struct og_lane_val) == 4, "og_lane_val layout");

/* og_flow_lane value: key is struct og_flow_key (ingress direction). */
struct og_flow_pin {
	__u32 lane;	 /* OG_LANE_* */
	__u32 pad;	 /* zero */
	__u64 pinned_ns; /* ns, CLOCK_MONOTONIC, when the pin was written */
};
_Static_assert(sizeof(struct og_flow_pin) == 16, "og_flow_pin layout");

/*
 * og_pin_hint: OG_PIN_HINT_SLOTS __u32 sequence numbers. A writer of og_flow_lane
 * adds 1 to the slot of the pinned key after the write (instead of bumping
 * rules_gen), so og_xdp re-reads og_flow_lane only for flows in that slot: a
 * pin reaches its flow on the next packet and costs every other flow one
 * array load. The slot of a key, shared by both sides:
 */
/*
 * og_pin_count: OG_PIN_HINT_SLOTS __u32, mmapable, the number of og_flow_lane
 * entries whose key falls in each og_pin_slot, kept by the writers with atomic
 * adds on the shared mapping (dp_flow_pin_set adds before the entry exists,
 * dp_flow_pin_clear subtracts after it is gone). og_xdp skips the og_flow_lane
 * probe for a flow without state when its slot counts 0: no pin can exist. An
 * entry the LRU evicts leaves its count behind, which only costs probes.
 */
#define OG_PIN_HINT_BITS  12
#define OG_PIN_HINT_SLOTS (1U << OG_PIN_HINT_BITS)
/* A cheap 32-bit fold of a flow key (addresses and ports), for og_pin_slot and
 * og_xdp's og_seen filter: slots and filters, not a table keyed on it. */
static inline __attribute__((always_inline)) __u32 og_key_fold(const struct og_flow_key *k)
{
	return k->saddr[0] ^ k->saddr[1] ^ k->saddr[2] ^ k->saddr[3] ^ k->daddr[0] ^
	       ((__u32)k->sport << 16 | k->dport);
}

static inline __attribute__((always_inline)) __u32 og_pin_slot(const struct og_flow_key *k)
{
	return (og_key_fold(k) * 0x9E3779B1U) >> (32 - OG_PIN_HINT_BITS);
}

/* og_throttle key: a source address. */
struct og_addr_key {
	__u8 family;	/* AF_INET or AF_INET6 */
	__u8 pad[3];	/* zero */
	__be32 addr[4]; /* network byte order; IPv4 in word 0 */
};
_Static_assert(sizeof(struct og_addr_key) == 20, "og_addr_key layout");

/* og_throttle value: a token bucket in nanotokens (1 packet = 1e9), so refill
 * is elapsed_ns * rate_pps with no division. Shared by all CPUs without a lock:
 * concurrent updates may lose a refill or a take, which errs by a few packets. */
struct og_throttle {
	__u64 rate_pps;	  /* refill, packets per second; capped at OG_TB_MAX_RATE */
	__u64 burst;	  /* bucket depth, packets */
	__u64 tokens;	  /* nanotokens currently in the bucket */
	__u64 last_ns;	  /* ns, CLOCK_MONOTONIC (coarse), last refill */
	__u64 expires_ns; /* ns, CLOCK_MONOTONIC; entry ignored at or after this */
	__u64 passed;	  /* packets let through */
	__u64 dropped;	  /* packets dropped */
};
_Static_assert(sizeof(struct og_throttle) == 56, "og_throttle layout");
#define OG_TB_NS	  1000000000ULL	 /* nanotokens per packet */
#define OG_TB_MAX_RATE	  100000000ULL	 /* pps; keeps elapsed*rate below 2^64 */
#define OG_TB_MAX_ELAPSED 10000000000ULL /* ns; longer gaps refill fully anyway */

/* og_config: one entry (key 0) of global knobs, written by ordergatectl/daemon. */
struct og_config {
	__u32 abi_version;	       /* OG_ABI_VERSION of the writer */
	__u8 enabled;		       /* 0: og_xdp passes everything and counts it as lane NONE */
	__u8 default_lane;	       /* OG_LANE_* for flows no rule matches */
	__u8 fail_mode;		       /* OG_FAIL_* */
	__u8 pad0;		       /* zero */
	__u32 rules_gen;	       /* bumped after every write to og_src_rules/og_port_lane */
	__u32 throttle_count;	       /* live og_throttle entries; 0 lets og_xdp skip the lookup */
	__u32 lane_class[OG_LANE_MAX]; /* HTB class id per lane for skb->priority; 0 = leave */
};
_Static_assert(sizeof(struct og_config) == 32, "og_config layout");

/* Metadata og_xdp puts in front of the packet for og_tc_in. */
struct og_xdp_meta {
	__u32 magic;   /* OG_META_MAGIC */
	__u8 lane;     /* OG_LANE_* */
	__u8 lane_src; /* OG_LSRC_* */
	__u16 pad;     /* zero */
};
_Static_assert(sizeof(struct og_xdp_meta) == 8, "og_xdp_meta layout");

/* og_events record. */
struct og_event {
	__u64 ts_ns;		/* ns, CLOCK_MONOTONIC (coarse) */
	__u32 type;		/* OG_EV_* */
	__u32 lane;		/* OG_LANE_* at the time */
	struct og_flow_key key; /* the packet's flow, as far as it was parsed */
};
_Static_assert(sizeof(struct og_event) == 56, "og_event layout");

/* og_admit value (per CPU, unpinned, so not part of the pinned ABI OG_ABI_VERSION
 * guards): a flow seen without og_flows state. The flow gets an entry when a
 * non-SYN packet finds its tag here; pkts/bytes/syns carry the packets seen
 * before. A slot a SYN wrote (syns > 0) also keeps the SYN's classification,
 * which the handshake's ACK reuses while rules_gen still equals gen. */
struct og_admit_slot {
	__u32 tag;   /* hash bits of the flow key, never 0; 0 = empty */
	__u32 bytes; /* bytes of the packets seen so far */
	__u32 gen;   /* og_config.rules_gen the lane below was resolved at */
	__u16 pkts;  /* packets seen so far (saturates) */
	__u8 syns;   /* SYNs among them (saturates at 255) */
	__u8 lane;   /* bits 0-3: OG_LANE_*, bits 4-7: OG_LSRC_* of the last SYN */
};
_Static_assert(sizeof(struct og_admit_slot) == 16, "og_admit_slot layout");
/* 2048 slots: 32 KiB per CPU. Each slot is its own per-CPU allocation, so a
 * random slot costs a pointer load and a percpu page: 8192 slots made a cold
 * SYN 20 % dearer in bench-bpf. */
#define OG_ADMIT_SLOTS 2048

/* og_seen (unpinned, BPF-private): OG_SEEN_WORDS 64-bit words, 32 KiB. */
#define OG_SEEN_WORDS_BITS 12
#define OG_SEEN_WORDS	   (1U << OG_SEEN_WORDS_BITS)

/* og_ev_gate value (per CPU, unpinned, index OG_EV_*). */
struct og_ev_gate {
	__u64 win_ns; /* ns, CLOCK_MONOTONIC (coarse): start of the current window */
	__u32 n;      /* events written in this window */
	__u32 pad;    /* zero */
};
_Static_assert(sizeof(struct og_ev_gate) == 16, "og_ev_gate layout");

/* Default map sizes; the loader may override them from config or flags. */
#define OG_DEF_FLOWS	    65536
#define OG_DEF_SRC_RULES    16384
#define OG_DEF_PORTS	    1024
#define OG_DEF_FLOW_PINS    65536
#define OG_DEF_THROTTLES    16384
#define OG_DEF_EVENTS_BYTES (256 * 1024)

/*
 * sk_reuseport steering (og_reuseport): order sources go to the reserved workers'
 * listening sockets, everyone else to the other workers'. These maps belong to one
 * daemon process (they hold its sockets) and are never pinned.
 */
/* og_rp_groups key: one SO_REUSEPORT group, i.e. one listening address. */
struct og_rp_key {
	__u16 port;  /* local port, host byte order */
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 pad;    /* zero */
};
_Static_assert(sizeof(struct og_rp_key) == 4, "og_rp_key layout");

/* og_rp_groups value: where the group's sockets sit in og_rp_socks. */
struct og_rp_group {
	__u32 base;    /* first og_rp_socks index of this group */
	__u32 n_order; /* reserved (order) workers' sockets: [base, base + n_order) */
	__u32 n_other; /* the other workers' sockets: [base + n_order, + n_other) */
	__u32 pad;     /* zero */
};
_Static_assert(sizeof(struct og_rp_group) == 16, "og_rp_group layout");
/* og_rp_src: og_lpm_key (source prefix) -> og_lane_val; lane ORDER steers to n_order. */
#define OG_RP_MAX_SOCKS	 1024
#define OG_RP_MAX_GROUPS 64
#define OG_RP_MAX_SRC	 4096

#endif /* OG_SHARED_H */
