// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* og_xdp under attack: block/throttle on every IP packet, admission, floods, the event gate. */
#include "bpf_fixture.h"

#define V4  .family = AF_INET
#define V6  .family = AF_INET6
#define TCP .proto = IPPROTO_TCP
#define UDP .proto = IPPROTO_UDP
#define SEC 1000000000ULL

/* Sources: a blocked prefix, a throttled address (rate 0: every packet drops), a clean one. */
static const char *const src_v4[] = {"10.66.0.7", "10.88.0.1", "10.90.0.1"};
static const char *const src_v6[] = {"fd00:66::7", "fd00:88::1", "fd00:90::1"};
#define S_BLOCK	   0
#define S_THROTTLE 1
#define S_CLEAN	   2

/* Every kind of IP packet a source can send. */
static const struct {
	const char *name;
	struct pkt_spec spec;
} kinds[] = {
    {"tcp syn", {V4, TCP, .tcp_flags = PKT_SYN, .sport = 41000, .dport = 9443}},
    {"tcp ack", {V4, TCP, .sport = 41001, .dport = 9443}},
    {"udp", {V4, UDP, .sport = 41002, .dport = 53}},
    {"ipv6 tcp ack", {V6, TCP, .sport = 41003, .dport = 9443}},
    {"ipv6 udp", {V6, UDP, .sport = 41004, .dport = 53}},
    {"icmp", {V4, .proto = IPPROTO_ICMP}},
    {"icmpv6", {V6, .proto = IPPROTO_ICMPV6}},
    {"gre", {V4, .proto = 47, .payload = 8}},
    {"ipv4 first fragment", {V4, UDP, .more_frags = 1, .sport = 41005, .dport = 53}},
    {"ipv4 later fragment", {V4, UDP, .frag_off = 20, .payload = 32}},
    {"ipv6 later fragment", {V6, TCP, .v6_frag = 1, .frag_off = 10, .payload = 40}},
    {"ipv6 ext chain too long",
     {V6, TCP, .v6_ext = {60, 60, 60, 60, 60, 60, 60}, .n_v6_ext = 7, .sport = 41006,
      .dport = 9443}},
    {"malformed tcp (doff 4)", {V4, TCP, .tcp_doff = 4, .sport = 41007, .dport = 9443}},
    {"malformed ipv6 tcp (doff past end)",
     {V6, TCP, .tcp_doff = 15, .sport = 41008, .dport = 9443}},
};

static int n_events[8];

static int on_event(void *ctx, void *data, size_t len)
{
	const struct og_event *ev = data;

	if (len >= sizeof(*ev) && ev->type < 8)
		n_events[ev->type]++;
	return 0;
}

static __u64 total(const struct og_lane_stats *a, const struct og_lane_stats *b, size_t off)
{
	__u64 t = 0;
	int l;

	for (l = 0; l < OG_LANE_MAX; l++)
		t += *(const __u64 *)((const char *)&a[l] + off) -
		     *(const __u64 *)((const char *)&b[l] + off);
	return t;
}
#define TOTAL(a, b, f) total(a, b, offsetof(struct og_lane_stats, f))

static __u32 send_spec(struct og_bpf *s, const struct pkt_spec *ps)
{
	struct fx_xdp_out o;
	__u8 pkt[PKT_MAX];
	size_t len = pkt_build(ps, pkt, NULL);

	fx_xdp(s, pkt, len, &o);
	return o.ret ? 0xffff : o.verdict;
}

static void throttle_put(struct og_bpf *s, const char *addr)
{
	struct og_addr_key k = {};
	struct og_throttle t = {.expires_ns = ~0ULL}; /* rate 0, burst 0: drop all */

	k.family = pkt_addr(addr, k.addr);
	bpf_map_update_elem(bpf_map__fd(s->maps.og_throttle), &k, &t, BPF_ANY);
}

static __u64 throttle_dropped(struct og_bpf *s, const char *addr)
{
	struct og_addr_key k = {};
	struct og_throttle t = {};

	k.family = pkt_addr(addr, k.addr);
	bpf_map_lookup_elem(bpf_map__fd(s->maps.og_throttle), &k, &t);
	return t.dropped;
}

