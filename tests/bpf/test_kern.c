// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The daemon's kernel writer against real maps and og_xdp: per-flow pins, throttles, one writer. */
#include <arpa/inet.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

#include "bpf_fixture.h"
#include "dp/dp.h"
#include "lanes/kern.h"
#include "lanes/slow.h"

#define MS 1000000ULL

static __u32 xsend(struct og_bpf *s, const struct pkt_spec *ps, struct og_xdp_meta *meta)
{
	struct fx_xdp_out o;
	__u8 pkt[PKT_MAX];
	size_t len = pkt_build(ps, pkt, NULL);

	fx_xdp(s, pkt, len, &o);
	if (meta)
		*meta = o.meta;
	return o.ret ? 0xffff : o.verdict;
}

static __u32 pin_seq(struct og_bpf *s, const struct og_flow_key *k)
{
	__u32 slot = og_pin_slot(k), seq = 0;

	bpf_map_lookup_elem(bpf_map__fd(s->maps.og_pin_hint), &slot, &seq);
	return seq;
}

/* A pin reaches that flow only: the writer bumps the key's og_pin_hint slot, not rules_gen,
 * og_xdp takes the pin on the flow's next packet and every other flow keeps its cached
 * lane at the same rules_gen. (Flows get og_flows state on their second non-SYN packet.) */
