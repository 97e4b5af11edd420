// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* og_xdp fixtures through BPF_PROG_TEST_RUN: parsing, lanes, counters, flows, metadata, drops. */
#include "bpf_fixture.h"

#define C_NONE	    0 /* no reason counter */
#define C_OTHER	    1
#define C_MALFORMED 2
#define C_FRAG	    3
#define C_BLOCK	    4

struct xcase {
	const char *name;
	struct pkt_spec spec;
	__u32 verdict;
	__u8 lane;
	__u8 lane_src;
	int counter; /* C_* expected to rise by one in <lane> */
	int flow;    /* 1: the 2nd packet gets an og_flows entry (admission) */
};

#define V4  .family = AF_INET
#define V6  .family = AF_INET6
#define TCP .proto = IPPROTO_TCP
#define UDP .proto = IPPROTO_UDP

/* Rules for the table: port 9443 -> order, 10.20.0.0/16 and fd00:20::/32 -> bulk. */
static const struct xcase cases[] = {
    {"ipv4 tcp default",
     {V4, TCP, .sport = 40001, .dport = 80},
     XDP_PASS,
     OG_LANE_NORMAL,
     OG_LSRC_DEFAULT,
     C_NONE,
     1},
    {"ipv4 udp default",
     {V4, UDP, .sport = 40002, .dport = 53, .payload = 20},
     XDP_PASS,
     OG_LANE_NORMAL,
     OG_LSRC_DEFAULT,
     C_NONE,
     1},
    {"ipv4 tcp port lane",
     {V4, TCP, .sport = 40003, .dport = 9443, .payload = 100},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     1},
    {"ipv4 udp port lane",
     {V4, UDP, .sport = 40004, .dport = 9443},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     1},
    {"ipv6 tcp port lane",
     {V6, TCP, .sport = 40005, .dport = 9443},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     1},
    {"ipv6 udp default",
     {V6, UDP, .sport = 40006, .dport = 5353},
     XDP_PASS,
     OG_LANE_NORMAL,
     OG_LSRC_DEFAULT,
     C_NONE,
     1},
    {"ipv4 prefix beats port",
     {V4, TCP, .src = "10.20.3.4", .sport = 40007, .dport = 9443},
     XDP_PASS,
     OG_LANE_BULK,
     OG_LSRC_PREFIX,
     C_NONE,
     1},
    {"ipv6 prefix beats port",
     {V6, UDP, .src = "fd00:20::9", .sport = 40008, .dport = 9443},
     XDP_PASS,
     OG_LANE_BULK,
     OG_LSRC_PREFIX,
     C_NONE,
     1},
    {"vlan ipv4 tcp",
     {.vlans = 1, V4, TCP, .sport = 40009, .dport = 9443},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     1},
    {"qinq ipv6 tcp",
     {.vlans = 2, V6, TCP, .sport = 40010, .dport = 9443},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     1},
    {"qinq ipv4 udp",
     {.vlans = 2, V4, UDP, .sport = 40011, .dport = 80},
     XDP_PASS,
     OG_LANE_NORMAL,
     OG_LSRC_DEFAULT,
     C_NONE,
     1},
    {"three vlan tags is other",
     {.vlans = 3, V4, TCP, .sport = 40012, .dport = 9443},
     XDP_PASS,
     OG_LANE_NONE,
     OG_LSRC_NONE,
     C_OTHER,
     0},
    {"ipv4 options tcp",
     {V4, TCP, .ip_opt_words = 3, .sport = 40013, .dport = 9443},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     1},
    {"ipv4 max options udp",
     {V4, UDP, .ip_opt_words = 10, .sport = 40014, .dport = 9443},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     1},
    {"ipv4 first fragment",
     {V4, TCP, .more_frags = 1, .sport = 40015, .dport = 9443},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     1},
    {"ipv4 later fragment: address only",
     {V4, TCP, .src = "10.0.9.1", .frag_off = 100, .more_frags = 1, .payload = 64},
     XDP_PASS,
     OG_LANE_NORMAL,
     OG_LSRC_DEFAULT,
     C_FRAG,
     1},
    {"ipv4 later fragment: prefix",
     {V4, UDP, .src = "10.20.9.9", .frag_off = 7, .payload = 8},
     XDP_PASS,
     OG_LANE_BULK,
     OG_LSRC_PREFIX,
     C_FRAG,
     1},
    {"ipv6 hop+routing+dstopts tcp",
     {V6, TCP, .v6_ext = {0, 43, 60}, .n_v6_ext = 3, .sport = 40016, .dport = 9443},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     1},
    {"ipv6 ah udp",
     {V6, UDP, .v6_ext = {51}, .n_v6_ext = 1, .sport = 40017, .dport = 9443},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     1},
    {"ipv6 first fragment",
     {V6, TCP, .v6_frag = 1, .more_frags = 1, .sport = 40018, .dport = 9443},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     1},
    {"ipv6 later fragment",
     {V6, TCP, .src = "fd00::99", .v6_ext = {0}, .n_v6_ext = 1, .v6_frag = 1, .frag_off = 10,
      .payload = 40},
     XDP_PASS,
     OG_LANE_NORMAL,
     OG_LSRC_DEFAULT,
     C_FRAG,
     1},
    {"ipv6 ext chain too long is other",
     {V6, TCP, .v6_ext = {60, 60, 60, 60, 60, 60, 60}, .n_v6_ext = 7, .sport = 40019,
      .dport = 9443},
     XDP_PASS,
     OG_LANE_NONE,
     OG_LSRC_NONE,
     C_OTHER,
     0},
    {"tcp doff 4 is malformed",
     {V4, TCP, .tcp_doff = 4, .sport = 40020, .dport = 9443},
     XDP_PASS,
     OG_LANE_NONE,
     OG_LSRC_NONE,
     C_MALFORMED,
     0},
    {"tcp doff 0 is malformed",
     {V6, TCP, .tcp_doff = 0xf0, .sport = 40021, .dport = 80},
     XDP_PASS,
     OG_LANE_NONE,
     OG_LSRC_NONE,
     C_MALFORMED,
     0},
    {"tcp doff past the end is malformed",
     {V4, TCP, .tcp_doff = 15, .sport = 40022, .dport = 80},
     XDP_PASS,
     OG_LANE_NONE,
     OG_LSRC_NONE,
     C_MALFORMED,
     0},
    {"ipv4 ihl 4 is malformed",
     {V4, TCP, .ihl = 4, .sport = 40023, .dport = 80},
     XDP_PASS,
     OG_LANE_NONE,
     OG_LSRC_NONE,
     C_MALFORMED,
     0},
    /* SYNs alone never get og_flows state (admit.h): classified, counted, stateless. */
    {"tcp options and syn",
     {V4, TCP, .tcp_opt_words = 3, .tcp_flags = PKT_SYN, .sport = 40024, .dport = 9443},
     XDP_PASS,
     OG_LANE_ORDER,
     OG_LSRC_PORT,
     C_NONE,
     0},
    {"arp is other", {.ethertype = 0x0806}, XDP_PASS, OG_LANE_NONE, OG_LSRC_NONE, C_OTHER, 0},
    {"vlan arp is other",
     {.vlans = 1, .ethertype = 0x0806},
     XDP_PASS,
     OG_LANE_NONE,
     OG_LSRC_NONE,
     C_OTHER,
     0},
    {"non-ip ethertype is other",
     {.ethertype = 0x88b5, .payload = 46},
     XDP_PASS,
     OG_LANE_NONE,
     OG_LSRC_NONE,
     C_OTHER,
     0},
    {"icmp is other",
     {V4, .proto = IPPROTO_ICMP},
     XDP_PASS,
     OG_LANE_NONE,
     OG_LSRC_NONE,
     C_OTHER,
     0},
    {"icmpv6 is other",
     {V6, .proto = IPPROTO_ICMPV6},
     XDP_PASS,
     OG_LANE_NONE,
     OG_LSRC_NONE,
     C_OTHER,
     0},
};