/*
 * Block and throttle rules hold for every IP packet of a source: each kind is
 * sent twice (a repeat would admit a clean flow) from the blocked, the
 * throttled and a clean source. A drop costs a counter in lane none and
 * nothing else: no og_flows entry, no new flow, no event.
 */
static void every_packet(struct og_bpf *s, struct ring_buffer *rb)
{
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct og_config cfg = fx_get_cfg(s);
	size_t i;
	int who, ev0, rep;

	fx_prefix(s, "10.66.0.0/16", OG_LANE_BULK, OG_RULE_BLOCK);
	fx_prefix(s, "fd00:66::/32", OG_LANE_BULK, OG_RULE_BLOCK);
	throttle_put(s, src_v4[S_THROTTLE]);
	throttle_put(s, src_v6[S_THROTTLE]);
	cfg = fx_get_cfg(s);
	cfg.throttle_count = 2;
	fx_set_cfg(s, &cfg);
	ring_buffer__consume(rb);
	ev0 = n_events[OG_EV_BLOCK] + n_events[OG_EV_THROTTLE];

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		for (who = S_BLOCK; who <= S_CLEAN; who++) {
			struct pkt_spec ps = kinds[i].spec;
			const char *src = ps.family == AF_INET ? src_v4[who] : src_v6[who];
			__u64 thr0 = throttle_dropped(s, src);
			struct og_flow_stats fs;
			struct og_flow_key k;
			__u32 v[2];

			ps.src = src;
			fx_lanes(s, b);
			for (rep = 0; rep < 2; rep++)
				v[rep] = send_spec(s, &ps);
			fx_lanes(s, a);
			fx_key(&ps, &k);
			if (who == S_CLEAN) {
				OK(v[0] == XDP_PASS && v[1] == XDP_PASS &&
				       TOTAL(a, b, drop_block) + TOTAL(a, b, drop_throttle) == 0,
				   "%s from a clean source passes (%u %u)", kinds[i].name, v[0],
				   v[1]);
				continue;
			}
			OK(v[0] == XDP_DROP && v[1] == XDP_DROP,
			   "%s from a %s source: dropped (%u %u)", kinds[i].name,
			   who == S_BLOCK ? "blocked" : "throttled", v[0], v[1]);
			OK(who == S_BLOCK ? FX_D(a, b, OG_LANE_NONE, drop_block) == 2 &&
						TOTAL(a, b, drop_throttle) == 0
					  : FX_D(a, b, OG_LANE_NONE, drop_throttle) == 2 &&
						TOTAL(a, b, drop_block) == 0 &&
						throttle_dropped(s, src) == thr0 + 2,
			   "%s (%s): 2 drops counted in lane none under their reason",
			   kinds[i].name, who == S_BLOCK ? "block" : "throttle");
			OK(FX_D(a, b, OG_LANE_NONE, rx_pkts) == 2 && TOTAL(a, b, rx_pkts) == 2 &&
			       TOTAL(a, b, malformed) + TOTAL(a, b, other) == 0 &&
			       TOTAL(a, b, new_flows) == 0 && fx_flow(s, &k, &fs) == -ENOENT,
			   "%s (%s): no flow entry, not counted other/malformed", kinds[i].name,
			   who == S_BLOCK ? "block" : "throttle");
		}
	}
	ring_buffer__consume(rb);
	OK_EQ(n_events[OG_EV_BLOCK] + n_events[OG_EV_THROTTLE] - ev0, 2,
	      "events: only the first drop of each throttle entry (v4, v6), none for blocks");
	fx_unprefix(s, "10.66.0.0/16");
	fx_unprefix(s, "fd00:66::/32");
	fx_clear(s->maps.og_throttle);
	cfg = fx_get_cfg(s);
	cfg.throttle_count = 0;
	fx_set_cfg(s, &cfg);
}

