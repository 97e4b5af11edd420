// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* og_xdp lane precedence, rules_gen caching, block rules, the enabled switch, the clock. */
#include <time.h>

#include "bpf_fixture.h"

#define V4  .family = AF_INET
#define V6  .family = AF_INET6
#define TCP .proto = IPPROTO_TCP
#define UDP .proto = IPPROTO_UDP

static int n_events[8];

static int on_event(void *ctx, void *data, size_t len)
{
	const struct og_event *ev = data;

	if (len >= sizeof(*ev) && ev->type < 8)
		n_events[ev->type]++;
	return 0;
}

#define TOTAL_NEW(a, b)                                                                            \
	((a)[0].new_flows + (a)[1].new_flows + (a)[2].new_flows + (a)[3].new_flows -               \
	 (b)[0].new_flows - (b)[1].new_flows - (b)[2].new_flows - (b)[3].new_flows)

/* Sends one packet; returns the verdict and fills the flow entry (or zeroes). */
static __u32 xsend(struct og_bpf *s, const struct pkt_spec *ps, struct og_xdp_meta *meta,
		   struct og_flow_stats *fs)
{
	struct og_flow_key k;
	struct fx_xdp_out o;
	__u8 pkt[PKT_MAX];
	size_t len = pkt_build(ps, pkt, NULL);

	fx_xdp(s, pkt, len, &o);
	if (meta)
		*meta = o.meta;
	fx_key(ps, &k);
	if (fs && fx_flow(s, &k, fs))
		memset(fs, 0, sizeof(*fs));
	return o.ret ? 0xffff : o.verdict;
}

static void lane_is(struct og_bpf *s, const char *what, const struct pkt_spec *ps, __u8 lane,
		    __u8 src)
{
	struct og_flow_stats fs;
	struct og_xdp_meta m;
	__u32 v;

	/* The first packet of a new flow is classified without state; the second
	 * is admitted into og_flows (admit.h), so both sources of the lane show. */
	xsend(s, ps, NULL, NULL);
	v = xsend(s, ps, &m, &fs);
	OK(v == XDP_PASS && m.lane == lane && m.lane_src == src && fs.lane == lane &&
	       fs.lane_src == src,
	   "%s: lane %u src %u (want %u/%u; flow %u/%u)", what, m.lane, m.lane_src, lane, src,
	   fs.lane, fs.lane_src);
}

