// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Token bucket: og_tb_take unit-tested from user space, then drain/refill/expiry in og_xdp on the
 * test clock. */
#include <stdint.h>

#include "bpf_fixture.h"
/* The kernel's bucket, compiled here unchanged: it is a pure function. */
#include "../../bpf/throttle.h"

#define MS  1000000ULL
#define SEC 1000000000ULL

static struct og_tb_result take(struct og_throttle *t, __u64 now)
{
	struct og_tb_result r;

	og_tb_take(t, now, &r);
	t->tokens = r.tokens;
	t->last_ns = r.last_ns;
	return r;
}

static void unit(void)
{
	struct og_throttle t = {.rate_pps = 10, .burst = 3, .tokens = 3 * OG_TB_NS, .last_ns = SEC};
	struct og_tb_result r;
	int i, passed = 0;

	for (i = 0; i < 5; i++)
		passed += take(&t, SEC).pass;
	OK_EQ(passed, 3, "unit: a full bucket of 3 passes 3 of 5 at one instant");
	r = take(&t, SEC + 99 * MS);
	OK(!r.pass && r.tokens == 990000000ULL, "unit: 99 ms at 10 pps is 0.99 token: drop");
	r = take(&t, SEC + 100 * MS);
	OK(r.pass && r.tokens == 0, "unit: the 100th ms completes one token: pass");
	r = take(&t, SEC + 100 * SEC);
	OK(r.pass && r.tokens == 2 * OG_TB_NS, "unit: a long gap refills to burst, not beyond");
	r = take(&t, SEC + 50 * SEC);
	OK(r.pass && r.last_ns == SEC + 100 * SEC && r.tokens == OG_TB_NS,
	   "unit: a clock behind last_ns refills nothing and keeps last_ns");

	/* No input wraps: huge rate, burst, tokens and gaps are clamped. */
	t = (struct og_throttle){
	    .rate_pps = UINT64_MAX, .burst = UINT64_MAX, .tokens = UINT64_MAX, .last_ns = 0};
	r = take(&t, UINT64_MAX);
	OK(r.pass && r.tokens == OG_TB_MAX_BURST * OG_TB_NS - OG_TB_NS,
	   "unit: extreme rate/burst/tokens/gap clamp to the maximum bucket");
	t = (struct og_throttle){.rate_pps = 5, .burst = 0, .tokens = 0, .last_ns = 0};
	OK(!take(&t, 10 * SEC).pass, "unit: burst 0 never passes");
	t = (struct og_throttle){.rate_pps = 0, .burst = 2, .tokens = 2 * OG_TB_NS, .last_ns = 0};
	passed = 0;
	for (i = 0; i < 4; i++)
		passed += take(&t, i * 10 * SEC).pass;
	OK_EQ(passed, 2, "unit: rate 0 passes the burst once, then nothing");
	t = (struct og_throttle){.rate_pps = 1000, .burst = 1, .tokens = 0, .last_ns = 0};
	passed = 0;
	for (i = 1; i <= 1000; i++)
		passed += take(&t, i * MS).pass;
	OK_EQ(passed, 1000, "unit: 1000 pps sustained at 1 ms spacing all pass");
}

static void throttle_set(struct og_bpf *s, const char *addr, __u64 pps, __u64 burst, __u64 now,
			 __u64 ttl)
{
	struct og_addr_key k = {};
	struct og_throttle t = {.rate_pps = pps,
				.burst = burst,
				.tokens = burst * OG_TB_NS,
				.last_ns = now,
				.expires_ns = now + ttl};
	struct og_config c = fx_get_cfg(s);

	k.family = pkt_addr(addr, k.addr);
	bpf_map_update_elem(bpf_map__fd(s->maps.og_throttle), &k, &t, BPF_ANY);
	c.throttle_count++;
	fx_set_cfg(s, &c);
}

static struct og_throttle throttle_get(struct og_bpf *s, const char *addr)
{
	struct og_addr_key k = {};
	struct og_throttle t = {};

	k.family = pkt_addr(addr, k.addr);
	bpf_map_lookup_elem(bpf_map__fd(s->maps.og_throttle), &k, &t);
	return t;
}

static int n_thr_events;

static int on_event(void *ctx, void *data, size_t len)
{
	const struct og_event *ev = data;

	if (len >= sizeof(*ev) && ev->type == OG_EV_THROTTLE)
		n_thr_events++;
	return 0;
}

