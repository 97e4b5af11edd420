// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Lanes admission: prefixes, tier values, GCRA buckets (shared by threads, eviction, table
 * full), classification, pins, in-flight limits, exemptions, dry_run on a real socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/hooks.h"
#include "front/conn.h"
#include "lanes/bucket.h"
#include "lanes/kern.h"
#include "lanes/lanes.h"
#include "lanes/lstate.h"
#include "lanes/slow.h"
#include "../lib/og_test.h"

/* The kernel writer, as the lanes code sees it: record what it is asked (these definitions
 * come first at link time, so user/lanes/kern.c's are not pulled in). */
static struct og_flow_key pinned_key;
static int pin_calls, unpin_calls, pinned_lane;

int kern_pin(const struct og_flow_key *k, uint8_t lane)
{
	pinned_key = *k;
	pinned_lane = lane;
	pin_calls++;
	return 0;
}

int kern_unpin(const struct og_flow_key *k)
{
	if (!memcmp(k, &pinned_key, sizeof(*k)))
		pinned_lane = 0;
	unpin_calls++;
	return 0;
}

/* The slow loop's note of a 429 (user/lanes/slow_loop.c's is not pulled in either). */
static struct og_addr_key noted_src;
static int note_calls;

void lanes_slow_note_reject(const struct og_addr_key *src)
{
	noted_src = *src;
	note_calls++;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_cidr_tier(void)
{
	struct cfg_cidr v[2] = {{.family = AF_INET, .prefix_len = 7, .addr = {10}},
				{.family = AF_INET6, .prefix_len = 0}};
	uint8_t a4[4] = {11, 1, 2, 3}, b4[4] = {12, 0, 0, 1}, a6[16] = {0x20, 0x01};

	OK(lanes_cidr_match(v, 1, AF_INET, a4), "11.1.2.3 is in 10.0.0.0/7");
	OK(!lanes_cidr_match(v, 1, AF_INET, b4), "12.0.0.1 is not in 10.0.0.0/7");
	OK(!lanes_cidr_match(v, 1, AF_INET6, a6), "an IPv6 address never matches an IPv4 prefix");
	OK(lanes_cidr_match(v, 2, AF_INET6, a6), "::/0 matches any IPv6 address");
	OK(lanes_tier("order", 5) == OG_LANE_ORDER && lanes_tier("bulk", 4) == OG_LANE_BULK &&
	       lanes_tier("normal", 6) == OG_LANE_NORMAL,
	   "tier values");
	OK(!lanes_tier("Order", 5) && !lanes_tier("orders", 6) && !lanes_tier("", 0),
	   "anything else is no tier");
}

static struct bucket_table tbl;

struct hammer {
	uint64_t key, end_ns, fixed_ns, admitted; /* fixed_ns: a frozen clock, 0 = real time */
	int calls;
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	uint64_t w;

	for (int i = 0; h->fixed_ns ? i < h->calls : now_ns() < h->end_ns; i++)
		if (bucket_take(&tbl, h->key, h->fixed_ns ? h->fixed_ns : now_ns(), 1000, 10, 0,
				&w) == BUCKET_OK)
			h->admitted++;
	return NULL;
}

/* Two threads on one key; returns how many requests were admitted in all. */
static uint64_t hammer2(struct hammer proto)
{
	struct hammer h[2] = {proto, proto};
	pthread_t th[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, hammer, &h[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	return h[0].admitted + h[1].admitted;
}

static void test_bucket(void)
{
	uint64_t t = 1000000000000ull, w = 0;
	int ok = 0;
	uint64_t t0, t1, got, most;

	for (int i = 0; i < 5; i++)
		ok += bucket_take(&tbl, 5, t, 10, 3, 0, &w) == BUCKET_OK;
	OK_EQ(ok, 3, "a fresh bucket admits its burst of 3 at once");
	OK(bucket_take(&tbl, 5, t, 10, 3, 0, &w) == BUCKET_LIMITED && w == 100000000,
	   "then refuses, a token due in 100 ms (%llu ns)", (unsigned long long)w);
	OK(bucket_take(&tbl, 5, t + 99999999, 10, 3, 0, &w) == BUCKET_LIMITED,
	   "still refused 1 ns before");
	OK(bucket_take(&tbl, 5, t + 100000000, 10, 3, 1, &w) == BUCKET_OK &&
	       bucket_take(&tbl, 5, t + 100000000, 10, 3, 0, &w) == BUCKET_OK &&
	       bucket_take(&tbl, 5, t + 100000000, 10, 3, 0, &w) == BUCKET_LIMITED,
	   "one token per 100 ms; a check (dry) takes none");
	OK(bucket_take(&tbl, 6, t, 10, 3, 0, &w) == BUCKET_OK, "another key has its own bucket");
	/* two threads on one key, clock frozen: exactly the burst, however they interleave */
	OK_EQ(hammer2((struct hammer){.key = 77, .fixed_ns = t, .calls = 200000}), 10,
	      "2 threads x 200000 takes at one instant: exactly the burst of 10 admitted");
	/* real time: never more than the rate allows (fewer when this box starves the threads
	 * for longer than a burst lasts: tokens past a full bucket are not kept) */
	t0 = now_ns();
	got = hammer2((struct hammer){.key = 78, .end_ns = t0 + 200000000ull});
	t1 = now_ns();
	most = 10 + (t1 - t0) / 1000000 + 1;
	OK(got <= most && got > 10,
	   "2 threads, 1000/s burst 10 for %.0f ms: %llu admitted (at most %llu)", (t1 - t0) / 1e6,
	   (unsigned long long)got, (unsigned long long)most);
	/* the probe window: 8 busy keys on one slot, a 9th finds no cell */
	uint64_t keys[9];
	int n = 0;

	for (uint64_t k = 1000; n < 9; k++)
		if (bucket_slot(k) == bucket_slot(999))
			keys[n++] = k;
	/* cells near the slot may hold earlier keys: start with a table of our own */
	memset(&tbl, 0, sizeof(tbl));
	for (int i = 0; i < 8; i++)
		bucket_take(&tbl, keys[i], t, 1, 1, 0, &w); /* tat = t + 1 s: busy */
	OK(bucket_take(&tbl, keys[8], t, 1, 1, 0, &w) == BUCKET_TABLE_FULL,
	   "9 keys on one slot, all busy: the 9th is admitted without a bucket");
	OK(bucket_take(&tbl, keys[8], t + 1000000000ull, 1, 1, 0, &w) == BUCKET_OK,
	   "once a bucket is full again its cell is taken over by the new key");
	OK(bucket_take(&tbl, keys[8], t + 1000000000ull, 1, 1, 0, &w) == BUCKET_LIMITED,
	   "... which then has a real bucket");
	OK_EQ(bucket_busy(&tbl, t + 1000000001ull), 1, "one key still limited");
}

/* A real loopback TCP connection: <cfd> the client, the returned fd the accepted side. */
static int tcp_pair(int *cfd, unsigned *lport, struct sockaddr_in *peer)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), s;

	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return -1;
	*lport = ntohs(a.sin_port);
	*cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*cfd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	len = sizeof(*peer);
	s = accept(l, (struct sockaddr *)peer, &len);
	close(l);
	return s;
}

struct rig {
	struct og_worker w;
	struct og_worker_priv p;
	struct og_conn c;
	struct og_req rq;
	struct og_rt rt;
	struct config *cfg;
	struct http_msg m;
	char buf[512];
	int cfd;
	unsigned lport;
};

static int rig_open(struct rig *r, const char *yaml_fmt)
{
	char y[2048], err[512];

	memset(r, 0, sizeof(*r));
	r->p.w = &r->w;
	r->c.p = &r->p;
	r->c.fd = tcp_pair(&r->cfd, &r->lport, &r->c.peer.v4);
	if (r->c.fd < 0)
		return -1;
	snprintf(y, sizeof(y), yaml_fmt, r->lport);
	r->cfg = config_load_string(y, strlen(y), "t.yaml", err, sizeof(err));
	if (!r->cfg) {
		og_diag("%s", err);
		return -1;
	}
	r->rt.cfg = r->cfg;
	r->rt.gen = 1;
	return 0;
}

/* Admit "<line> HTTP/1.1" with header lines <hdrs> on the rig's connection, routed to
 * <route>; returns the refusal reason or NULL. */
static const char *admit(struct rig *r, const char *line, const char *hdrs, int route)
{
	r->c.rq = &r->rq;
	memset(&r->rq, 0, sizeof(r->rq));
	r->rq.rt = &r->rt;
	snprintf(r->buf, sizeof(r->buf), "%s HTTP/1.1\r\nHost: a\r\n%s\r\n", line, hdrs);
	http_msg_init(&r->m);
	if (http_parse_request_head(&r->m, r->buf, strlen(r->buf)) <= 0)
		return "parse";
	r->p.cb_ns = now_ns();
	return lanes_admit(&r->c, &r->m, r->buf, r->cfg, route);
}

/* The request on the rig is answered: report it as the front does. */
static void done(struct rig *r)
{
	struct og_req_event e = {.lane = r->rq.lane,
				 .lane_flags = r->rq.lane_flags,
				 .status = 200,
				 .dur_ns = 1000,
				 .route = r->rq.route};

	lanes_request_done(&r->w, &e);
}

static void rig_close(struct rig *r)
{
	lanes_conn_close(&r->c);
	close(r->c.fd);
	close(r->cfd);
	config_free(r->cfg);
}

static const char *const Y = "lanes:\n"
			     "  trusted: [\"%s\"]\n"
			     "  order: { match: { dst_ports: [%s] } }\n"
			     "limits: { dry_run: %s, kill_switch: { path: /kill } }\n"
			     "routes:\n"
			     "  - { name: b, match: { path: /b }, respond: {}, lane: bulk }\n"
			     "  - { name: any, match: {}, respond: {} }\n";

static void test_admit(void)
{
	char fmt[1024];
	struct rig r;
	struct lane_live *bulk = &og_lanes.lane[OG_LANE_BULK];

	/* trusted 127.0.0.1; the listener's port is an order port */
	snprintf(fmt, sizeof(fmt), Y, "127.0.0.0/8", "%u", "false");
	if (rig_open(&r, fmt)) {
		OK(0, "rig");
		return;
	}
	OK(!admit(&r, "GET /x", "", 1) && r.rq.lane == OG_LANE_ORDER,
	   "connection to a dst_ports listener: order lane (%u)", r.rq.lane);
	done(&r);
	OK(!admit(&r, "GET /x", "x-traffic-tier: bulk\r\n", 1) && r.rq.lane == OG_LANE_BULK,
	   "trusted source: x-traffic-tier bulk honoured");
	OK(pin_calls == 1 && pinned_lane == OG_LANE_BULK,
	   "L7 bulk != L4 order: the flow is pinned");
	OK(pinned_key.family == AF_INET && pinned_key.proto == IPPROTO_TCP &&
	       ntohs(pinned_key.dport) == r.lport && pinned_key.sport == r.c.peer.v4.sin_port &&
	       pinned_key.saddr[0] == htonl(INADDR_LOOPBACK) &&
	       pinned_key.daddr[0] == htonl(INADDR_LOOPBACK),
	   "the pin's key is the ingress flow: client -> listener port %u", r.lport);
	done(&r);
	OK(!admit(&r, "GET /x", "", 1) && r.rq.lane == OG_LANE_ORDER && unpin_calls == 1 &&
	       !pinned_lane,
	   "back in its L4 lane: unpinned");
	done(&r);
	OK(!admit(&r, "GET /b", "", 0) && r.rq.lane == OG_LANE_BULK && pin_calls == 2,
	   "route lane bulk wins over the connection's lane, pinned again");
	/* bulk limited to 1 in flight: the request above holds it */
	atomic_store(&bulk->limit, 1);
	OK_EQ(atomic_load(&bulk->inflight), 1, "bulk in flight: 1");
	{
		struct og_req held = r.rq;
		const char *why = admit(&r, "GET /b", "", 0);

		OK(why && !strcmp(why, "lane-shed") && r.rq.retry_after == 1,
		   "second bulk request over the limit: lane-shed, Retry-After 1 (%s)",
		   why ? why : "admitted");
		OK_EQ(atomic_load(&bulk->inflight), 1, "a refused request takes no in-flight slot");
		OK(note_calls == 1 && noted_src.family == AF_INET &&
		       noted_src.addr[0] == htonl(INADDR_LOOPBACK) && !noted_src.pad[0],
		   "the 429 is noted for the slow loop with the client's address (%d notes)",
		   note_calls);
		OK(!admit(&r, "GET /kill", "x-traffic-tier: bulk\r\n", 1) &&
		       r.rq.lane == OG_LANE_BULK && (r.rq.lane_flags & LQ_EXEMPT),
		   "the kill switch in the full bulk lane is admitted");
		done(&r);
		r.rq = held;
		done(&r);
		OK_EQ(atomic_load(&bulk->inflight), 0, "answered requests give their slots back");
	}
	rig_close(&r);
	OK_EQ(unpin_calls, 2, "closing a pinned connection unpins its flow");
	atomic_store(&bulk->limit, 0);

	/* untrusted source, another port: the tier header is ignored and counted; dry_run */
	snprintf(fmt, sizeof(fmt), Y, "10.0.0.0/8", "1", "true");
	if (rig_open(&r, fmt)) {
		OK(0, "rig 2");
		return;
	}
	struct lanes_totals t0, t1;
	struct lanes_sum s0, s1;

	lanes_totals(&t0);
	OK(!admit(&r, "GET /x", "x-traffic-tier: order\r\n", 1) && r.rq.lane == OG_LANE_NORMAL,
	   "untrusted source: x-traffic-tier ignored, normal lane");
	lanes_totals(&t1);
	OK_EQ(t1.tier_untrusted - t0.tier_untrusted, 1, "... and counted");
	done(&r);
	atomic_store(&bulk->limit, 1);
	lanes_sum(OG_LANE_BULK, &s0);
	OK(!admit(&r, "GET /b", "", 0) && !admit(&r, "GET /b", "", 0),
	   "dry_run: two bulk requests over a limit of 1 both admitted");
	lanes_sum(OG_LANE_BULK, &s1);
	OK_EQ(s1.dry_run[LR_LANE_SHED] - s0.dry_run[LR_LANE_SHED], 1,
	      "dry_run: the would-be shed counted");
	OK_EQ(s1.rejected[LR_LANE_SHED] - s0.rejected[LR_LANE_SHED], 0, "dry_run: nothing refused");
	OK_EQ(note_calls, 1, "dry_run: no 429, nothing noted for the slow loop");
	atomic_store(&bulk->limit, 0);
	rig_close(&r);
}

int main(void)
{
	test_cidr_tier();
	test_bucket();
	test_admit();
	return og_done();
}