static void precedence(struct og_bpf *s)
{
	struct pkt_spec a = {V4, TCP, .src = "10.30.5.9", .sport = 50001, .dport = 9443};
	struct pkt_spec b = {V4, TCP, .src = "10.30.6.1", .sport = 50002, .dport = 9443};
	struct pkt_spec c = {V4, TCP, .src = "10.99.0.1", .sport = 50003, .dport = 9443};
	struct pkt_spec d = {V4, TCP, .src = "10.99.0.1", .sport = 50004, .dport = 80};
	struct pkt_spec e = {V6, UDP, .src = "fd00:30:0:5::7", .sport = 50005, .dport = 80};
	struct pkt_spec f = {V6, UDP, .src = "fd00:30:0:6::7", .sport = 50006, .dport = 80};
	struct pkt_spec g = {V4, TCP, .src = "10.30.5.9", .sport = 50007, .dport = 9443};
	struct og_config cfg;
	struct og_flow_key k;

	OK(fx_prefix(s, "10.30.0.0/16", OG_LANE_BULK, 0) == 0, "rule 10.30.0.0/16 -> bulk");
	OK(fx_prefix(s, "10.30.5.0/24", OG_LANE_ORDER, 0) == 0, "rule 10.30.5.0/24 -> order");
	OK(fx_prefix(s, "fd00:30::/32", OG_LANE_BULK, 0) == 0, "rule fd00:30::/32 -> bulk");
	OK(fx_prefix(s, "fd00:30:0:5::/64", OG_LANE_ORDER, 0) == 0,
	   "rule fd00:30:0:5::/64 -> order");
	OK(fx_port(s, 9443, OG_LANE_ORDER) == 0, "rule port 9443 -> order");
	OK(fx_port(s, 8080, OG_LANE_BULK) == 0, "rule port 8080 -> bulk");

	lane_is(s, "longest ipv4 prefix wins", &a, OG_LANE_ORDER, OG_LSRC_PREFIX);
	lane_is(s, "shorter ipv4 prefix", &b, OG_LANE_BULK, OG_LSRC_PREFIX);
	lane_is(s, "port without prefix", &c, OG_LANE_ORDER, OG_LSRC_PORT);
	lane_is(s, "default without rules", &d, OG_LANE_NORMAL, OG_LSRC_DEFAULT);
	lane_is(s, "longest ipv6 prefix wins", &e, OG_LANE_ORDER, OG_LSRC_PREFIX);
	lane_is(s, "shorter ipv6 prefix", &f, OG_LANE_BULK, OG_LSRC_PREFIX);

	/* A pin beats the prefix, on the exact flow only. */
	fx_key(&g, &k);
	OK(fx_pin(s, &k, OG_LANE_BULK) == 0, "pin flow -> bulk");
	lane_is(s, "pin beats longest prefix", &g, OG_LANE_BULK, OG_LSRC_PIN);
	lane_is(s, "pin is per flow", &a, OG_LANE_ORDER, OG_LSRC_PREFIX);

	/* A prefix rule with no lane only blocks or nothing: the port decides. */
	OK(fx_prefix(s, "10.99.0.0/16", OG_LANE_NONE, 0) == 0, "rule 10.99.0.0/16 without lane");
	lane_is(s, "lane-less prefix falls through to port", &c, OG_LANE_ORDER, OG_LSRC_PORT);

	/* The default lane follows og_config; 0 means normal. */
	cfg = fx_get_cfg(s);
	cfg.default_lane = OG_LANE_BULK;
	cfg.rules_gen++;
	fx_set_cfg(s, &cfg);
	lane_is(s, "default lane from config", &d, OG_LANE_BULK, OG_LSRC_DEFAULT);
	cfg.default_lane = 0;
	cfg.rules_gen++;
	fx_set_cfg(s, &cfg);
	lane_is(s, "default lane 0 means normal", &d, OG_LANE_NORMAL, OG_LSRC_DEFAULT);
}

/* The lane is cached per flow until rules_gen moves. */
static void generation(struct og_bpf *s)
{
	struct pkt_spec p = {V4, TCP, .src = "10.40.0.1", .sport = 50100, .dport = 7000};
	struct og_port_key pk = {.port = 7000};
	struct og_lane_val lv = {.lane = OG_LANE_ORDER};
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct og_flow_stats fs;

	lane_is(s, "gen: resolved to default", &p, OG_LANE_NORMAL, OG_LSRC_DEFAULT);
	/* Write a rule without bumping rules_gen: the cached lane stays. */
	bpf_map_update_elem(bpf_map__fd(s->maps.og_port_lane), &pk, &lv, BPF_ANY);
	lane_is(s, "gen: cached lane kept while rules_gen is unchanged", &p, OG_LANE_NORMAL,
		OG_LSRC_DEFAULT);
	fx_bump_gen(s);
	fx_lanes(s, b);
	lane_is(s, "gen: bump re-resolves the cached flow", &p, OG_LANE_ORDER, OG_LSRC_PORT);
	fx_lanes(s, a);
	OK_EQ(a[OG_LANE_ORDER].new_flows - b[OG_LANE_ORDER].new_flows, 0,
	      "re-resolution is not a new flow");
	xsend(s, &p, NULL, &fs);
	OK(fs.pkts == 7 && fs.gen == fx_get_cfg(s).rules_gen, "gen: flow kept its counters (%llu)",
	   (unsigned long long)fs.pkts);
}

