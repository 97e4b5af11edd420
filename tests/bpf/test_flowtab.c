// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* og_flows as a table of sets (flows.h): lane-aware eviction, stamps, busy ways, two CPUs
 * admitting. */
#include <pthread.h>

#include "bpf_fixture.h"

#define SEC	 1000000000ULL
#define P_ORDER	 9443 /* fx_port: lane order */
#define P_NORMAL 8080 /* no rule: the default lane, normal */
#define FLOWS	 8    /* og_flow_sets(8) = 4 sets of 4 ways */
#define WANT_SET 2
#define N_NORMAL 5

static struct pkt_spec spec(const char *src, __u16 sport, __u16 dport)
{
	return (struct pkt_spec){.family = AF_INET,
				 .proto = IPPROTO_TCP,
				 .src = src,
				 .sport = sport,
				 .dport = dport,
				 .tcp_flags = PKT_ACK};
}

/* The first source port from 20000 up whose flow <src> -> :<dport> lands in set <want>. */
static __u16 port_in_set(struct og_bpf *s, const char *src, __u16 dport, __u32 want, __u16 from)
{
	__u32 mask = bpf_map__max_entries(s->maps.og_flow_dir) - 1;
	struct og_flow_key k;
	struct pkt_spec ps;
	__u32 p;

	for (p = from; p < 65535; p++) {
		ps = spec(src, p, dport);
		fx_key(&ps, &k);
		if (((__u32)og_key_hash(&k) & mask) == want)
			return p;
	}
	return 0;
}

static void send_pkt(struct og_bpf *s, struct pkt_spec ps, __u8 flags)
{
	struct fx_xdp_out o;
	__u8 pkt[PKT_MAX];
	size_t len;

	ps.tcp_flags = flags;
	len = pkt_build(&ps, pkt, NULL);
	fx_xdp(s, pkt, len, &o);
}

/* SYN then the handshake's ACK: the ACK admits the flow (admit.h). */
static void handshake(struct og_bpf *s, struct pkt_spec ps)
{
	send_pkt(s, ps, PKT_SYN);
	send_pkt(s, ps, PKT_ACK);
}

static int present(struct og_bpf *s, struct pkt_spec ps)
{
	struct og_flow_stats fs;
	struct og_flow_key k;

	fx_key(&ps, &k);
	return fx_flow(s, &k, &fs) == 0;
}

/*
 * One set, five normal flows and an order flow. A new normal flow in a full set
 * evicts an idle normal one, not the order flow that has been idle longer
 * (OG_FLOW_ORDER_GRACE); once the normal flows are ~100 s more recent than it,
 * the order flow goes. Flows that send refresh their stamps.
 */
static void eviction(void)
{
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct og_config cfg = fx_cfg_default();
	struct pkt_spec ord, nor[N_NORMAL + 1];
	__u16 p = 20000;
	int i, j, n;
	struct og_bpf *s = fx_load_sized(FLOWS);

	OK(s != NULL, "eviction: skeleton with a %d-flow og_flows", FLOWS);
	if (!s)
		return;
	OK(bpf_map__max_entries(s->maps.og_flow_dir) == 4 &&
	       bpf_map__max_entries(s->maps.og_flows) == 16,
	   "eviction: 4 sets of 4 ways");
	fx_set_cfg(s, &cfg);
	fx_port(s, P_ORDER, OG_LANE_ORDER);
	ord = spec("10.5.0.1", port_in_set(s, "10.5.0.1", P_ORDER, WANT_SET, p), P_ORDER);
	for (i = 0; i <= N_NORMAL; i++) {
		p = port_in_set(s, "10.5.0.2", P_NORMAL, WANT_SET, p) + 1;
		nor[i] = spec("10.5.0.2", p - 1, P_NORMAL);
	}
	OK(ord.sport && nor[N_NORMAL].sport, "eviction: found 1 order + %d normal flows of set %d",
	   N_NORMAL + 1, WANT_SET);

	fx_clock(s, 1 * SEC);
	handshake(s, ord);
	OK(present(s, ord), "eviction: the order flow is admitted at 1 s");
	fx_clock(s, 11 * SEC);
	for (i = 0; i < 3; i++)
		handshake(s, nor[i]);
	for (i = 0, n = 0; i < 3; i++)
		n += present(s, nor[i]);
	OK_EQ(n, 3, "eviction: 3 normal flows fill the set at 11 s");

	fx_lanes(s, b);
	handshake(s, nor[3]);
	fx_lanes(s, a);
	OK(present(s, nor[3]), "eviction: a 4th normal flow takes a way of the full set");
	OK(present(s, ord), "eviction: the order flow, idle 10 s longer, keeps its way");
	for (i = 0, n = 0; i < 3; i++)
		n += present(s, nor[i]);
	OK_EQ(n, 2, "eviction: one of the idle normal flows gave its way");
	OK(FX_D(a, b, OG_LANE_NORMAL, flows_evicted) == 1 &&
	       FX_D(a, b, OG_LANE_ORDER, flows_evicted) == 0,
	   "eviction: counted in lane normal's flows_evicted (normal +%llu, order +%llu)",
	   (unsigned long long)FX_D(a, b, OG_LANE_NORMAL, flows_evicted),
	   (unsigned long long)FX_D(a, b, OG_LANE_ORDER, flows_evicted));

	/* 100 s later the normal flows send again (three packets: og_seen's bits aged
	 * out, so two go stateless before the entry is found), refreshing their
	 * stamps; the order flow stays idle. */
	fx_clock(s, 111 * SEC);
	for (i = 0; i < 4; i++)
		if (present(s, nor[i]))
			for (j = 0; j < 3; j++)
				send_pkt(s, nor[i], PKT_ACK);
	fx_lanes(s, b);
	handshake(s, nor[4]);
	fx_lanes(s, a);
	OK(present(s, nor[4]), "eviction: a 5th normal flow at 111 s is admitted");
	OK(!present(s, ord), "eviction: the order flow, idle 110 s against 0 s, gave its way");
	OK(FX_D(a, b, OG_LANE_ORDER, flows_evicted) == 1,
	   "eviction: counted in lane order's flows_evicted (+%llu)",
	   (unsigned long long)FX_D(a, b, OG_LANE_ORDER, flows_evicted));
	og_bpf__destroy(s);
}

