// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Seeded random packets through og_xdp, og_tc_in and og_tc_out: no failure, every packet counted
 * exactly once. */
#include <time.h>

#include "bpf_fixture.h"

/*
 * Packets are random specs (families, protocols, VLAN depth, options,
 * fragments, extension headers, addresses from rule-hitting pools), then
 * possibly truncated and/or bit-flipped, plus some pure noise. Per packet:
 * the verdict is PASS or DROP, exactly one lane's rx_pkts moved, a drop moved
 * exactly one drop counter, a pass carries metadata naming the lane counted.
 * Packets whose fate is known without parsing (intact, or cut inside their
 * headers) are checked against it. OG_FUZZ_SEED / OG_FUZZ_N override the seed
 * and count; the loop also stops after 60 s.
 */

static __u64 rng;

static __u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int pick(int n)
{
	return rnd() % n;
}

static const char *v4src[] = {"10.0.0.1",  "10.0.0.3",	"10.20.1.1",
			      "10.66.0.9", "10.77.0.1", "192.0.2.7"};
static const char *v6src[] = {"fd00::1", "fd00:20::4", "fd00:66::1", "fd00:77::1", "2001:db8::9"};
static const __u16 ports[] = {9443, 80, 443, 53, 8080, 40000};

#define K_UNKNOWN    0 /* mutated: only the invariants apply */
#define K_CLASSIFIED 1 /* intact TCP/UDP or later fragment: gets a lane */
#define K_OTHER	     2 /* intact non-IP / non-TCP-UDP: lane none, counted other or blocked */
#define K_MALFORMED  3 /* cut inside its headers: lane none, malformed (or dropped by a rule) */

static size_t gen(__u8 *pkt, int *kind)
{
	static const __u8 exts[] = {0, 43, 60, 51};
	struct pkt_spec s = {};
	struct pkt_layout lay;
	size_t len, cut;
	int i, flips = 0;

	if (pick(10) == 0) { /* pure noise, but a plausible first ethertype half the time */
		len = 14 + pick(300);
		for (i = 0; i < (int)len; i++)
			pkt[i] = rnd();
		if (pick(2)) {
			pkt[12] = pick(2) ? 0x08 : 0x86;
			pkt[13] = pkt[12] == 0x08 ? 0x00 : 0xdd;
		}
		*kind = K_UNKNOWN;
		return len;
	}
	s.vlans = pick(8) == 0 ? 3 : pick(3);
	switch (pick(10)) {
	case 0:
		s.ethertype = pick(2) ? 0x0806 : 0x88cc;
		break;
	default:
		s.family = pick(2) ? AF_INET : AF_INET6;
		break;
	}
	if (s.family) {
		int r = pick(10);

		s.proto = r < 5 ? IPPROTO_TCP : r < 9 ? IPPROTO_UDP : pick(2) ? 47 : 0;
		if (s.proto == 0)
			s.proto = s.family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		s.src = s.family == AF_INET ? v4src[pick(6)] : v6src[pick(5)];
		s.sport = ports[pick(6)] + pick(3);
		s.dport = ports[pick(6)];
		s.tcp_flags = pick(4) == 0 ? PKT_SYN : PKT_ACK;
		s.tcp_opt_words = pick(3) == 0 ? pick(10) : 0;
		if (s.family == AF_INET)
			s.ip_opt_words = pick(3) == 0 ? pick(11) : 0;
		if (pick(6) == 0) {
			s.more_frags = pick(2);
			s.frag_off = pick(2) ? 0 : 1 + pick(100);
			s.v6_frag = s.family == AF_INET6;
		}
		if (s.family == AF_INET6 && pick(3) == 0) {
			s.n_v6_ext = pick(4);
			for (i = 0; i < s.n_v6_ext; i++)
				s.v6_ext[i] = exts[pick(4)];
		}
	}
	s.payload = pick(4) == 0 ? pick(200) : pick(16);
	len = pkt_build(&s, pkt, &lay);
	if (!len) {
		*kind = K_UNKNOWN;
		memset(pkt, 0, 60);
		return 60;
	}
	/* The fate an unmutated frame must meet. */
	if (!s.family || s.vlans > 2)
		*kind = K_OTHER;
	else if (s.frag_off || s.proto == IPPROTO_TCP || s.proto == IPPROTO_UDP)
		*kind = K_CLASSIFIED;
	else
		*kind = K_OTHER;
	cut = len;
	if (pick(4) == 0) {
		/* og_xdp reads at most two tags; a third is the "ethertype" it stops at. */
		size_t l2 = 14 + 4 * (s.vlans > 2 ? 2 : s.vlans);

		cut = 14 + pick(len - 14 + 1);
		if (cut < l2)
			*kind = K_MALFORMED;
		else if (!s.family || s.vlans > 2)
			*kind = K_OTHER;
		else if (cut < lay.l3_end)
			*kind = K_MALFORMED;
		else if (*kind == K_CLASSIFIED && !s.frag_off && cut < lay.l4_end)
			*kind = K_MALFORMED;
	}
	if (pick(4) == 0) {
		flips = 1 + pick(4);
		for (i = 0; i < flips; i++)
			pkt[pick(cut)] ^= 1 << pick(8);
		*kind = K_UNKNOWN;
	}
	return cut;
}