static void pins(struct og_bpf *s)
{
	struct pkt_spec a = {.family = AF_INET,
			     .proto = IPPROTO_TCP,
			     .src = "10.40.0.1",
			     .sport = 40001,
			     .dport = 8080};
	struct pkt_spec b = {.family = AF_INET,
			     .proto = IPPROTO_TCP,
			     .src = "10.40.0.2",
			     .sport = 40002,
			     .dport = 8080};
	struct og_flow_stats fa, fb, fb2;
	struct og_flow_key ka, kb;
	struct og_flow_pin pin;
	struct og_xdp_meta m;
	__u32 gen0;

	__u32 seq0;

	fx_key(&a, &ka);
	fx_key(&b, &kb);
	for (int i = 0; i < 2; i++) {
		xsend(s, &a, NULL);
		xsend(s, &b, NULL);
	}
	OK(fx_flow(s, &kb, &fb) == 0 && fb.pkts == 2, "two packets each: both flows admitted");
	gen0 = fx_get_cfg(s).rules_gen;
	seq0 = pin_seq(s, &ka);
	OK(kern_pin(&ka, OG_LANE_ORDER) == 0 && kern_flush(2000) == 0, "pin queued and applied");
	OK(bpf_map_lookup_elem(bpf_map__fd(s->maps.og_flow_lane), &ka, &pin) == 0 &&
	       pin.lane == OG_LANE_ORDER,
	   "og_flow_lane holds the pin");
	OK_EQ(fx_get_cfg(s).rules_gen, gen0, "a pin does not bump rules_gen");
	OK_EQ(pin_seq(s, &ka), seq0 + 1, "the pin bumped its key's og_pin_hint slot");
	xsend(s, &a, &m);
	fx_flow(s, &ka, &fa);
	OK(m.lane == OG_LANE_ORDER && m.lane_src == OG_LSRC_PIN && fa.lane == OG_LANE_ORDER &&
	       fa.gen == gen0,
	   "next packet of the pinned flow takes the pin (lane %u src %u)", m.lane, m.lane_src);
	xsend(s, &b, &m);
	fx_flow(s, &kb, &fb2);
	OK(fb2.gen == fb.gen && fb2.lane == OG_LANE_NORMAL && fb2.pkts == fb.pkts + 1,
	   "another flow keeps its cached lane and generation");
	OK(kern_unpin(&ka) == 0 && kern_flush(2000) == 0 &&
	       bpf_map_lookup_elem(bpf_map__fd(s->maps.og_flow_lane), &ka, &pin) != 0,
	   "unpin deletes the entry");
	xsend(s, &a, &m);
	OK(m.lane == OG_LANE_NORMAL && m.lane_src == OG_LSRC_DEFAULT,
	   "after unpin the flow falls back to its rules (lane %u)", m.lane);
	OK_EQ(fx_get_cfg(s).rules_gen, gen0, "unpin does not bump rules_gen either");
	OK(kern_pin(&ka, OG_LANE_NONE) == -EINVAL && kern_pin(&ka, 9) == -EINVAL,
	   "lane none or out of range refused at the call");
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* What a worker pays per pin: a post that finds room (the writer drains meanwhile). */
static void post_cost(void)
{
	struct og_flow_key k = {.family = AF_INET, .proto = IPPROTO_TCP};
	__u64 t0, t1;
	int i, ok = 0;

	kern_flush(5000);
	t0 = mono_ns();
	for (i = 0; i < 200; i++) {
		k.saddr[0] = htonl(0x0a600000 + i);
		ok += kern_pin(&k, OG_LANE_BULK) == 0;
	}
	t1 = mono_ns();
	OK_EQ(ok, 200, "200 posts into an empty 256-slot queue all succeed");
	og_diag("kern_pin: %.0f ns per post (200 posts, writer draining)", (t1 - t0) / 200.0);
	kern_flush(5000);
}

/* A throttle appears in og_throttle with its TTL, drops in og_xdp, and lapses. */
static void throttles(struct og_bpf *s)
{
	struct pkt_spec f = {.family = AF_INET,
			     .proto = IPPROTO_UDP,
			     .src = "10.41.0.9",
			     .sport = 41000,
			     .dport = 53};
	struct og_addr_key src = {.family = AF_INET};
	struct og_throttle t;
	struct kern_stats ks;
	__u64 now = dp_now_ns();
	int i, pass = 0, drop = 0;

	pkt_addr("10.41.0.9", src.addr);
	OK(kern_throttle(&src, 5, 5, 400) == 0 && kern_flush(2000) == 0, "throttle queued");
	OK(bpf_map_lookup_elem(bpf_map__fd(s->maps.og_throttle), &src, &t) == 0 &&
	       t.rate_pps == 5 && t.burst == 5 && t.expires_ns >= now + 400 * MS &&
	       t.expires_ns < now + 900 * MS,
	   "og_throttle entry with a 400 ms TTL");
	OK_EQ(fx_get_cfg(s).throttle_count, 1, "the writer recounted throttle_count");
	fx_clock(s, dp_now_coarse_ns());
	for (i = 0; i < 20; i++)
		xsend(s, &f, NULL) == XDP_PASS ? pass++ : drop++;
	OK(pass == 5 && drop == 15, "og_xdp passes the burst of 5 and drops 15 (%d/%d)", pass,
	   drop);
	usleep(450 * 1000);
	fx_clock(s, dp_now_coarse_ns());
	for (i = pass = 0; i < 20; i++)
		pass += xsend(s, &f, NULL) == XDP_PASS;
	OK_EQ(pass, 20, "after the TTL every packet passes");
	/* the writer's periodic recount (1 s) takes the lapsed entry out of the count */
	for (i = 0; i < 40 && fx_get_cfg(s).throttle_count; i++)
		usleep(50 * 1000);
	OK_EQ(fx_get_cfg(s).throttle_count, 0, "the lapsed entry leaves throttle_count");
	kern_stats_read(&ks);
	OK(ks.throttles_live == 0 && ks.recounts >= 2, "stats: live 0 after %llu recounts",
	   (unsigned long long)ks.recounts);
	OK(kern_throttle(&src, 0, 5, 100) == -EINVAL && kern_throttle(&src, 5, 5, 0) == -EINVAL,
	   "pps 0 or ttl 0 refused at the call");
	OK(kern_unthrottle(&src) == 0 && kern_flush(2000) == 0 &&
	       bpf_map_lookup_elem(bpf_map__fd(s->maps.og_throttle), &src, &t) != 0,
	   "unthrottle deletes the entry");
}

/* The key a worker builds at accept is the one og_xdp keys the flow by. */
static void flow_key(struct og_bpf *s)
{
	struct pkt_spec a = {.family = AF_INET,
			     .proto = IPPROTO_TCP,
			     .src = "10.43.0.1",
			     .dst = "10.43.0.2",
			     .sport = 43001,
			     .dport = 9443};
	struct pkt_spec b = {.family = AF_INET6,
			     .proto = IPPROTO_TCP,
			     .src = "fd43::1",
			     .dst = "fd43::2",
			     .sport = 43002,
			     .dport = 9443};
	struct sockaddr_in6 p6 = {.sin6_family = AF_INET6, .sin6_port = htons(43001)};
	struct sockaddr_in6 l6 = {.sin6_family = AF_INET6, .sin6_port = htons(9443)};
	struct og_flow_key want, got;
	struct og_flow_stats fs;

	/* a dual-stack listener sees an IPv4 client as ::ffff:10.43.0.1 */
	inet_pton(AF_INET6, "::ffff:10.43.0.1", &p6.sin6_addr);
	inet_pton(AF_INET6, "::ffff:10.43.0.2", &l6.sin6_addr);
	fx_key(&a, &want);
	OK(kern_flow_key((void *)&p6, (void *)&l6, &got) == 0 && !memcmp(&got, &want, sizeof(got)),
	   "kern_flow_key: v4-mapped peer/local give og_xdp's IPv4 key");
	xsend(s, &a, NULL);
	xsend(s, &a, NULL);
	OK(fx_flow(s, &got, &fs) == 0 && fs.pkts >= 2, "og_flows has the flow under that key");
	inet_pton(AF_INET6, "fd43::1", &p6.sin6_addr);
	inet_pton(AF_INET6, "fd43::2", &l6.sin6_addr);
	p6.sin6_port = htons(43002);
	fx_key(&b, &want);
	OK(kern_flow_key((void *)&p6, (void *)&l6, &got) == 0 && !memcmp(&got, &want, sizeof(got)),
	   "kern_flow_key: IPv6 peer/local give og_xdp's IPv6 key");
}

struct prod {
	int id, ok, full, other;
};

static void *producer(void *arg)
{
	struct prod *p = arg;
	struct og_flow_key k = {.family = AF_INET, .proto = IPPROTO_TCP};

	for (int i = 0; i < 3000; i++) {
		k.saddr[0] = htonl(0x0a500000 + p->id * 10000 + i);
		int r = kern_pin(&k, OG_LANE_BULK);

		r == 0 ? p->ok++ : r == -EAGAIN ? p->full++ : p->other++;
	}
	return NULL;
}

/* Four threads post 12000 pins into a 256-slot queue: every call returns at once, each
 * refusal is -EAGAIN and counted, each accepted request is applied exactly once. */
static void queue(struct og_bpf *s)
{
	struct prod p[4] = {{0}, {1}, {2}, {3}};
	pthread_t th[4];
	struct kern_stats k0, k1;
	int ok = 0, full = 0, other = 0, i;
	__u64 n = 0;
	struct dp_maps m;
	char err[256];

	fx_clear(s->maps.og_flow_lane);
	kern_stats_read(&k0);
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, producer, &p[i]);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok += p[i].ok;
		full += p[i].full;
		other += p[i].other;
	}
	OK(kern_flush(10000) == 0, "queue drains");
	kern_stats_read(&k1);
	OK(other == 0 && ok + full == 12000, "every call answered 0 or -EAGAIN (%d ok, %d full)",
	   ok, full);
	OK(k1.posted - k0.posted == (__u64)ok && k1.full - k0.full == (__u64)full,
	   "posted and full counted (%llu, %llu)", (unsigned long long)(k1.posted - k0.posted),
	   (unsigned long long)(k1.full - k0.full));
	OK_EQ(k1.applied - k0.applied, ok, "each accepted pin applied once");
	dp_maps_from_skel(&m, s, err, sizeof(err));
	dp_map_count(&m, DP_MAP_FLOW_LANE, &n);
	OK_EQ(n, ok, "og_flow_lane holds exactly the accepted pins");
	dp_maps_close(&m);
}