/* The admission filter: SYNs record, the handshake's ACK admits with the counts so far. */
static void admission(struct og_bpf *s)
{
	struct pkt_spec syn = {
	    V4, TCP, .src = "10.91.0.1", .tcp_flags = PKT_SYN, .sport = 42000, .dport = 9443};
	struct pkt_spec ack = syn, udp = {V4, UDP, .src = "10.91.0.2", .sport = 42001, .dport = 53};
	struct og_flow_stats fs;
	struct og_flow_key k;
	__u8 pkt[PKT_MAX];
	size_t ls = pkt_build(&syn, pkt, NULL), la;
	int i;

	ack.tcp_flags = PKT_ACK;
	ack.payload = 20;
	la = pkt_build(&ack, pkt, NULL);
	fx_key(&syn, &k);
	for (i = 0; i < 5; i++)
		send_spec(s, &syn);
	OK(fx_flow(s, &k, &fs) == -ENOENT, "5 SYNs (retransmits) create no og_flows entry");
	send_spec(s, &ack);
	OK(fx_flow(s, &k, &fs) == 0 && fs.pkts == 6 && fs.syns == 5 && fs.bytes == 5 * ls + la &&
	       fs.lane == OG_LANE_ORDER,
	   "the ACK admits it with the SYNs' counts: pkts %llu syns %u bytes %llu lane %u",
	   (unsigned long long)fs.pkts, fs.syns, (unsigned long long)fs.bytes, fs.lane);
	fx_key(&udp, &k);
	send_spec(s, &udp);
	OK(fx_flow(s, &k, &fs) == -ENOENT, "udp: no entry after one packet");
	send_spec(s, &udp);
	OK(fx_flow(s, &k, &fs) == 0 && fs.pkts == 2, "udp: admitted by its second packet");
}

/* Writes the port rule without the rules_gen bump every writer owes: the datapath
 * must not see it until the next bump. */
static void port_nobump(struct og_bpf *s, __u32 port, __u32 lane)
{
	struct og_port_key k = {.port = port};
	struct og_lane_val v = {.lane = lane};

	bpf_map_update_elem(bpf_map__fd(s->maps.og_port_lane), &k, &v, BPF_ANY);
}

/* Sends <ps> and returns the lane og_xdp gave it in the metadata (0xff: none). */
static __u8 send_lane(struct og_bpf *s, const struct pkt_spec *ps)
{
	struct fx_xdp_out o;
	__u8 pkt[PKT_MAX];
	size_t len = pkt_build(ps, pkt, NULL);

	fx_xdp(s, pkt, len, &o);
	return o.ret || o.meta_len < sizeof(o.meta) ? 0xff : o.meta.lane;
}

/*
 * The handshake's ACK takes the classification its SYN was given, kept in the
 * og_admit slot with the rules generation it was resolved at: no second
 * resolution while rules_gen holds, a fresh one when it moved.
 */
static void admission_carries_lane(struct og_bpf *s)
{
	struct pkt_spec syn = {
	    V4, TCP, .src = "10.91.0.3", .tcp_flags = PKT_SYN, .sport = 42010, .dport = 9444};
	struct pkt_spec ack = syn;
	struct og_flow_stats fs = {};
	struct og_flow_key k;
	__u8 lane;
	int have;

	ack.tcp_flags = PKT_ACK;
	fx_port(s, 9444, OG_LANE_ORDER);
	fx_clock(s, 5000);
	OK_EQ(send_lane(s, &syn), OG_LANE_ORDER, "carry: the SYN is classified order (port)");
	/* A rule written without the bump: invisible to the datapath, so the ACK must
	 * admit on the SYN's classification, not on a second lookup of its own. */
	port_nobump(s, 9444, OG_LANE_BULK);
	fx_clock(s, 6000);
	lane = send_lane(s, &ack);
	fx_key(&syn, &k);
	have = fx_flow(s, &k, &fs) == 0;
	OK(lane == OG_LANE_ORDER && have && fs.lane == OG_LANE_ORDER &&
	       fs.lane_src == OG_LSRC_PORT && fs.gen == fx_get_cfg(s).rules_gen && fs.pkts == 2 &&
	       fs.syns == 1,
	   "carry: the ACK is admitted with the SYN's lane (ack lane %u, entry lane %u src %u "
	   "pkts %llu)",
	   lane, fs.lane, fs.lane_src, (unsigned long long)fs.pkts);
	OK(fs.first_ns == 6000 && fs.last_ns == 6000,
	   "carry: the entry's first_ns and last_ns are the admission's time (%llu %llu)",
	   (unsigned long long)fs.first_ns, (unsigned long long)fs.last_ns);

	/* The generation moved between SYN and ACK: the slot's lane is stale. */
	syn.sport = ack.sport = 42011;
	fx_port(s, 9444, OG_LANE_ORDER);
	send_lane(s, &syn);
	fx_port(s, 9444, OG_LANE_BULK);
	lane = send_lane(s, &ack);
	fx_key(&syn, &k);
	have = fx_flow(s, &k, &fs) == 0;
	OK(lane == OG_LANE_BULK && have && fs.lane == OG_LANE_BULK &&
	       fs.gen == fx_get_cfg(s).rules_gen && fs.pkts == 2,
	   "carry: after a rules_gen bump the ACK is classified afresh (lane %u, entry %u)", lane,
	   fs.lane);

	/* A pin already there at the SYN belongs to an earlier connection on the same
	 * 4-tuple: the ACK is admitted on the SYN's lane, as the SYN was classified.
	 * A pin written after admission reaches the flow on its next packet. */
	syn.sport = ack.sport = 42012;
	fx_key(&syn, &k);
	fx_pin_hinted(s, &k, OG_LANE_NORMAL);
	send_lane(s, &syn);
	lane = send_lane(s, &ack);
	have = fx_flow(s, &k, &fs) == 0;
	OK(lane == OG_LANE_BULK && have && fs.lane == OG_LANE_BULK && fs.lane_src == OG_LSRC_PORT,
	   "carry: a stale pin does not reach the new connection's ACK (lane %u src %u)", lane,
	   fs.lane_src);
	fx_pin_hinted(s, &k, OG_LANE_ORDER);
	lane = send_lane(s, &ack);
	have = fx_flow(s, &k, &fs) == 0;
	OK(lane == OG_LANE_ORDER && have && fs.lane == OG_LANE_ORDER &&
	       fs.lane_src == OG_LSRC_PIN && fs.pkts == 3,
	   "carry: a pin hinted after admission holds from the next packet (lane %u src %u)", lane,
	   fs.lane_src);
	fx_pin_hinted(s, &k, 0);
	fx_clock(s, 1000);
}

