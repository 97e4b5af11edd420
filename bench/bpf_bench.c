// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* bench-bpf: ns per packet of og_xdp/og_tc_out beside a trivial program and xdp-filter, via
 * BPF_PROG_TEST_RUN. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <ordergate/og_shared.h>
#include "og.skel.h"
/* The fixtures' packet builder, compiled in: bench binaries are single-file. */
#include "../tests/lib/pkt.c"

/*
 * Every case runs the program <repeat> times on one packet inside the kernel
 * (one syscall), and the kernel reports the mean ns per run. Cases are
 * interleaved round by round so machine noise hits them alike, and each
 * case's figure is the median over <runs> rounds.
 * A new flow cannot repeat on one packet (the second run is no longer new), so
 * it is measured twice over: in-kernel through flood_xdp (bench/trivial.bpf.c),
 * which gives every run a random source and tail-calls og_xdp (the harness's
 * own cost, tail-calling the trivial program, is subtracted); and one-shot,
 * once per distinct packet on a cold cache, where the kernel's timer adds its
 * own ktime read that the trivial program's repeat=1 figure measures and the
 * table subtracts (see case_new_flow).
 */

#define MAX_RUNS      51
#define NEW_FLOW_PKTS 2000

struct bcase {
	const char *name;
	int prog_fd;
	const void *pkt;
	size_t len;
	__u32 want; /* expected return value (XDP_* or TC_ACT_*) */
	double ns[MAX_RUNS];
	double median;
	int skip;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double tmp[MAX_RUNS];

	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* One test_run; returns ns per run, or a negative errno. */
static double run_once(int fd, const void *pkt, size_t len, int repeat, __u32 want)
{
	__u8 out[PKT_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = repeat);
	int err = bpf_prog_test_run_opts(fd, &opts);

	if (err)
		return -errno;
	if (opts.retval != want) {
		fprintf(stderr, "bpf_bench: unexpected verdict %d (want %d)\n", (int)opts.retval,
			(int)want);
		return -EPROTO;
	}
	return opts.duration;
}

static size_t build_flags(__u8 *buf, const char *src, const char *dst, __u16 sport, __u16 dport,
			  __u8 flags)
{
	struct pkt_spec s = {.family = AF_INET,
			     .proto = IPPROTO_TCP,
			     .src = src,
			     .dst = dst,
			     .sport = sport,
			     .dport = dport,
			     .tcp_flags = flags,
			     .payload = flags == PKT_SYN ? 0 : 10};

	return pkt_build(&s, buf, NULL);
}

static size_t build(__u8 *buf, const char *src, const char *dst, __u16 sport, __u16 dport)
{
	return build_flags(buf, src, dst, sport, dport, PKT_ACK);
}

static int load_prog(const char *path, const char *name, struct bpf_object **objp)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_map *m;

	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "bpf_bench: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* Never touch pins of a running xdp-filter or gateway. */
	bpf_object__for_each_map(m, obj) bpf_map__set_pin_path(m, NULL);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bpf_bench: load %s: %s\n", path, strerror(errno));
		bpf_object__close(obj);
		return -1;
	}
	*objp = obj;
	p = name ? bpf_object__find_program_by_name(obj, name)
		 : bpf_object__next_program(obj, NULL);
	return p ? bpf_program__fd(p) : -1;
}

/* Puts one __u64 value in a map, replicated per CPU for per-CPU maps. */
static int map_put_u64(struct bpf_map *m, const void *key, __u64 v)
{
	int ncpu = libbpf_num_possible_cpus(), i, per = 0, err;
	__u64 *vals;

	switch (bpf_map__type(m)) {
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		per = 1;
		break;
	default:
		break;
	}
	vals = calloc(per ? ncpu : 1, 8);
	for (i = 0; i < (per ? ncpu : 1); i++)
		vals[i] = v;
	err = bpf_map_update_elem(bpf_map__fd(m), key, vals, BPF_ANY);
	free(vals);
	return err;
}

/*
 * xdp-filter as `xdp-filter load` leaves it, plus one deny rule of each kind
 * that the bench packet does not match (xdp-filter port 7, ip 192.0.2.1,
 * ether 02:00:00:00:00:99), so a TCP packet walks every check it would in
 * service: two MAC, two address and two port lookups and its stats update.
 */
