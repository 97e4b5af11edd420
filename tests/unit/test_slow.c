// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* slow_decide on synthetic windows: throttle, repeat with a longer TTL, release, forgive, demote.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lanes/slow.h"
#include "../lib/og_test.h"

#define W 1000 /* window, ms */

static struct og_addr_key addr(uint32_t host)
{
	struct og_addr_key k = {.family = AF_INET};

	k.addr[0] = htonl(host);
	return k;
}

static struct slow_src_in src(uint32_t host, uint64_t syns, uint64_t pkts, uint64_t rej)
{
	struct slow_src_in s = {.src = addr(host), .syns = syns, .pkts = pkts, .rejects = rej};

	return s;
}

static int cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct og_addr_key));
}

static int decide(const struct slow_params *p, struct slow_state *st, uint64_t now,
		  struct slow_src_in *in, int n, struct slow_action *out)
{
	qsort(in, n, sizeof(*in), cmp);
	return slow_decide(p, st, now, W, in, n, NULL, 0, out, 16);
}

static void throttle_cycle(void)
{
	static struct slow_state st;
	struct slow_params p;
	struct slow_action a[16];
	struct slow_src_in in[3];
	uint64_t now = 100000;
	int n, i;

	slow_params_default(&p);
	in[0] = src(0x0a000001, 2000, 2500, 0); /* SYN flood: 2000/s > 500 */
	in[1] = src(0x0a000002, 10, 40000, 0);	/* busy but under every threshold */
	in[2] = src(0x0a000003, 500, 500, 50);	/* exactly at the thresholds: not over */
	n = decide(&p, &st, now, in, 3, a);
	OK(n == 1 && a[0].kind == SLOW_THROTTLE && !memcmp(&a[0].src, &in[0].src, 20) &&
	       !strcmp(a[0].why, "syn_rate") && a[0].ttl_ms == 10000 && a[0].strikes == 1 &&
	       a[0].pps == 100 && a[0].burst == 200 && a[0].syn_rate == 2000 &&
	       a[0].pkt_rate == 2500,
	   "a SYN flood is throttled for the first TTL with its inputs (n %d)", n);

	in[0] = src(0x0a000001, 1800, 2000, 0);
	n = decide(&p, &st, now += W, in, 1, a);
	OK_EQ(n, 0, "still flooding while the entry covers the next window: nothing to do");

	now = 100000 + 10000 - W / 2; /* the entry lapses within the next window */
	n = decide(&p, &st, now, in, 1, a);
	OK(n == 1 && a[0].kind == SLOW_THROTTLE && a[0].ttl_ms == 20000 && a[0].strikes == 2,
	   "still over when the entry is about to lapse: throttled again for twice as long");

	/* its SYNs now die in XDP before they get og_flows state: og_flows shows nothing, but
	 * the entry's drop counter climbs 1000/s, over half the bucket: not calm */
	for (i = 1; i <= 4; i++) {
		struct slow_src_in d = {.src = addr(0x0a000001), .dropped_total = 1000ULL * i};

		n = decide(&p, &st, now += W, &d, 1, a);
		if (n)
			break;
	}
	OK_EQ(n, 0, "a throttled source still dropped at 1000/s is not released");
	/* calm: nothing from the source for calm_ticks windows -> released early */
	for (i = 1; i <= 3; i++) {
		n = decide(&p, &st, now += W, in, 0, a);
		if (i < 3)
			OK_EQ(n, 0, "a calm window before calm_ticks: kept");
	}
	OK(n == 1 && a[0].kind == SLOW_RELEASE && !strcmp(a[0].why, "calm") && a[0].strikes == 2,
	   "after 3 calm windows the throttle is released");

	/* a relapse inside the forgiveness time costs a third, longer strike */
	in[0] = src(0x0a000001, 0, 90000, 0);
	n = decide(&p, &st, now += W, in, 1, a);
	OK(n == 1 && a[0].kind == SLOW_THROTTLE && !strcmp(a[0].why, "pkt_rate") &&
	       a[0].ttl_ms == 40000 && a[0].strikes == 3,
	   "relapse by packet rate: strike 3, TTL 40 s");
	/* half the threshold is not calm yet */
	in[0] = src(0x0a000001, 0, 30000, 0);
	for (i = 0; i < 5; i++)
		n = decide(&p, &st, now += W, in, 1, a);
	OK_EQ(n, 0, "over half a threshold is not calm: no release");
	OK_EQ(st.n_src, 1, "one source remembered");

	/* the entry lapses by itself, then calm forgives one strike per forgive_ms */
	now += 40000;
	for (i = 0; i < 3 * 60 + 5; i++)
		decide(&p, &st, now += W, in, 0, a);
	OK_EQ(st.n_src, 0, "after three forgiveness periods of calm the source is forgotten");
}