/*
 * A blocked source without flow state costs one LPM lookup and a drop counted
 * in lane none: no flow entry, no event, whatever the protocol. A flow that
 * had state when the block arrived is dropped on its cached verdict, in its
 * lane, with one OG_EV_BLOCK.
 */
static void blocking(struct og_bpf *s, struct ring_buffer *rb)
{
	struct pkt_spec t = {V4, TCP, .src = "10.66.1.1", .sport = 50200, .dport = 9443};
	struct pkt_spec u = {V6, UDP, .src = "fd00:66::1", .sport = 50201, .dport = 53};
	struct pkt_spec icmp = {V4, .proto = IPPROTO_ICMP, .src = "10.66.1.1"};
	struct pkt_spec frag = {V4, UDP, .src = "10.66.1.1", .frag_off = 9, .payload = 16};
	struct pkt_spec other = {V4, TCP, .src = "10.67.1.1", .sport = 50202, .dport = 9443};
	struct pkt_spec known = {V4, TCP, .src = "10.68.1.1", .sport = 50203, .dport = 9443};
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct og_flow_stats fs;
	int ev0, i;

	OK(fx_prefix(s, "10.66.0.0/16", OG_LANE_BULK, OG_RULE_BLOCK) == 0, "block 10.66.0.0/16");
	OK(fx_prefix(s, "fd00:66::/32", 0, OG_RULE_BLOCK) == 0, "block fd00:66::/32");
	ring_buffer__consume(rb);
	ev0 = n_events[OG_EV_BLOCK];
	fx_lanes(s, b);
	for (i = 0; i < 3; i++) {
		__u32 v = xsend(s, &t, NULL, &fs);

		OK(v == XDP_DROP, "blocked tcp flow: packet %d dropped (%u)", i + 1, v);
	}
	OK(fs.pkts == 0 && fs.lane_src == 0, "blocked source got no og_flows entry");
	OK_EQ(xsend(s, &u, NULL, &fs), XDP_DROP, "blocked ipv6 udp dropped");
	OK(fs.pkts == 0, "no og_flows entry for the blocked ipv6 source either");
	OK_EQ(xsend(s, &icmp, NULL, NULL), XDP_DROP, "icmp from a blocked prefix dropped");
	OK_EQ(xsend(s, &frag, NULL, NULL), XDP_DROP,
	      "later fragment from a blocked prefix dropped");
	OK_EQ(xsend(s, &other, NULL, NULL), XDP_PASS, "neighbouring prefix passes");
	fx_lanes(s, a);
	OK_EQ(a[OG_LANE_NONE].drop_block - b[OG_LANE_NONE].drop_block, 6,
	      "drop_block in lane none (3 tcp, udp, icmp, fragment)");
	OK_EQ(a[OG_LANE_BULK].drop_block + a[OG_LANE_NORMAL].drop_block +
		  a[OG_LANE_ORDER].drop_block - b[OG_LANE_BULK].drop_block -
		  b[OG_LANE_NORMAL].drop_block - b[OG_LANE_ORDER].drop_block,
	      0, "no drop counted in a classified lane: dropped before classification");
	OK_EQ(TOTAL_NEW(a, b), 0, "no new flow for a blocked source");
	OK_EQ(a[OG_LANE_NONE].other - b[OG_LANE_NONE].other, 0, "a dropped icmp is not 'other'");
	ring_buffer__consume(rb);
	OK_EQ(n_events[OG_EV_BLOCK] - ev0, 0, "no event for packets of a blocked source");

	OK(fx_unprefix(s, "10.66.0.0/16") == 0, "unblock 10.66.0.0/16");
	xsend(s, &t, NULL, NULL);
	OK_EQ(xsend(s, &t, NULL, &fs), XDP_PASS, "unblocked flow passes");
	OK(fs.blocked == 0 && fs.pkts == 2, "unblocked flow admitted on its second packet");

	/* A flow with state, then a block: cached verdict, its lane, one event. */
	xsend(s, &known, NULL, NULL);
	xsend(s, &known, NULL, &fs);
	OK(fs.pkts == 2 && fs.lane == OG_LANE_ORDER, "flow from 10.68.1.1 has state, lane order");
	OK(fx_prefix(s, "10.68.0.0/16", 0, OG_RULE_BLOCK) == 0, "block 10.68.0.0/16");
	fx_lanes(s, b);
	OK_EQ(xsend(s, &known, NULL, &fs), XDP_DROP, "flow with state dropped after the block");
	OK_EQ(xsend(s, &known, NULL, &fs), XDP_DROP, "and again (cached verdict)");
	fx_lanes(s, a);
	OK(fs.blocked == 1 && fs.lane == OG_LANE_ORDER, "its entry caches blocked, lane order");
	OK_EQ(a[OG_LANE_ORDER].drop_block - b[OG_LANE_ORDER].drop_block, 2,
	      "drop_block counted in the flow's lane");
	ring_buffer__consume(rb);
	OK_EQ(n_events[OG_EV_BLOCK] - ev0, 1, "one block event for the flow cut off");
	fx_unprefix(s, "10.68.0.0/16");
	fx_unprefix(s, "fd00:66::/32");
}