static int setup_xdp_filter(struct bpf_object *obj)
{
	const __u64 src_dst = 0x1 | 0x2, tcp_udp = 0x4 | 0x8; /* MAP_FLAG_SRC/DST/TCP/UDP */
	__u8 mac[6] = {0x02, 0, 0, 0, 0, 0x99};
	struct bpf_map *m;
	__u32 port = 7, ip;
	int err = 0;

	inet_pton(AF_INET, "192.0.2.1", &ip);
	m = bpf_object__find_map_by_name(obj, "filter_ports");
	err |= m ? map_put_u64(m, &port, src_dst | tcp_udp) : -1;
	m = bpf_object__find_map_by_name(obj, "filter_ipv4");
	err |= m ? map_put_u64(m, &ip, src_dst) : -1;
	m = bpf_object__find_map_by_name(obj, "filter_ethernet");
	err |= m ? map_put_u64(m, mac, src_dst) : -1;
	return err ? -1 : 0;
}

static int cfg_put(struct og_bpf *s, const struct og_config *c)
{
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(s->maps.og_config), &zero, c, BPF_ANY);
}

static int prefix_put(struct og_bpf *s, const char *addr, int bits, __u8 lane, __u8 flags)
{
	struct og_src_rule r = {.lane = lane, .flags = flags};
	struct og_lpm_key k = {.prefixlen = OG_LPM_HDR_BITS + bits, .family = AF_INET};

	inet_pton(AF_INET, addr, k.addr);
	return bpf_map_update_elem(bpf_map__fd(s->maps.og_src_rules), &k, &r, BPF_ANY);
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * New flows: NEW_FLOW_PKTS distinct source ports, each run once; og_flows is
 * emptied before each round. <second> 0 times each flow's first packet (a
 * SYN: classified, no state), 1 times its second (the handshake's ACK, which
 * the admission filter lets into og_flows: the LRU insert) after an untimed
 * SYN. Returns the median ns.
 */
static double case_new_flow(struct og_bpf *s, __u16 base, int second)
{
	static double v[NEW_FLOW_PKTS];
	__u8 pkt[PKT_MAX], key[64];
	int i, fd = bpf_program__fd(s->progs.og_xdp), mfd = bpf_map__fd(s->maps.og_flows);
	size_t len;

	while (!bpf_map_get_next_key(mfd, NULL, key))
		if (bpf_map_delete_elem(mfd, key))
			break;
	for (i = 0; i < NEW_FLOW_PKTS; i++) {
		len = build_flags(pkt, "10.9.0.1", "10.0.0.2", base + i, 9443, PKT_SYN);
		if (second) {
			run_once(fd, pkt, len, 1, XDP_PASS);
			len = build(pkt, "10.9.0.1", "10.0.0.2", base + i, 9443);
		}
		v[i] = run_once(fd, pkt, len, 1, XDP_PASS);
		if (v[i] < 0)
			return v[i];
	}
	qsort(v, NEW_FLOW_PKTS, sizeof(*v), cmp_double);
	return v[NEW_FLOW_PKTS / 2];
}

/* One packet run once, NEW_FLOW_PKTS times: the one-shot (cold) cost of a path whose
 * repeat figure is in the table, to compare the new-flow rows with. */