/*
 * Writers in separate processes (the daemon, ordergatectl, a second daemon) racing on
 * og_config: rules_gen bumps and throttle recounts must all land. Before the og_config
 * lock each read-modify-write could overwrite another's.
 */
static void one_writer(struct og_bpf *s)
{
	struct dp_maps m;
	char err[256];
	__u32 gen0;
	pid_t pid[3];
	int i, j, st, bad = 0;

	dp_maps_from_skel(&m, s, err, sizeof(err));
	fx_clear(s->maps.og_throttle);
	dp_throttle_recount(&m, NULL);
	gen0 = fx_get_cfg(s).rules_gen;
	for (i = 0; i < 3; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			for (j = 0; j < 300; j++) {
				struct og_addr_key a = {.family = AF_INET};

				a.addr[0] = htonl(0xc6336400 + i * 1000 + j);
				if (i == 1)
					dp_config_bump_gen(&m);
				else
					dp_throttle_set(&m, &a, 10, 10, 60000 * MS);
			}
			_exit(0);
		}
	}
	for (i = 0; i < 3; i++)
		if (waitpid(pid[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	OK_EQ(bad, 0, "three writer processes finished");
	OK_EQ(fx_get_cfg(s).rules_gen, gen0 + 300, "no rules_gen bump lost");
	OK_EQ(fx_get_cfg(s).throttle_count, 600, "no throttle_count update lost");
	fx_clear(s->maps.og_throttle);
	dp_throttle_recount(&m, NULL);
	dp_maps_close(&m);
}

/*
 * The slow loop end to end: a flood of connections (SYN, then the ACK that gives each flow
 * og_flows state with its SYN counted) from one source shows in og_flows, the writer's
 * tick (every 100 ms) throttles the source in og_throttle with the TTL, og_xdp drops it,
 * and with the flood over the entry lapses and leaves throttle_count.
 */
static void slow_loop(struct og_bpf *s)
{
	struct pkt_spec f = {.family = AF_INET,
			     .proto = IPPROTO_TCP,
			     .src = "10.42.0.66",
			     .dport = 443,
			     .tcp_flags = PKT_SYN};
	struct pkt_spec calm = {.family = AF_INET,
				.proto = IPPROTO_TCP,
				.src = "10.42.0.7",
				.sport = 999,
				.dport = 443};
	struct og_addr_key src = {.family = AF_INET}, csrc = {.family = AF_INET};
	struct kern_opts o = {.tick = slow_tick, .tick_ms = 100};
	struct slow_params p;
	struct slow_stats ss;
	struct og_throttle t;
	struct dp_maps m;
	char err[256] = "";
	__u64 t0;
	int i, drop = 0, found = 0;

	slow_params_default(&p);
	p.ttl_ms = 800;
	p.syn_rate = 100;
	p.calm_ticks = 1000; /* no early release: this checks the lapse */
	fx_flows_clear(s);
	fx_clear(s->maps.og_throttle);
	pkt_addr("10.42.0.66", src.addr);
	pkt_addr("10.42.0.7", csrc.addr);
	dp_maps_from_skel(&m, s, err, sizeof(err));
	o.maps = &m;
	OK(slow_init(&p) == 0 && kern_start(&o, err, sizeof(err)) == 0,
	   "writer with the slow loop as its 100 ms tick (%s)", err);
	dp_maps_close(&m);
	usleep(250 * 1000); /* a primed first read */
	/* SYNs in rounds of 50 until the loop reacts (bounded): a busy machine may spread a
	 * fixed flood over several windows */
	for (i = 0; i < 60 && !found; i++) {
		fx_clock(s, dp_now_coarse_ns());
		for (int j = 0; j < 50; j++) {
			/* a connection's SYN, then its ACK admits it with the SYN counted */
			f.sport = (__u16)(20000 + i * 50 + j);
			f.tcp_flags = PKT_SYN;
			xsend(s, &f, NULL);
			f.tcp_flags = PKT_ACK;
			xsend(s, &f, NULL);
		}
		xsend(s, &calm, NULL);
		usleep(20 * 1000);
		found = bpf_map_lookup_elem(bpf_map__fd(s->maps.og_throttle), &src, &t) == 0;
	}
	t0 = dp_now_ns();
	OK(found && t.rate_pps == p.throttle_pps && t.burst == p.throttle_burst &&
	       t.expires_ns > t0 && t.expires_ns <= t0 + 800 * MS + 50 * MS,
	   "the flooding source is in og_throttle with the 800 ms TTL");
	OK(bpf_map_lookup_elem(bpf_map__fd(s->maps.og_throttle), &csrc, &t) != 0,
	   "the calm source next to it is not throttled");
	OK_EQ(fx_get_cfg(s).throttle_count, 1, "throttle_count 1");
	fx_clock(s, dp_now_coarse_ns());
	f.tcp_flags = PKT_SYN;
	for (i = 0; i < 400; i++) {
		f.sport = 30000 + i;
		drop += xsend(s, &f, NULL) == XDP_DROP;
	}
	OK(drop >= 150, "og_xdp drops the flood beyond the bucket (%d of 400)", drop);
	/* the flood stops: the entry lapses by its TTL and leaves the count */
	for (i = 0; i < 100 && fx_get_cfg(s).throttle_count; i++)
		usleep(30 * 1000);
	OK(dp_now_ns() >= t0 + 800 * MS && fx_get_cfg(s).throttle_count == 0,
	   "after the TTL the entry has lapsed and throttle_count is 0");
	fx_clock(s, dp_now_coarse_ns());
	f.sport = 40000;
	OK_EQ(xsend(s, &f, NULL), XDP_PASS, "the source passes again");
	slow_stats_read(&ss);
	OK(ss.ticks >= 5 && ss.throttles >= 1 && ss.post_failed == 0,
	   "stats: %llu ticks, %llu throttles", (unsigned long long)ss.ticks,
	   (unsigned long long)ss.throttles);
	kern_stop();
	slow_fini();
}

int main(void)
{
	struct og_bpf *s = fx_load();
	struct kern_opts o = {.queue = 256};
	struct og_config c;
	struct dp_maps m;
	char err[256] = "";

	if (!s) {
		OK(0, "skeleton loads");
		return og_done();
	}
	c = fx_cfg_default();
	fx_set_cfg(s, &c);
	OK(kern_pin(&(struct og_flow_key){0}, OG_LANE_ORDER) == -ENODEV,
	   "no writer: -ENODEV at the cost of a load");
	OK(dp_maps_from_skel(&m, s, err, sizeof(err)) == 0, "maps from skeleton");
	o.maps = &m;
	OK(kern_start(&o, err, sizeof(err)) == 0, "writer starts (%s)", err);
	dp_maps_close(&m);
	pins(s);
	flow_key(s);
	post_cost();
	throttles(s);
	queue(s);
	kern_stop();
	OK(!kern_active() && kern_pin(&(struct og_flow_key){0}, OG_LANE_ORDER) == -ENODEV,
	   "stopped writer refuses posts");
	one_writer(s);
	slow_loop(s);
	og_bpf__destroy(s);
	return og_done();
}