/*
 * A pin reaches its flow without a rules_gen bump: the writer bumps the key's
 * og_pin_hint slot, and only flows in that slot look og_flow_lane up again.
 */
static void pin_hint(struct og_bpf *s)
{
	struct pkt_spec p = {V4, TCP, .src = "10.45.0.1", .sport = 50500, .dport = 9443};
	struct pkt_spec q = {V4, TCP, .src = "10.45.0.2", .sport = 50501, .dport = 9443};
	struct og_flow_stats fs, fq;
	struct og_flow_key k, kq;
	struct og_xdp_meta m;
	__u32 g0 = fx_get_cfg(s).rules_gen, v;

	fx_key(&p, &k);
	fx_key(&q, &kq);
	if (og_pin_slot(&k) == og_pin_slot(&kq)) /* keep the neighbour in another slot */
		q.sport++, fx_key(&q, &kq);
	lane_is(s, "hint: flow resolved by port", &p, OG_LANE_ORDER, OG_LSRC_PORT);
	lane_is(s, "hint: neighbour resolved by port", &q, OG_LANE_ORDER, OG_LSRC_PORT);
	xsend(s, &q, NULL, &fq);

	/* A pin written without touching og_pin_hint stays unseen: the hint is the contract. */
	{
		struct og_flow_pin v = {.lane = OG_LANE_BULK, .pinned_ns = 1};

		bpf_map_update_elem(bpf_map__fd(s->maps.og_flow_lane), &k, &v, BPF_ANY);
	}
	v = xsend(s, &p, &m, NULL);
	OK(v == XDP_PASS && m.lane == OG_LANE_ORDER,
	   "hint: a pin without a hint bump is not looked up (lane %u)", m.lane);
	fx_pin_hinted(s, &k, OG_LANE_BULK);
	v = xsend(s, &p, &m, &fs);
	OK(v == XDP_PASS && m.lane == OG_LANE_BULK && m.lane_src == OG_LSRC_PIN &&
	       fs.lane == OG_LANE_BULK && fs.lane_src == OG_LSRC_PIN,
	   "hint: pin + hint bump reaches the flow on its next packet (lane %u src %u)", m.lane,
	   m.lane_src);
	OK_EQ(fx_get_cfg(s).rules_gen, g0, "hint: rules_gen untouched");
	OK(fs.pin_seq != 0 && fs.gen == g0, "hint: the flow cached the slot's sequence %u",
	   fs.pin_seq);
	v = xsend(s, &q, &m, &fs);
	OK(v == XDP_PASS && m.lane == OG_LANE_ORDER && fs.pin_seq == fq.pin_seq,
	   "hint: a flow in another slot keeps its lane and sequence (no lookup)");
	fx_pin_hinted(s, &k, 0);
	v = xsend(s, &p, &m, &fs);
	OK(v == XDP_PASS && m.lane == OG_LANE_ORDER && m.lane_src == OG_LSRC_PORT &&
	       fs.lane_src == OG_LSRC_PORT,
	   "hint: a cleared pin re-resolves the flow (lane %u src %u)", m.lane, m.lane_src);
	fx_pin_hinted(s, &kq, OG_LANE_BULK);
	v = xsend(s, &p, &m, NULL);
	OK(v == XDP_PASS && m.lane == OG_LANE_ORDER,
	   "hint: a pin on another flow leaves this one alone");
	v = xsend(s, &q, &m, NULL);
	OK(v == XDP_PASS && m.lane == OG_LANE_BULK, "hint: while it reaches its own flow");
	fx_pin_hinted(s, &kq, 0);
}