static void ttl_cap_and_rejects(void)
{
	static struct slow_state st;
	struct slow_params p;
	struct slow_action a[16];
	struct slow_src_in in[1];
	uint64_t now = 1000000;
	int n = 0, i;

	slow_params_default(&p);
	p.ttl_max_ms = 50000;
	in[0] = src(0x0b000001, 0, 10, 120); /* rejected 120/s at L7 */
	for (i = 0; i < 8; i++) {
		n = decide(&p, &st, now, in, 1, a);
		now += 60000; /* past any TTL so far: every window re-throttles */
	}
	OK(n == 1 && a[0].kind == SLOW_THROTTLE && !strcmp(a[0].why, "rejects") &&
	       a[0].reject_rate == 120 && a[0].ttl_ms == 50000,
	   "L7 rejections throttle too, and the TTL stops at ttl_max_ms (%llu)",
	   (unsigned long long)a[0].ttl_ms);
	/* many sources at once: the output bound holds */
	{
		struct slow_src_in many[40];
		static struct slow_state st2;

		for (i = 0; i < 40; i++)
			many[i] = src(0x0c000000 + i, 1000, 1000, 0);
		n = decide(&p, &st2, now, many, 40, a);
		OK_EQ(n, 16, "no more actions than the caller has room for");
	}
}

static void heavy(void)
{
	static struct slow_state st;
	struct slow_flow_in f[14];
	struct slow_params p;
	struct slow_action a[16];
	int i, n;

	slow_params_default(&p);
	memset(f, 0, sizeof(f));
	for (i = 0; i < 14; i++) {
		f[i].k.family = AF_INET;
		f[i].k.proto = 6;
		f[i].k.saddr[0] = htonl(0x0d000000 + i);
		f[i].k.sport = htons(1000 + i);
		f[i].bytes = 20000 + i * 100;
		f[i].lane = i < 10 ? OG_LANE_NORMAL : i < 13 ? OG_LANE_ORDER : OG_LANE_BULK;
	}
	f[3].bytes = 8 << 20;	    /* far above the normal lane's median */
	f[11].bytes = 50 << 20;	    /* order lane: only 3 flows, below heavy_min_flows */
	f[13].bytes = 100ULL << 20; /* bulk: never demoted further */
	n = slow_decide(&p, &st, 5000, W, NULL, 0, f, 14, a, 16);
	OK(n == 1 && a[0].kind == SLOW_DEMOTE && !memcmp(&a[0].flow, &f[3].k, sizeof(f[3].k)) &&
	       a[0].bytes == 8 << 20 && a[0].median == 20550 && !strcmp(a[0].why, "heavy"),
	   "the one heavy normal flow is demoted, with its bytes and the lane median (n %d, "
	   "median %llu)",
	   n, n ? (unsigned long long)a[0].median : 0ULL);
	f[3].bytes = 900000; /* 40x the median but under heavy_min_bytes */
	n = slow_decide(&p, &st, 6000, W, NULL, 0, f, 14, a, 16);
	OK_EQ(n, 0, "a flow under heavy_min_bytes is left alone");
	f[3].bytes = 8 << 20;
	f[10].lane = f[11].lane = f[12].lane = OG_LANE_NORMAL;
	n = slow_decide(&p, &st, 7000, W, NULL, 0, f, 14, a, 16);
	OK(n == 2, "with 13 normal flows both heavy ones are demoted (%d)", n);
}

int main(void)
{
	throttle_cycle();
	ttl_cap_and_rejects();
	heavy();
	return og_done();
}