/*
 * A way another CPU is writing (tag OG_FLOW_BUSY) is never taken: with all four
 * ways of a set busy, an admission leaves the flow stateless, and does not drop
 * even with fail_mode closed (a busy way is not a map failure). Once the ways
 * are free again, the flow's next packets admit it.
 */
static void busy_set(void)
{
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct og_config cfg = fx_cfg_default();
	struct og_flow_dir d = {};
	struct og_flow_key k;
	struct pkt_spec ps;
	struct fx_xdp_out o;
	__u8 pkt[PKT_MAX];
	__u32 idx;
	size_t len;
	int i;
	struct og_bpf *s = fx_load_sized(FLOWS);

	OK(s != NULL, "busy: skeleton");
	if (!s)
		return;
	cfg.fail_mode = OG_FAIL_CLOSED;
	fx_set_cfg(s, &cfg);
	fx_clock(s, SEC);
	ps = spec("10.6.0.1", 30000, P_NORMAL);
	fx_key(&ps, &k);
	fx_flow_dir(s, &k, &idx, &d);
	for (i = 0; i < OG_FLOW_WAYS; i++)
		d.w[i] = OG_FLOW_BUSY;
	bpf_map_update_elem(bpf_map__fd(s->maps.og_flow_dir), &idx, &d, BPF_ANY);

	fx_lanes(s, b);
	send_pkt(s, ps, PKT_SYN);
	ps.tcp_flags = PKT_ACK;
	len = pkt_build(&ps, pkt, NULL);
	fx_xdp(s, pkt, len, &o);
	fx_lanes(s, a);
	OK(o.ret == 0 && o.verdict == XDP_PASS, "busy: the admitting ACK passes under fail-closed");
	OK(!present(s, ps), "busy: no way taken while all four are being written");
	OK(FX_D(a, b, OG_LANE_NORMAL, new_flows) == 0 &&
	       FX_D(a, b, OG_LANE_NORMAL, drop_error) == 0 &&
	       FX_D(a, b, OG_LANE_NORMAL, stateless) == 2,
	   "busy: no new flow, no error drop, both packets stateless");

	memset(&d, 0, sizeof(d));
	bpf_map_update_elem(bpf_map__fd(s->maps.og_flow_dir), &idx, &d, BPF_ANY);
	send_pkt(s, ps, PKT_ACK);
	OK(present(s, ps), "busy: the ways freed, the flow's next packet admits it");
	og_bpf__destroy(s);
}

#define STORM_ROUNDS 40
#define STORM_REPEAT 20000

struct storm_arg {
	int cpu, prog_fd, err;
	pthread_barrier_t *start;
	__u8 pkt[PKT_MAX];
	size_t len;
};

/* One CPU's handshake storm: storm_xdp (bench/trivial.bpf.o) alternates a random
 * source's SYN and ACK in the kernel's repeat loop and tail-calls og_xdp. */
static void *storm_cpu(void *p)
{
	struct storm_arg *a = p;
	__u8 out[PKT_MAX + 64];
	cpu_set_t set;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = a->pkt, .data_size_in = a->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = STORM_REPEAT);

	CPU_ZERO(&set);
	CPU_SET(a->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_barrier_wait(a->start);
	a->err = bpf_prog_test_run_opts(a->prog_fd, &o);
	return NULL;
}

/* Live ways of <s>, and in <bad> those whose key does not hash to their set and
 * tag or is not a storm flow of lane order, or that are left claimed (busy). */