static __u64 sum_field(const struct og_lane_stats *l, size_t off)
{
	__u64 t = 0;
	int i;

	for (i = 0; i < OG_LANE_MAX; i++)
		t += *(const __u64 *)((const char *)&l[i] + off);
	return t;
}
#define SUM(l, f) sum_field(l, offsetof(struct og_lane_stats, f))

int main(void)
{
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX], start[OG_LANE_MAX];
	struct og_config cfg = fx_cfg_default();
	const char *env;
	__u64 seed, n = 20000, i, bad_verdict = 0, bad_count = 0, bad_drop = 0, bad_meta = 0;
	__u64 bad_tc = 0, bad_fate = 0, passes = 0, drops = 0, fate_checked = 0;
	__u64 kinds[4] = {}, tc_refused = 0;
	time_t t0 = time(NULL);
	struct og_bpf *s;

	env = getenv("OG_FUZZ_SEED");
	seed = env ? strtoull(env, NULL, 0) : (__u64)time(NULL) * 2654435761ULL ^ getpid();
	if (!seed)
		seed = 1;
	rng = seed;
	env = getenv("OG_FUZZ_N");
	if (env)
		n = strtoull(env, NULL, 0);
	og_diag("seed %llu (rerun with OG_FUZZ_SEED=%llu), %llu packets", (unsigned long long)seed,
		(unsigned long long)seed, (unsigned long long)n);

	s = fx_load();
	OK(s != NULL, "skeleton loads unpinned with the test clock");
	if (!s)
		return og_done();
	fx_clock(s, 1000);
	fx_set_cfg(s, &cfg);
	fx_port(s, 9443, OG_LANE_ORDER);
	fx_prefix(s, "10.20.0.0/16", OG_LANE_BULK, 0);
	fx_prefix(s, "fd00:20::/32", OG_LANE_BULK, 0);
	fx_prefix(s, "10.66.0.0/16", 0, OG_RULE_BLOCK);
	fx_prefix(s, "fd00:66::/32", OG_LANE_BULK, OG_RULE_BLOCK);
	{
		const char *thr[] = {"10.77.0.1", "fd00:77::1"};
		int j;

		for (j = 0; j < 2; j++) {
			struct og_addr_key k = {};
			struct og_throttle t = {.rate_pps = 100,
						.burst = 5,
						.tokens = 5 * OG_TB_NS,
						.expires_ns = ~0ULL};

			k.family = pkt_addr(thr[j], k.addr);
			bpf_map_update_elem(bpf_map__fd(s->maps.og_throttle), &k, &t, BPF_ANY);
		}
		cfg = fx_get_cfg(s);
		cfg.throttle_count = 2;
		fx_set_cfg(s, &cfg);
	}

	fx_lanes(s, start);
	for (i = 0; i < n && time(NULL) - t0 < 60; i++) {
		struct fx_xdp_out o;
		struct fx_tc_out to, ti;
		__u8 pkt[PKT_MAX];
		int kind, lane, moved = 0, l;
		__u64 dsum;
		size_t len = gen(pkt, &kind);

		kinds[kind]++;
		fx_clock(s, 1000 + i * 1000000); /* 1 ms per packet: throttles refill */
		fx_lanes(s, b);
		fx_xdp(s, pkt, len, &o);
		fx_lanes(s, a);
		if (o.ret || (o.verdict != XDP_PASS && o.verdict != XDP_DROP)) {
			bad_verdict++;
			continue;
		}
		lane = -1;
		for (l = 0; l < OG_LANE_MAX; l++) {
			__u64 d = a[l].rx_pkts - b[l].rx_pkts;

			moved += d;
			if (d == 1)
				lane = l;
		}
		if (moved != 1 || lane < 0 || a[lane].rx_bytes - b[lane].rx_bytes != len) {
			bad_count++;
			continue;
		}
		dsum = SUM(a, drop_block) + SUM(a, drop_throttle) + SUM(a, drop_error) -
		       SUM(b, drop_block) - SUM(b, drop_throttle) - SUM(b, drop_error);
		if (o.verdict == XDP_DROP) {
			drops++;
			if (dsum != 1)
				bad_drop++;
		} else {
			passes++;
			if (dsum != 0)
				bad_drop++;
			if (o.meta_len != sizeof(struct og_xdp_meta) ||
			    o.meta.magic != OG_META_MAGIC || o.meta.lane != lane)
				bad_meta++;
		}
		if (kind != K_UNKNOWN) {
			__u64 dmal = SUM(a, malformed) - SUM(b, malformed);
			__u64 doth = SUM(a, other) - SUM(b, other);
			int ok;

			fate_checked++;
			/* A source's block and throttle rules apply to every IP packet,
			 * malformed ones past the IP header too; a packet without flow
			 * state dropped that way is counted in lane none. */
			if (kind == K_MALFORMED)
				ok =
				    lane == OG_LANE_NONE && ((dmal == 1 && o.verdict == XDP_PASS) ||
							     (dmal == 0 && o.verdict == XDP_DROP));
			else if (kind == K_OTHER)
				ok = lane == OG_LANE_NONE && dmal == 0 &&
				     (doth == 1 || o.verdict == XDP_DROP);
			else
				ok = (lane != OG_LANE_NONE || o.verdict == XDP_DROP) && dmal == 0 &&
				     doth == 0;
			if (!ok) {
				bad_fate++;
				if (bad_fate <= 5)
					og_diag(
					    "packet %llu (%zu bytes) kind %d: lane %d verdict %u "
					    "malformed+%llu other+%llu",
					    (unsigned long long)i, len, kind, lane, o.verdict,
					    (unsigned long long)dmal, (unsigned long long)doth);
			}
		}
		fx_tc(s->progs.og_tc_out, pkt, len, 0, 0, &to);
		fx_tc(s->progs.og_tc_in, pkt, len, 0, 0, &ti);
		/* skb test_run refuses IP frames shorter than their fixed IP header;
		 * the stack never hands TC such an skb either. */
		if (to.ret == -EINVAL && ti.ret == -EINVAL &&
		    ((pkt[12] == 0x08 && pkt[13] == 0x00 && len < 14 + 20) ||
		     (pkt[12] == 0x86 && pkt[13] == 0xdd && len < 14 + 40))) {
			tc_refused++;
			continue;
		}
		if (to.ret || ti.ret || to.verdict != -1 || ti.verdict != -1 ||
		    ti.mark >= OG_LANE_MAX ||
		    (to.priority != 0 && to.priority != OG_CLASS_ORDER &&
		     to.priority != OG_CLASS_NORMAL && to.priority != OG_CLASS_BULK)) {
			bad_tc++;
			if (bad_tc <= 5)
				og_diag(
				    "packet %llu (%zu bytes, %02x%02x): tc_out run %d verdict %d "
				    "prio %#x, tc_in run %d verdict %d mark %u",
				    (unsigned long long)i, len, pkt[12], pkt[13], to.ret,
				    to.verdict, to.priority, ti.ret, ti.verdict, ti.mark);
		}
	}
	fx_lanes(s, a);
	OK(i == n, "sent %llu of %llu packets within the time bound", (unsigned long long)i,
	   (unsigned long long)n);
	OK_EQ(bad_verdict, 0, "every og_xdp run returned PASS or DROP");
	OK_EQ(bad_count, 0, "every packet added exactly 1 to one lane's rx_pkts and its bytes");
	OK_EQ(SUM(a, rx_pkts) - SUM(start, rx_pkts), i, "sum of rx_pkts over lanes = packets sent");
	OK_EQ(bad_drop, 0, "every drop moved exactly one drop counter, every pass none");
	OK_EQ(SUM(a, drop_block) + SUM(a, drop_throttle) + SUM(a, drop_error) -
		  SUM(start, drop_block) - SUM(start, drop_throttle) - SUM(start, drop_error),
	      drops, "drop counters total = XDP_DROP verdicts");
	OK_EQ(bad_meta, 0, "every pass carried metadata naming the counted lane");
	OK_EQ(bad_fate, 0, "packets of known fate met it (classified / other / malformed)");
	OK(fate_checked > n / 3, "a third or more had a known fate (%llu)",
	   (unsigned long long)fate_checked);
	OK(SUM(a, malformed) - SUM(start, malformed) >= kinds[K_MALFORMED] &&
	       SUM(a, malformed) - SUM(start, malformed) <=
		   i - kinds[K_CLASSIFIED] - kinds[K_OTHER],
	   "malformed %llu is between the known-malformed %llu and the unknown+malformed",
	   (unsigned long long)(SUM(a, malformed) - SUM(start, malformed)),
	   (unsigned long long)kinds[K_MALFORMED]);
	OK(SUM(a, other) - SUM(start, other) <= i - kinds[K_CLASSIFIED] - kinds[K_MALFORMED],
	   "other %llu is plausible", (unsigned long long)(SUM(a, other) - SUM(start, other)));
	OK(drops > 0 && passes > drops, "both verdicts seen: %llu pass, %llu drop",
	   (unsigned long long)passes, (unsigned long long)drops);
	OK_EQ(SUM(a, tx_pkts) - SUM(start, tx_pkts), i - tc_refused,
	      "og_tc_out counted every packet the skb test_run accepted once");
	og_diag("%llu short IP frames refused by the skb test_run itself",
		(unsigned long long)tc_refused);
	OK_EQ(bad_tc, 0, "og_tc_in/og_tc_out never dropped and set only lane marks/classes");
	og_bpf__destroy(s);
	return og_done();
}