/*
 * A spoofed-source flood 30 times og_flows' size (1024 entries) leaves the
 * established flows in place, even ones idle throughout it (an order
 * connection between two orders), and they keep counting. Random sources send
 * a SYN and its retransmit, a bare ACK, or a UDP datagram.
 */
static void flood(void)
{
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct og_config cfg = fx_cfg_default();
	struct pkt_spec est[8];
	struct og_flow_stats fs;
	struct og_flow_key k;
	char addr[8][32], fsrc[32];
	__u64 before[8];
	struct og_bpf *s;
	int i, present = 0, grew = 0, n = 30000, sent = 0;
	__u64 rng = 88172645463325252ULL;

	s = fx_load_sized(1024);
	OK(s != NULL, "flood: skeleton with a 1024-entry og_flows");
	if (!s)
		return;
	fx_set_cfg(s, &cfg);
	fx_clock(s, 1000);
	fx_port(s, 9443, OG_LANE_ORDER);
	for (i = 0; i < 8; i++) {
		snprintf(addr[i], sizeof(addr[i]), "10.92.0.%d", i + 1);
		est[i] = (struct pkt_spec){V4,
					   TCP,
					   .src = addr[i],
					   .sport = 43000 + i,
					   .dport = 9443,
					   .tcp_flags = PKT_SYN};
		send_spec(s, &est[i]);
		est[i].tcp_flags = PKT_ACK;
		send_spec(s, &est[i]);
		fx_key(&est[i], &k);
		present += fx_flow(s, &k, &fs) == 0;
		before[i] = fs.pkts;
	}
	OK_EQ(present, 8, "flood: 8 established order flows in og_flows");
	fx_lanes(s, b);
	for (i = 0; i < n; i++) {
		struct pkt_spec f = {V4, TCP, .dport = 9443, .tcp_flags = PKT_SYN};

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		snprintf(fsrc, sizeof(fsrc), "100.%u.%u.%u", 64 + (unsigned)(rng >> 8 & 63),
			 (unsigned)(rng >> 16 & 255), (unsigned)(rng >> 24 & 255));
		f.src = fsrc;
		f.sport = rng >> 32;
		if (i % 3 == 1)
			f.tcp_flags = PKT_ACK;
		else if (i % 3 == 2)
			f.proto = IPPROTO_UDP;
		send_spec(s, &f);
		/* A SYN flooder may well repeat a source, like a retransmit. */
		if (i % 3 == 0) {
			send_spec(s, &f);
			sent++;
		}
		sent++;
	}
	fx_lanes(s, a);
	OK(FX_D(a, b, OG_LANE_ORDER, rx_pkts) + FX_D(a, b, OG_LANE_NORMAL, rx_pkts) ==
		   (__u64)sent &&
	       TOTAL(a, b, stateless) == (__u64)sent && TOTAL(a, b, new_flows) == 0,
	   "flood: %d spoofed packets from %d sources classified (tcp order, udp normal), all "
	   "stateless, no new flow",
	   sent, n);
	/* Presence is read before the next packet: an evicted flow would be re-created. */
	present = 0;
	for (i = 0; i < 8; i++) {
		fx_key(&est[i], &k);
		if (fx_flow(s, &k, &fs) != 0)
			continue;
		present++;
		send_spec(s, &est[i]);
		fx_flow(s, &k, &fs);
		grew += fs.pkts > before[i];
	}
	OK_EQ(present, 8, "flood: every established flow is still in og_flows");
	OK_EQ(grew, 8, "flood: and their counters kept growing");
	OK_EQ(fx_flows_count(s), 8,
	      "flood: og_flows holds the 8 established flows and nothing else");
	og_bpf__destroy(s);
}