static double case_oneshot(int fd, const void *pkt, size_t len)
{
	static double v[NEW_FLOW_PKTS];
	int i;

	for (i = 0; i < NEW_FLOW_PKTS; i++) {
		v[i] = run_once(fd, pkt, len, 1, XDP_PASS);
		if (v[i] < 0)
			return v[i];
	}
	qsort(v, NEW_FLOW_PKTS, sizeof(*v), cmp_double);
	return v[NEW_FLOW_PKTS / 2];
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bpf_bench --trivial OBJ [--xdp-filter OBJ] [--runs N] [--repeat N]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"trivial", 1, 0, 't'},
					   {"xdp-filter", 1, 0, 'x'},
					   {"runs", 1, 0, 'n'},
					   {"repeat", 1, 0, 'r'},
					   {0, 0, 0, 0}};
	const char *trivial_path = NULL, *xf_path = NULL;
	struct bpf_object *tobj = NULL, *xobj = NULL;
	struct og_config cfg = {
	    .abi_version = OG_ABI_VERSION,
	    .enabled = 1,
	    .default_lane = OG_LANE_NORMAL,
	    .rules_gen = 1,
	    .lane_class = {0, OG_CLASS_ORDER, OG_CLASS_NORMAL, OG_CLASS_BULK},
	};
	__u8 p_known[PKT_MAX], p_pin[PKT_MAX], p_block[PKT_MAX], p_thr[PKT_MAX], p_reply[PKT_MAX];
	__u8 p_miss[PKT_MAX], p_flood[PKT_MAX];
	size_t l_known, l_pin, l_block, l_thr, l_reply, l_miss, l_flood;
	int runs = 7, repeat = 1000000, opt, i, r, ntriv_tc, n = 0, budget_ok = 1, goals_ok = 1;
	double triv_r1[MAX_RUNS], nf1[MAX_RUNS], nf2[MAX_RUNS], kn1[MAX_RUNS], triv, xf = 0, known;
	double nf, nf_adm, known1, flood = 0, harness = 0, blk = 0, thr = 0;
	int i_harness = -1, i_flood = -1, i_blk = -1, i_thr = -1, flood_map = -1;
	struct bcase c[16];
	struct og_bpf *s;
	cpu_set_t set;
	struct bcase *cb;

	while ((opt = getopt_long(argc, argv, "t:x:n:r:", lo, NULL)) != -1) {
		switch (opt) {
		case 't':
			trivial_path = optarg;
			break;
		case 'x':
			xf_path = optarg;
			break;
		case 'n':
			runs = atoi(optarg);
			break;
		case 'r':
			repeat = atoi(optarg);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!trivial_path || runs < 1 || runs > MAX_RUNS || repeat < 1) {
		usage();
		return 2;
	}
	/* One CPU: og_flows is per-CPU, and a migration mid-run would re-resolve. */
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);

	s = og_bpf__open();
	if (!s) {
		fprintf(stderr, "bpf_bench: og_bpf__open: %s\n", strerror(errno));
		return 1;
	}
	{
		struct bpf_map *m;

		bpf_object__for_each_map(m, s->obj) bpf_map__set_pin_path(m, NULL);
	}
	if (og_bpf__load(s)) {
		fprintf(stderr, "bpf_bench: og_bpf__load: %s\n", strerror(errno));
		return 1;
	}
	memset(c, 0, sizeof(c));

	/* Rules like a small deployment: a port lane, a few prefixes, one block. */
	{
		struct og_port_key pk = {.port = 9443};
		struct og_lane_val lv = {.lane = OG_LANE_ORDER};

		bpf_map_update_elem(bpf_map__fd(s->maps.og_port_lane), &pk, &lv, BPF_ANY);
	}
	prefix_put(s, "10.20.0.0", 16, OG_LANE_BULK, 0);
	prefix_put(s, "10.30.0.0", 16, OG_LANE_ORDER, 0);
	prefix_put(s, "10.66.0.0", 16, 0, OG_RULE_BLOCK);
	cfg_put(s, &cfg);

	l_known = build(p_known, "10.0.0.1", "10.0.0.2", 40000, 9443);
	l_pin = build(p_pin, "10.0.0.1", "10.0.0.2", 40001, 9443);
	l_block = build(p_block, "10.66.0.1", "10.0.0.2", 40002, 9443);
	l_thr = build(p_thr, "10.77.0.1", "10.0.0.2", 40003, 9443);
	l_miss = build(p_miss, "10.0.0.1", "10.0.0.2", 40004, 9443);
	l_reply = build(p_reply, "10.0.0.2", "10.0.0.1", 9443, 40000);
	{
		struct og_flow_key k = {.family = AF_INET, .proto = IPPROTO_TCP};
		struct og_flow_pin pin = {.lane = OG_LANE_BULK, .pinned_ns = mono_ns()};

		inet_pton(AF_INET, "10.0.0.1", k.saddr);
		inet_pton(AF_INET, "10.0.0.2", k.daddr);
		k.sport = htons(40001);
		k.dport = htons(9443);
		bpf_map_update_elem(bpf_map__fd(s->maps.og_flow_lane), &k, &pin, BPF_ANY);
	}

	c[n++] = (struct bcase){"trivial XDP_PASS", load_prog(trivial_path, "trivial_xdp", &tobj),
				p_known, l_known, XDP_PASS};
	if (c[0].prog_fd < 0)
		return 1;
	if (xf_path) {
		c[n] = (struct bcase){"xdp-filter (allow policy, TCP)",
				      load_prog(xf_path, NULL, &xobj), p_known, l_known, XDP_PASS};
		if (c[n].prog_fd < 0 || setup_xdp_filter(xobj)) {
			fprintf(stderr, "bpf_bench: xdp-filter object unusable, row skipped\n");
			c[n].skip = 1;
		}
		n++;
	}
	c[n++] = (struct bcase){"og_xdp known flow", bpf_program__fd(s->progs.og_xdp), p_known,
				l_known, XDP_PASS};
	c[n++] = (struct bcase){"og_xdp pinned flow", bpf_program__fd(s->progs.og_xdp), p_pin,
				l_pin, XDP_PASS};
	c[n++] = (struct bcase){"og_xdp known flow, throttles set",
				bpf_program__fd(s->progs.og_xdp), p_miss, l_miss, XDP_PASS};
	i_blk = n;
	c[n++] = (struct bcase){"og_xdp block drop", bpf_program__fd(s->progs.og_xdp), p_block,
				l_block, XDP_DROP};
	i_thr = n;
	c[n++] = (struct bcase){"og_xdp throttle drop", bpf_program__fd(s->progs.og_xdp), p_thr,
				l_thr, XDP_DROP};
	/* Random-source SYN flood: flood_xdp rewrites the source, then tail-calls its
	 * target; the harness alone (target trivial) is measured and subtracted. */
	l_flood = build_flags(p_flood, "100.64.0.1", "10.0.0.2", 40005, 9443, PKT_SYN);
	{
		struct bpf_program *fp = bpf_object__find_program_by_name(tobj, "flood_xdp");
		struct bpf_map *fm = bpf_object__find_map_by_name(tobj, "flood_target");

		flood_map = fm ? bpf_map__fd(fm) : -1;
		if (fp && flood_map >= 0) {
			i_harness = n;
			c[n++] = (struct bcase){"flood harness -> trivial", bpf_program__fd(fp),
						p_flood, l_flood, XDP_PASS};
			i_flood = n;
			c[n++] = (struct bcase){"flood harness -> og_xdp", bpf_program__fd(fp),
						p_flood, l_flood, XDP_PASS};
		} else {
			fprintf(stderr, "bpf_bench: flood_xdp missing in %s\n", trivial_path);
		}
	}
	ntriv_tc = n;
	c[n++] = (struct bcase){
	    "trivial TC", bpf_program__fd(bpf_object__find_program_by_name(tobj, "trivial_tc")),
	    p_reply, l_reply, (__u32)-1};
	c[n++] = (struct bcase){"og_tc_out known flow", bpf_program__fd(s->progs.og_tc_out),
				p_reply, l_reply, (__u32)-1};

	/* Let og_xdp calibrate its jiffies clock (32 ticks) so every round measures
	 * the service path, not the first-second helper reads. */
	{
		__u64 t0 = mono_ns();

		while (!s->bss->og_clock_tick_ns && mono_ns() - t0 < 3000000000ULL)
			run_once(bpf_program__fd(s->progs.og_xdp), p_known, l_known, 10000,
				 XDP_PASS);
		if (!s->bss->og_clock_tick_ns)
			fprintf(stderr, "bpf_bench: og_xdp clock not calibrated after 3 s\n");
	}
	for (r = 0; r < runs; r++) {
		for (i = 0; i < n; i++) {
			cb = &c[i];
			if (cb->skip)
				continue;
			/* Throttle state is set just before its case and cleared after,
			 * so the other cases run with throttle_count 0 as in service. */
			if (!strcmp(cb->name, "og_xdp throttle drop") ||
			    !strcmp(cb->name, "og_xdp known flow, throttles set")) {
				struct og_addr_key ak = {.family = AF_INET};
				struct og_throttle t = {
				    .rate_pps = 0, .burst = 0, .expires_ns = ~0ULL};

				inet_pton(AF_INET, "10.77.0.1", ak.addr);
				bpf_map_update_elem(bpf_map__fd(s->maps.og_throttle), &ak, &t,
						    BPF_ANY);
				cfg.throttle_count = 1;
				cfg_put(s, &cfg);
			}
			if (i == i_harness || i == i_flood) {
				__u32 zero = 0;
				int target =
				    i == i_flood ? bpf_program__fd(s->progs.og_xdp) : c[0].prog_fd;

				if (bpf_map_update_elem(flood_map, &zero, &target, BPF_ANY)) {
					fprintf(stderr, "bpf_bench: flood target: %s\n",
						strerror(errno));
					return 1;
				}
			}
			/* First run resolves and caches the flow; not timed. */
			run_once(cb->prog_fd, cb->pkt, cb->len, 1, cb->want);
			cb->ns[r] = run_once(cb->prog_fd, cb->pkt, cb->len, repeat, cb->want);
			if (cb->ns[r] < 0) {
				fprintf(stderr, "bpf_bench: %s: %s\n", cb->name,
					strerror(-cb->ns[r]));
				return 1;
			}
			if (cfg.throttle_count) {
				cfg.throttle_count = 0;
				cfg_put(s, &cfg);
			}
		}
		triv_r1[r] = 0;
		{
			double t1[256];
			int k;

			for (k = 0; k < 256; k++)
				t1[k] = run_once(c[0].prog_fd, p_known, l_known, 1, XDP_PASS);
			qsort(t1, 256, sizeof(*t1), cmp_double);
			triv_r1[r] = t1[128];
		}
		kn1[r] = case_oneshot(bpf_program__fd(s->progs.og_xdp), p_known, l_known);
		nf1[r] = case_new_flow(s, 1024 + (r % 8) * 4096, 0);
		nf2[r] = nf1[r] < 0 ? nf1[r] : case_new_flow(s, 1024 + (r % 8) * 4096 + 2048, 1);
		if (nf1[r] < 0 || nf2[r] < 0) {
			fprintf(stderr, "bpf_bench: new flow: %s\n",
				strerror(-(nf1[r] < 0 ? nf1[r] : nf2[r])));
			return 1;
		}
	}
	for (i = 0; i < n; i++)
		if (!c[i].skip)
			c[i].median = median(c[i].ns, runs);
	triv = c[0].median;
	if (xf_path && !c[1].skip)
		xf = c[1].median;
	/* repeat=1 figures carry the timer's own overhead; trivial at repeat=1 measures it. */
	nf = median(nf1, runs) - median(triv_r1, runs) + triv;
	nf_adm = median(nf2, runs) - median(triv_r1, runs) + triv;
	known1 = median(kn1, runs) - median(triv_r1, runs) + triv;
	known = c[xf_path ? 2 : 1].median;
	blk = c[i_blk].median;
	thr = c[i_thr].median;
	if (i_flood >= 0) {
		harness = c[i_harness].median;
		/* og_xdp's share: the harness with og_xdp minus the harness with trivial,
		 * plus trivial's own run (the tail call replaced it). */
		flood = c[i_flood].median - harness + triv;
	}

	printf("bench-bpf: BPF_PROG_TEST_RUN, medians of %d rounds x %d repeats\n", runs, repeat);
	printf("%-44s %9s %10s %13s\n", "case", "ns/pkt", "x trivial", "x xdp-filter");
	for (i = 0; i < n; i++) {
		double base = i >= ntriv_tc ? c[ntriv_tc].median : triv, v = c[i].median;
		const char *name = c[i].name;
		char xr[32] = "-";

		if (i == i_harness)
			continue;
		if (i == ntriv_tc) {
			printf("%-44s %9.1f %10.2f %13s\n", "og_xdp known flow, one-shot (cold)",
			       known1, known1 / triv, "-");
			printf("%-44s %9.1f %10.2f %13s\n", "og_xdp new flow (first packet, SYN)",
			       nf, nf / triv, "-");
			printf("%-44s %9.1f %10.2f %13s\n",
			       "og_xdp new flow, 2nd packet (admitted)", nf_adm, nf_adm / triv,
			       "-");
		}
		if (i == i_flood) {
			name = "og_xdp new flow under flood (random src)";
			v = flood;
		}
		if (c[i].skip) {
			printf("%-44s %9s\n", name, "skipped");
			continue;
		}
		if (xf > 0 && i < ntriv_tc)
			snprintf(xr, sizeof(xr), "%.2f", v / xf);
		printf("%-44s %9.1f %10.2f %13s\n", name, v, v / base, xr);
	}
	printf(
	    "(TC rows: x trivial = x the trivial TC program; new flow rows: one run per distinct "
	    "packet (one-shot: cold caches), timer overhead removed using trivial at repeat=1 = "
	    "%.1f ns; flood: harness "
	    "with og_xdp %.1f ns - harness with trivial %.1f ns + trivial)\n",
	    median(triv_r1, runs), i_flood >= 0 ? c[i_flood].median : 0, harness);
	budget_ok = known <= 4.5 * triv && (xf <= 0 || known < xf);
	printf("budget: og_xdp known flow %.1f ns = %.2fx trivial (limit 4.5x)", known,
	       known / triv);
	if (xf > 0)
		printf(", %.2fx xdp-filter (limit < 1)", known / xf);
	else
		printf(", xdp-filter not measured");
	printf(": %s\n", budget_ok ? "PASS" : "FAIL");
	goals_ok = nf <= 300 && (i_flood < 0 || flood <= 300) && blk <= 100 && thr <= 100;
	printf("goals: new flow %.1f ns, under flood %.1f ns (limit 300); block drop %.1f ns, "
	       "throttle drop %.1f ns (limit 100): %s\n",
	       nf, flood, blk, thr, goals_ok ? "PASS" : "FAIL");
	return budget_ok && goals_ok ? 0 : 3;
}