static __u32 check_ways(struct og_bpf *s, __u32 *bad)
{
	__u32 set, nsets = bpf_map__max_entries(s->maps.og_flow_dir), live = 0;
	int w;

	for (set = 0; set < nsets; set++) {
		struct og_flow_dir d;

		if (bpf_map_lookup_elem(bpf_map__fd(s->maps.og_flow_dir), &set, &d))
			continue;
		for (w = 0; w < OG_FLOW_WAYS; w++) {
			__u32 idx = set * OG_FLOW_WAYS + w;
			struct og_flow_way way;
			__u64 h;

			*bad += d.w[w] == OG_FLOW_BUSY;
			if (!(d.w[w] & 1))
				continue;
			live++;
			if (bpf_map_lookup_elem(bpf_map__fd(s->maps.og_flows), &idx, &way)) {
				(*bad)++;
				continue;
			}
			h = og_key_hash(&way.key);
			if ((d.w[w] & OG_FLOW_TAG_MASK) != og_flow_tag(h) ||
			    ((__u32)h & (nsets - 1)) != set ||
			    (ntohl(way.key.saddr[0]) >> 22) != (0x64400000U >> 22) ||
			    way.s.lane != OG_LANE_ORDER)
				(*bad)++;
		}
	}
	return live;
}

/*
 * Two CPUs admit flows into one set of four ways at once: STORM_ROUNDS rounds of
 * STORM_REPEAT runs of storm_xdp's SYN/ACK pairs on each CPU, started together.
 * After each round every live way's key must hash to its set and tag and no way
 * may be left claimed; over all rounds admissions and evictions must balance.
 * A stress test of the claim protocol, not a proof: the window two writers
 * must hit to tear a way is a few nanoseconds, and with the compare-and-swap
 * replaced by a plain store three runs here still found no torn way.
 */
static void two_cpus(void)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct og_config cfg = fx_cfg_default();
	struct pkt_spec ps = spec("100.64.0.1", 40000, P_ORDER);
	struct storm_arg arg[2] = {{.cpu = 0}, {.cpu = 1}};
	pthread_barrier_t start;
	struct bpf_object *tobj;
	struct bpf_program *sp;
	struct bpf_map *fm;
	pthread_t th[2];
	char path[256];
	__u32 zero = 0, live = 0, bad = 0;
	__u64 admitted, evicted;
	int i, r, fd, err = 0;
	struct og_bpf *s;

	if (libbpf_num_possible_cpus() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		OK(1, "two_cpus # SKIP needs 2 CPUs");
		return;
	}
	snprintf(path, sizeof(path), "%s/bench/trivial.bpf.o", build);
	tobj = bpf_object__open_file(path, NULL);
	OK(tobj && !bpf_object__load(tobj), "two_cpus: loaded %s (storm_xdp)", path);
	if (!tobj)
		return;
	s = fx_load_sets(1);
	sp = bpf_object__find_program_by_name(tobj, "storm_xdp");
	fm = bpf_object__find_map_by_name(tobj, "flood_target");
	fd = s ? bpf_program__fd(s->progs.og_xdp) : -1;
	OK(s && sp && fm && !bpf_map_update_elem(bpf_map__fd(fm), &zero, &fd, BPF_ANY),
	   "two_cpus: storm_xdp tail-calls og_xdp");
	if (!s || !sp || !fm) {
		bpf_object__close(tobj);
		if (s)
			og_bpf__destroy(s);
		return;
	}
	fx_set_cfg(s, &cfg);
	fx_port(s, P_ORDER, OG_LANE_ORDER);
	fx_clock(s, SEC);
	fx_lanes(s, b);
	for (r = 0; r < STORM_ROUNDS && !err; r++) {
		pthread_barrier_init(&start, NULL, 2);
		for (i = 0; i < 2; i++) {
			arg[i].prog_fd = bpf_program__fd(sp);
			arg[i].start = &start;
			arg[i].len = pkt_build(&ps, arg[i].pkt, NULL);
			pthread_create(&th[i], NULL, storm_cpu, &arg[i]);
		}
		for (i = 0; i < 2; i++) {
			pthread_join(th[i], NULL);
			err = err ?: arg[i].err;
		}
		pthread_barrier_destroy(&start);
		live += check_ways(s, &bad);
	}
	fx_lanes(s, a);
	OK(!err, "two_cpus: %d rounds of both storms ran (%d)", r, err);
	admitted = FX_D(a, b, OG_LANE_ORDER, new_flows);
	evicted = FX_D(a, b, OG_LANE_ORDER, flows_evicted);
	OK(admitted > STORM_ROUNDS * STORM_REPEAT / 2 && admitted - evicted == OG_FLOW_WAYS,
	   "two_cpus: %llu admissions, %llu evictions: every admission but the 4 that filled the "
	   "set evicted exactly one flow",
	   (unsigned long long)admitted, (unsigned long long)evicted);
	OK(live >= 2 * STORM_ROUNDS && bad == 0,
	   "two_cpus: %u live ways checked after the rounds, %u with a key not of their tag or set",
	   live, bad);
	og_bpf__destroy(s);
	bpf_object__close(tobj);
}

int main(void)
{
	eviction();
	busy_set();
	two_cpus();
	return og_done();
}