/* At most OG_EV_PER_WIN events per kind per CPU per second; the rest are counted. */
static void event_gate(struct og_bpf *s, struct ring_buffer *rb)
{
	struct pkt_spec bad = {V4, TCP, .tcp_doff = 4, .sport = 44000, .dport = 80};
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	int i, ev0;

	ring_buffer__consume(rb);
	fx_clock(s, 100 * SEC);
	ev0 = n_events[OG_EV_MALFORMED];
	fx_lanes(s, b);
	for (i = 0; i < 1000; i++)
		send_spec(s, &bad);
	fx_lanes(s, a);
	ring_buffer__consume(rb);
	OK_EQ(n_events[OG_EV_MALFORMED] - ev0, OG_EV_PER_WIN,
	      "1000 malformed packets in one instant: OG_EV_PER_WIN events");
	OK(FX_D(a, b, OG_LANE_NONE, malformed) == 1000 &&
	       FX_D(a, b, OG_LANE_NONE, ev_suppressed) == 1000 - OG_EV_PER_WIN,
	   "all 1000 counted malformed, %d as ev_suppressed", 1000 - OG_EV_PER_WIN);
	fx_clock(s, 100 * SEC + SEC / 2);
	for (i = 0; i < 10; i++)
		send_spec(s, &bad);
	ring_buffer__consume(rb);
	OK_EQ(n_events[OG_EV_MALFORMED] - ev0, OG_EV_PER_WIN, "half a second later: still closed");
	fx_clock(s, 101 * SEC);
	for (i = 0; i < 100; i++)
		send_spec(s, &bad);
	ring_buffer__consume(rb);
	OK_EQ(n_events[OG_EV_MALFORMED] - ev0, 2 * OG_EV_PER_WIN,
	      "a second later: the next window lets OG_EV_PER_WIN more through");
}

/* Empties og_seen, as a fresh og_xdp starts it: every flow's bit is lost. */
static void seen_clear(struct og_bpf *s)
{
	__u64 zero = 0;
	__u32 i;

	for (i = 0; i < OG_SEEN_WORDS; i++)
		bpf_map_update_elem(bpf_map__fd(s->maps.og_seen), &i, &zero, BPF_ANY);
}

/* Sends <ps> once; returns its flow's og_flows pkts (0: none) and adds to *stateless
 * whether og_xdp counted the packet stateless. */
static __u64 seen_send(struct og_bpf *s, const struct pkt_spec *ps, int *stateless, __u8 *lane)
{
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct og_flow_stats fs;
	struct og_flow_key k;

	fx_lanes(s, b);
	*lane = send_lane(s, ps);
	fx_lanes(s, a);
	*stateless += (int)TOTAL(a, b, stateless);
	fx_key(ps, &k);
	return fx_flow(s, &k, &fs) ? 0 : fs.pkts;
}

/*
 * og_seen (seen.h) only spares floods the og_flows probe: a flow whose bit is
 * lost (a new og_xdp, a long idle) is classified in full, pin and source gate
 * included, and is back in its entry within two packets; a flow that sends at
 * least once an epoch (17.2 s) keeps its bit.
 */