static int n_events[8];

static int on_event(void *ctx, void *data, size_t len)
{
	const struct og_event *ev = data;

	if (len >= sizeof(*ev) && ev->type < 8)
		n_events[ev->type]++;
	return 0;
}

static __u64 counter_of(const struct og_lane_stats *l, int c)
{
	switch (c) {
	case C_OTHER:
		return l->other;
	case C_MALFORMED:
		return l->malformed;
	case C_FRAG:
		return l->fragments;
	case C_BLOCK:
		return l->drop_block;
	}
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

/* Runs one table case three times: the first packet is classified without
 * state, the second is admitted into og_flows (carrying the first's counts),
 * the third takes the known-flow path. */
static void run_case(struct og_bpf *s, struct ring_buffer *rb, const struct xcase *c)
{
	struct og_lane_stats before[OG_LANE_MAX], after[OG_LANE_MAX];
	struct og_flow_stats fs;
	struct og_flow_key k;
	struct fx_xdp_out o;
	__u8 pkt[PKT_MAX];
	size_t len;
	int round, ev_mal = n_events[OG_EV_MALFORMED];

	len = pkt_build(&c->spec, pkt, NULL);
	OK(len > 0, "%s: packet builds", c->name);
	if (!len)
		return;
	fx_key(&c->spec, &k);
	fx_flow_del(s, &k);
	for (round = 1; round <= 3; round++) {
		int has_flow = c->flow && round >= 2;

		fx_lanes(s, before);
		fx_xdp(s, pkt, len, &o);
		fx_lanes(s, after);
		OK(o.ret == 0 && o.verdict == c->verdict, "%s #%d: verdict %u (want %u, run %d)",
		   c->name, round, o.verdict, c->verdict, o.ret);
		OK(o.meta_len == sizeof(struct og_xdp_meta) && o.meta.magic == OG_META_MAGIC &&
		       o.meta.lane == c->lane && o.meta.lane_src == c->lane_src,
		   "%s #%d: metadata len %u magic %#x lane %u src %u", c->name, round, o.meta_len,
		   o.meta.magic, o.meta.lane, o.meta.lane_src);
		OK(FX_D(after, before, c->lane, rx_pkts) == 1 &&
		       TOTAL(after, before, rx_pkts) == 1 &&
		       FX_D(after, before, c->lane, rx_bytes) == len,
		   "%s #%d: counted once, in lane %u, %zu bytes", c->name, round, c->lane, len);
		OK(c->counter == C_NONE || counter_of(&after[c->lane], c->counter) -
						   counter_of(&before[c->lane], c->counter) ==
					       1,
		   "%s #%d: reason counter %d rose", c->name, round, c->counter);
		OK(TOTAL(after, before, other) == (c->counter == C_OTHER) &&
		       TOTAL(after, before, malformed) == (c->counter == C_MALFORMED) &&
		       TOTAL(after, before, fragments) == (c->counter == C_FRAG) &&
		       TOTAL(after, before, drop_block) + TOTAL(after, before, drop_throttle) +
			       TOTAL(after, before, drop_error) ==
			   0,
		   "%s #%d: no other counter moved", c->name, round);
		OK_EQ(TOTAL(after, before, new_flows), c->flow && round == 2, "new_flows");
		if (c->flow || c->spec.tcp_flags == PKT_SYN)
			OK_EQ(TOTAL(after, before, stateless), !has_flow, "stateless");
		if (has_flow) {
			OK(fx_flow(s, &k, &fs) == 0 && fs.pkts == (__u64)round &&
			       fs.bytes == round * len && fs.lane == c->lane &&
			       fs.lane_src == c->lane_src && fs.gen == fx_get_cfg(s).rules_gen &&
			       !fs.blocked && fs.first_ns == 1000 && fs.last_ns == 1000 &&
			       fs.syns == 0,
			   "%s #%d: og_flows pkts %llu bytes %llu lane %u src %u syns %u", c->name,
			   round, (unsigned long long)fs.pkts, (unsigned long long)fs.bytes,
			   fs.lane, fs.lane_src, fs.syns);
		} else {
			OK(fx_flow(s, &k, &fs) == -ENOENT, "%s #%d: no og_flows entry", c->name,
			   round);
		}
	}
	ring_buffer__consume(rb);
	if (c->counter == C_MALFORMED)
		OK_EQ(n_events[OG_EV_MALFORMED] - ev_mal, 3, "malformed events");
}

/* Every prefix of a frame shorter than its L4 header end is malformed and
 * unclassified; from the L4 end on, the frame is classified normally. */
static void run_truncation(struct og_bpf *s, const char *name, const struct pkt_spec *ps,
			   __u8 want_lane)
{
	struct og_lane_stats before[OG_LANE_MAX], after[OG_LANE_MAX];
	struct pkt_layout lay;
	struct og_flow_stats fs;
	struct og_flow_key k;
	struct fx_xdp_out o;
	__u8 pkt[PKT_MAX];
	size_t len, n;
	int bad = 0, good = 0, ok_bad = 0, ok_good = 0;

	len = pkt_build(ps, pkt, &lay);
	fx_key(ps, &k);
	for (n = 14; n <= len; n++) {
		int want_bad = n < lay.l4_end;

		fx_flow_del(s, &k);
		/* A complete frame's first packet only records it; the measured one is
		 * admitted. A malformed one must not be, however often it repeats. */
		fx_xdp(s, pkt, n, &o);
		fx_lanes(s, before);
		fx_xdp(s, pkt, n, &o);
		fx_lanes(s, after);
		if (want_bad) {
			bad++;
			if (o.ret == 0 && o.verdict == XDP_PASS &&
			    FX_D(after, before, OG_LANE_NONE, malformed) == 1 &&
			    FX_D(after, before, OG_LANE_NONE, rx_pkts) == 1 &&
			    TOTAL(after, before, rx_pkts) == 1 && o.meta.lane == OG_LANE_NONE &&
			    fx_flow(s, &k, &fs) == -ENOENT)
				ok_bad++;
			else
				og_diag("%s: %zu of %zu bytes not counted malformed", name, n, len);
		} else {
			good++;
			if (o.ret == 0 && o.verdict == XDP_PASS &&
			    FX_D(after, before, want_lane, rx_pkts) == 1 &&
			    TOTAL(after, before, malformed) == 0 && o.meta.lane == want_lane &&
			    fx_flow(s, &k, &fs) == 0 && fs.lane == want_lane)
				ok_good++;
			else
				og_diag("%s: %zu of %zu bytes not classified", name, n, len);
		}
	}
	OK(bad > 0 && ok_bad == bad,
	   "%s: truncated at every byte %d..%zu (l2 %zu l3 %zu l4 %zu): "
	   "%d/%d malformed",
	   name, 14, lay.l4_end - 1, lay.l2_end, lay.l3_end, lay.l4_end, ok_bad, bad);
	OK(good > 0 && ok_good == good, "%s: %d/%d complete lengths classified", name, ok_good,
	   good);
}

int main(void)
{
	struct og_config cfg = fx_cfg_default();
	struct ring_buffer *rb;
	struct og_bpf *s;
	size_t i;

	s = fx_load();
	OK(s != NULL, "skeleton loads unpinned with the test clock");
	if (!s)
		return og_done();
	rb = ring_buffer__new(bpf_map__fd(s->maps.og_events), on_event, NULL, NULL);
	OK(rb != NULL, "event ring buffer opens");
	fx_clock(s, 1000);
	OK(fx_set_cfg(s, &cfg) == 0, "config written");
	OK(fx_port(s, 9443, OG_LANE_ORDER) == 0, "port rule");
	OK(fx_prefix(s, "10.20.0.0/16", OG_LANE_BULK, 0) == 0, "ipv4 prefix rule");
	OK(fx_prefix(s, "fd00:20::/32", OG_LANE_BULK, 0) == 0, "ipv6 prefix rule");

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(s, rb, &cases[i]);

	{
		struct pkt_spec t1 = {.vlans = 1,
				      V4,
				      TCP,
				      .ip_opt_words = 2,
				      .tcp_opt_words = 2,
				      .sport = 41001,
				      .dport = 9443,
				      .payload = 3};
		struct pkt_spec t2 = {.vlans = 2,
				      V6,
				      TCP,
				      .v6_ext = {0, 60},
				      .n_v6_ext = 2,
				      .sport = 41002,
				      .dport = 9443};
		struct pkt_spec t3 = {
		    .vlans = 2, V4, UDP, .sport = 41003, .dport = 53, .payload = 2};
		struct pkt_spec t4 = {V6,
				      UDP,
				      .v6_ext = {51},
				      .n_v6_ext = 1,
				      .v6_frag = 1,
				      .more_frags = 1,
				      .sport = 41004,
				      .dport = 9443};
		struct pkt_spec t5 = {V4, TCP, .sport = 41005, .dport = 80};

		run_truncation(s, "vlan ipv4+opts tcp+opts", &t1, OG_LANE_ORDER);
		run_truncation(s, "qinq ipv6+ext tcp", &t2, OG_LANE_ORDER);
		run_truncation(s, "qinq ipv4 udp", &t3, OG_LANE_NORMAL);
		run_truncation(s, "ipv6 ah+frag udp", &t4, OG_LANE_ORDER);
		run_truncation(s, "plain ipv4 tcp", &t5, OG_LANE_NORMAL);
	}

	ring_buffer__free(rb);
	og_bpf__destroy(s);
	return og_done();
}