/* The og_pin_count slot of <p>'s key, for a flow in a slot no other pin shares. */
static __u32 pin_count_of(struct og_bpf *s, struct pkt_spec *p, struct og_flow_key *k)
{
	__u32 slot, n = 1;

	for (;; p->sport++) {
		fx_key(p, k);
		slot = og_pin_slot(k);
		n = 1;
		bpf_map_lookup_elem(bpf_map__fd(s->maps.og_pin_count), &slot, &n);
		if (!n)
			return n;
	}
}

/*
 * A packet of a flow without og_flows state probes og_flow_lane only when its
 * og_pin_count slot is not 0: the writers count every entry before it exists,
 * so a pin they wrote is always seen, and an ACK flood skips the probe.
 */
static void pin_count(struct og_bpf *s)
{
	struct pkt_spec p = {V4, TCP, .src = "10.46.0.1", .sport = 50600, .dport = 9443};
	struct og_flow_pin v = {.lane = OG_LANE_BULK, .pinned_ns = 1};
	struct og_flow_key k;
	struct og_xdp_meta m = {};
	__u32 n, r;

	pin_count_of(s, &p, &k);
	/* Written around the count (no writer of ordergate does): not looked up. */
	bpf_map_update_elem(bpf_map__fd(s->maps.og_flow_lane), &k, &v, BPF_ANY);
	r = xsend(s, &p, &m, NULL);
	OK(r == XDP_PASS && m.lane == OG_LANE_ORDER && m.lane_src == OG_LSRC_PORT,
	   "count: a stateless packet skips og_flow_lane while its slot counts 0 (lane %u src %u)",
	   m.lane, m.lane_src);
	bpf_map_delete_elem(bpf_map__fd(s->maps.og_flow_lane), &k);

	/* Written as dp_flow_pin_set does: the first packet already carries the pin. */
	p.sport++;
	n = pin_count_of(s, &p, &k);
	OK(n == 0 && fx_pin_write(s, &k, OG_LANE_BULK) == 0, "count: a counted pin written");
	r = xsend(s, &p, &m, NULL);
	OK(r == XDP_PASS && m.lane == OG_LANE_BULK && m.lane_src == OG_LSRC_PIN,
	   "count: a counted pin reaches the flow's first, stateless packet (lane %u src %u)",
	   m.lane, m.lane_src);
	lane_is(s, "count: and its admission", &p, OG_LANE_BULK, OG_LSRC_PIN);
	fx_pin_write(s, &k, 0);
}