static void seen_filter(struct og_bpf *s)
{
	struct pkt_spec p = {V4, TCP, .src = "10.92.0.1", .sport = 42100, .dport = 9443};
	struct pkt_spec q = {V4, TCP, .src = "10.92.0.2", .sport = 42101, .dport = 9443};
	__u64 t = 3 * SEC, pk;
	struct og_flow_key k;
	int st = 0, i, ok;
	__u8 lane;

	fx_clock(s, t);
	seen_send(s, &p, &st, &lane);
	pk = seen_send(s, &p, &st, &lane);
	OK(pk == 2 && st == 1, "seen: admitted on its second packet (pkts %llu, stateless %d)",
	   (unsigned long long)pk, st);
	st = 0;
	pk = seen_send(s, &p, &st, &lane);
	OK(pk == 3 && st == 0, "seen: the third packet finds its entry (pkts %llu, stateless %d)",
	   (unsigned long long)pk, st);

	/* Lost bit with a pin on the flow: full classification, the pin included. */
	fx_key(&p, &k);
	fx_pin_hinted(s, &k, OG_LANE_BULK);
	seen_clear(s);
	st = 0;
	pk = seen_send(s, &p, &st, &lane);
	OK(pk == 3 && st == 1 && lane == OG_LANE_BULK,
	   "seen: bit lost: the packet goes stateless with its pinned lane (pkts %llu, stateless "
	   "%d, lane %u)",
	   (unsigned long long)pk, st, lane);
	pk = seen_send(s, &p, &st, &lane);
	OK(pk == 3 && st == 2 && lane == OG_LANE_BULK,
	   "seen: the next one finds the entry on admission and sets the bit (pkts %llu, lane %u)",
	   (unsigned long long)pk, lane);
	pk = seen_send(s, &p, &st, &lane);
	OK(pk == 4 && st == 2 && lane == OG_LANE_BULK,
	   "seen: and the flow counts in its entry again (pkts %llu, stateless %d, lane %u)",
	   (unsigned long long)pk, st, lane);
	fx_pin_hinted(s, &k, 0);

	/* Lost bit on a source blocked meanwhile: the source gate still drops it. */
	fx_prefix(s, "10.92.0.1/32", 0, OG_RULE_BLOCK);
	seen_clear(s);
	OK_EQ(send_spec(s, &p), XDP_DROP, "seen: bit lost, source blocked since: dropped");
	fx_unprefix(s, "10.92.0.1/32");

	/* Aging: a packet every 10 s for 2 minutes keeps the bit; 40 s of silence loses it. */
	seen_send(s, &q, &st, &lane);
	seen_send(s, &q, &st, &lane);
	st = 0;
	ok = 1;
	for (i = 0; i < 12; i++) {
		t += 10 * SEC;
		fx_clock(s, t);
		pk = seen_send(s, &q, &st, &lane);
		ok &= pk == (__u64)i + 3;
	}
	OK(ok && st == 0, "seen: a flow active every 10 s stays in its entry (stateless %d)", st);
	t += 40 * SEC;
	fx_clock(s, t);
	pk = seen_send(s, &q, &st, &lane);
	seen_send(s, &q, &st, &lane);
	OK(pk == 14 && st == 2, "seen: after 40 s idle, two packets stateless (%d)", st);
	pk = seen_send(s, &q, &st, &lane);
	OK(pk == 15 && st == 2 && lane == OG_LANE_ORDER,
	   "seen: then back in its entry (pkts %llu, lane %u)", (unsigned long long)pk, lane);
}

int main(void)
{
	struct og_config cfg = fx_cfg_default();
	struct ring_buffer *rb;
	struct og_bpf *s;

	s = fx_load();
	OK(s != NULL, "skeleton loads unpinned with the test clock");
	if (!s)
		return og_done();
	rb = ring_buffer__new(bpf_map__fd(s->maps.og_events), on_event, NULL, NULL);
	fx_clock(s, 1000);
	fx_set_cfg(s, &cfg);
	fx_port(s, 9443, OG_LANE_ORDER);
	every_packet(s, rb);
	admission(s);
	admission_carries_lane(s);
	seen_filter(s);
	event_gate(s, rb);
	ring_buffer__free(rb);
	og_bpf__destroy(s);
	flood();
	return og_done();
}