/* Sends <n> packets of <ps> with the clock at <now>; returns how many passed. */
static int burst_of(struct og_bpf *s, const struct pkt_spec *ps, int n, __u64 now)
{
	struct fx_xdp_out o;
	__u8 pkt[PKT_MAX];
	size_t len = pkt_build(ps, pkt, NULL);
	int i, passed = 0;

	fx_clock(s, now);
	for (i = 0; i < n; i++) {
		fx_xdp(s, pkt, len, &o);
		passed += o.verdict == XDP_PASS;
	}
	return passed;
}

static void kernel(void)
{
	struct pkt_spec p = {.family = AF_INET,
			     .proto = IPPROTO_TCP,
			     .src = "10.77.0.1",
			     .sport = 44000,
			     .dport = 9443};
	struct pkt_spec q = {.family = AF_INET6,
			     .proto = IPPROTO_UDP,
			     .src = "fd00:77::1",
			     .sport = 44001,
			     .dport = 53};
	struct pkt_spec other = {.family = AF_INET,
				 .proto = IPPROTO_TCP,
				 .src = "10.77.0.2",
				 .sport = 44002,
				 .dport = 9443};
	struct og_config cfg = fx_cfg_default();
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct ring_buffer *rb;
	struct og_throttle t;
	struct og_bpf *s;
	__u64 now = 100 * SEC;

	s = fx_load();
	OK(s != NULL, "skeleton loads unpinned with the test clock");
	if (!s)
		return;
	rb = ring_buffer__new(bpf_map__fd(s->maps.og_events), on_event, NULL, NULL);
	fx_set_cfg(s, &cfg);
	fx_port(s, 9443, OG_LANE_ORDER);
	throttle_set(s, "10.77.0.1", 10, 3, now, 5 * SEC);
	throttle_set(s, "fd00:77::1", 1, 1, now, 5 * SEC);

	fx_lanes(s, b);
	OK_EQ(burst_of(s, &p, 5, now), 3, "drain: burst 3 passes 3 of 5");
	fx_lanes(s, a);
	OK_EQ(a[OG_LANE_ORDER].drop_throttle - b[OG_LANE_ORDER].drop_throttle, 2,
	      "drain: drop_throttle +2 in the flow's lane");
	OK_EQ(a[OG_LANE_ORDER].rx_pkts - b[OG_LANE_ORDER].rx_pkts, 5, "drain: all 5 counted rx");
	t = throttle_get(s, "10.77.0.1");
	OK(t.passed == 3 && t.dropped == 2 && t.tokens == 0,
	   "drain: entry passed %llu dropped %llu", (unsigned long long)t.passed,
	   (unsigned long long)t.dropped);
	OK_EQ(burst_of(s, &other, 5, now), 5, "an unthrottled neighbour passes");

	OK_EQ(burst_of(s, &p, 2, now + 100 * MS), 1, "refill: 100 ms at 10 pps gives one packet");
	OK_EQ(burst_of(s, &p, 1, now + 150 * MS), 0, "refill: half a token is not enough");
	OK_EQ(burst_of(s, &p, 5, now + 500 * MS), 3, "refill: 350 ms more refills to burst 3 only");
	OK_EQ(burst_of(s, &q, 3, now), 1, "ipv6 source: burst 1");
	OK_EQ(burst_of(s, &q, 2, now + 1 * SEC), 1, "ipv6 source: 1 pps after 1 s");

	OK_EQ(burst_of(s, &p, 4, now + 5 * SEC - 1), 3, "expiry: still enforced 1 ns before");
	OK_EQ(burst_of(s, &p, 20, now + 5 * SEC), 20, "expiry: ignored at expires_ns");
	t = throttle_get(s, "10.77.0.1");
	OK_EQ(t.dropped, 2 + 1 + 1 + 2 + 1, "expired entry stops counting");

	/* throttle_count 0 means no live entries: og_xdp skips the lookup. */
	throttle_set(s, "10.77.0.1", 0, 0, now, 100 * SEC);
	OK_EQ(burst_of(s, &p, 2, now + 6 * SEC), 0, "a fresh zero-rate entry drops everything");
	cfg = fx_get_cfg(s);
	cfg.throttle_count = 0;
	fx_set_cfg(s, &cfg);
	OK_EQ(burst_of(s, &p, 2, now + 6 * SEC), 2, "throttle_count 0 skips og_throttle");

	ring_buffer__consume(rb);
	OK_EQ(n_thr_events, 3, "one throttle event per entry's first drop (v4, v6, re-set v4)");
	ring_buffer__free(rb);
	og_bpf__destroy(s);
}

int main(void)
{
	unit();
	kernel();
	return og_done();
}