static void disabled(struct og_bpf *s)
{
	struct pkt_spec p = {V4, TCP, .src = "10.50.0.1", .sport = 50300, .dport = 9443};
	struct og_config cfg = fx_get_cfg(s), off = cfg;
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct og_flow_stats fs;
	struct fx_xdp_out o;
	__u8 pkt[PKT_MAX];
	size_t len = pkt_build(&p, pkt, NULL);

	OK(fx_prefix(s, "10.50.0.0/16", 0, OG_RULE_BLOCK) == 0, "block 10.50.0.0/16");
	off.enabled = 0;
	fx_set_cfg(s, &off);
	fx_lanes(s, b);
	fx_xdp(s, pkt, len, &o);
	fx_lanes(s, a);
	OK(o.verdict == XDP_PASS && o.meta_len == 0,
	   "disabled: even a blocked source passes, no metadata");
	OK(a[OG_LANE_NONE].rx_pkts - b[OG_LANE_NONE].rx_pkts == 1 &&
	       a[OG_LANE_NONE].drop_block == b[OG_LANE_NONE].drop_block &&
	       a[OG_LANE_NONE].other == b[OG_LANE_NONE].other,
	   "disabled: counted in lane none rx only");
	{
		struct og_flow_key k;

		fx_key(&p, &k);
		OK(fx_flow(s, &k, &fs) == -ENOENT, "disabled: no flow entry");
	}
	fx_set_cfg(s, &cfg);
	OK_EQ(xsend(s, &p, NULL, NULL), XDP_DROP, "re-enabled: blocked again");
	fx_unprefix(s, "10.50.0.0/16");
}

/* With the production clock (no test knob), flow times follow
 * CLOCK_MONOTONIC_COARSE to within a tick, on the slow and the fast path. */
static void real_clock(void)
{
	struct pkt_spec p = {V4, UDP, .sport = 50400, .dport = 53};
	struct og_config cfg = fx_cfg_default();
	struct og_flow_stats fs;
	struct og_flow_key k;
	struct timespec ts;
	struct bpf_map *m;
	struct og_bpf *s;
	__u64 t0, t1, t2, tick;
	int err, i;

	s = og_bpf__open();
	if (!s) {
		OK(0, "production-clock skeleton opens");
		return;
	}
	bpf_object__for_each_map(m, s->obj) bpf_map__set_pin_path(m, NULL);
	err = og_bpf__load(s);
	OK(err == 0, "skeleton loads with the production clock (verifier prunes the test clock)");
	if (err) {
		og_bpf__destroy(s);
		return;
	}
	fx_set_cfg(s, &cfg);
	fx_key(&p, &k);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	t0 = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	xsend(s, &p, NULL, NULL);
	/* The fast clock calibrates after 32 jiffies (128 ms at HZ=250, 320 at 100). */
	for (i = 0; i < 40 && !s->bss->og_clock_tick_ns; i++) {
		usleep(25000);
		xsend(s, &p, NULL, NULL);
	}
	tick = s->bss->og_clock_tick_ns;
	OK(tick == 1000000 || tick == 3333333 || tick == 4000000 || tick == 10000000,
	   "fast clock calibrated to a usual HZ: tick %llu ns after %d packets",
	   (unsigned long long)tick, i + 1);
	usleep(30000);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	t1 = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	xsend(s, &p, NULL, &fs);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	t2 = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	OK(fs.first_ns >= t0 && fs.first_ns <= t1,
	   "first_ns %llu within [%llu, %llu] (coarse helper)", (unsigned long long)fs.first_ns,
	   (unsigned long long)t0, (unsigned long long)t1);
	OK(fs.last_ns + tick + tick >= t1 && fs.last_ns <= t2 + tick + tick,
	   "last_ns %llu within two ticks of [%llu, %llu] (jiffies fast clock)",
	   (unsigned long long)fs.last_ns, (unsigned long long)t1, (unsigned long long)t2);
	og_bpf__destroy(s);
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
	fx_clock(s, 5000);
	fx_set_cfg(s, &cfg);
	precedence(s);
	cfg = fx_get_cfg(s);
	cfg.default_lane = OG_LANE_NORMAL;
	cfg.rules_gen++;
	fx_set_cfg(s, &cfg);
	generation(s);
	blocking(s, rb);
	pin_hint(s);
	pin_count(s);
	disabled(s);
	ring_buffer__free(rb);
	og_bpf__destroy(s);
	real_clock();
	return og_done();
}
