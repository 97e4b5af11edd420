/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared helpers for BPF fixtures: load the skeleton unpinned, run programs, read maps back. */
#ifndef OG_BPF_FIXTURE_H
#define OG_BPF_FIXTURE_H

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <ordergate/og_shared.h>
#include "og.skel.h"
#include "../lib/og_test.h"
#include "../lib/pkt.h"

static int fx_ncpu;

/* Opens and loads the skeleton (og_flows of <sets> sets, a power of two; 0 = default) with every
 * pin path cleared (so a running gateway's maps are never touched) and the test clock switched on.
 * Pins the process to CPU 0: test_run executes on the calling CPU, and the per-CPU tables
 * (og_admit, og_lane_stats) would otherwise split a test's packets between CPUs. */
static inline struct og_bpf *fx_load_sets(__u32 sets)
{
	struct og_bpf *s;
	struct bpf_map *m;
	cpu_set_t set;
	int err;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	fx_ncpu = libbpf_num_possible_cpus();
	s = og_bpf__open();
	if (!s) {
		og_diag("og_bpf__open: %s", strerror(errno));
		return NULL;
	}
	bpf_object__for_each_map(m, s->obj) bpf_map__set_pin_path(m, NULL);
	if (sets) {
		bpf_map__set_max_entries(s->maps.og_flow_dir, sets);
		bpf_map__set_max_entries(s->maps.og_flows, sets * OG_FLOW_WAYS);
		s->rodata->og_flow_mask = sets - 1;
	}
	s->rodata->og_test_clock = 1;
	err = og_bpf__load(s);
	if (err) {
		og_diag("og_bpf__load: %s", strerror(-err));
		og_bpf__destroy(s);
		return NULL;
	}
	return s;
}

/* fx_load_sets for a table sized for <flows> flows (og_flow_sets), 0 = default. */
static inline struct og_bpf *fx_load_sized(__u32 flows)
{
	return fx_load_sets(flows ? og_flow_sets(flows) : 0);
}

static inline struct og_bpf *fx_load(void)
{
	return fx_load_sized(0);
}

static inline struct og_config fx_cfg_default(void)
{
	struct og_config c = {
	    .abi_version = OG_ABI_VERSION,
	    .enabled = 1,
	    .default_lane = OG_LANE_NORMAL,
	    .fail_mode = OG_FAIL_OPEN,
	    .rules_gen = 1,
	    .lane_class = {0, OG_CLASS_ORDER, OG_CLASS_NORMAL, OG_CLASS_BULK},
	};
	return c;
}

static inline int fx_set_cfg(struct og_bpf *s, const struct og_config *c)
{
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(s->maps.og_config), &zero, c, BPF_ANY);
}

static inline struct og_config fx_get_cfg(struct og_bpf *s)
{
	struct og_config c = {};
	__u32 zero = 0;

	bpf_map_lookup_elem(bpf_map__fd(s->maps.og_config), &zero, &c);
	return c;
}

/* Bumps og_config.rules_gen as every rule writer must. */
static inline void fx_bump_gen(struct og_bpf *s)
{
	struct og_config c = fx_get_cfg(s);

	c.rules_gen++;
	fx_set_cfg(s, &c);
}

struct fx_xdp_out {
	int ret;	/* test_run's own return */
	__u32 verdict;	/* XDP_* */
	__u32 meta_len; /* bytes of metadata in front of the packet */
	struct og_xdp_meta meta;
	__u32 out_len;
};

static inline void fx_xdp(struct og_bpf *s, const void *pkt, size_t len, struct fx_xdp_out *o)
{
	__u8 out[PKT_MAX + 256];
	struct xdp_md ctx_in = {.data_end = len}, ctx_out = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out), .repeat = 1);

	memset(o, 0, sizeof(*o));
	o->ret = bpf_prog_test_run_opts(bpf_program__fd(s->progs.og_xdp), &opts);
	o->verdict = opts.retval;
	o->out_len = opts.data_size_out;
	/* data_out starts at data_meta; ctx_out.data is the metadata length. */
	o->meta_len = ctx_out.data;
	if (o->meta_len >= sizeof(o->meta))
		memcpy(&o->meta, out + o->meta_len - sizeof(o->meta), sizeof(o->meta));
}

struct fx_tc_out {
	int ret;
	int verdict; /* TC_ACT_* */
	__u32 mark;
	__u32 priority;
};

/* Runs a TC program on <pkt> with skb->mark/priority preset to <mark>/<prio>. */
static inline void fx_tc(struct bpf_program *prog, const void *pkt, size_t len, __u32 mark,
			 __u32 prio, struct fx_tc_out *o)
{
	__u8 out[PKT_MAX + 256];
	struct __sk_buff ctx_in = {.mark = mark, .priority = prio}, ctx_out = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out), .repeat = 1);

	memset(o, 0, sizeof(*o));
	o->ret = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	o->verdict = (int)opts.retval;
	o->mark = ctx_out.mark;
	o->priority = ctx_out.priority;
}

/* og_lane_stats summed over CPUs, all lanes. */
static inline void fx_lanes(struct og_bpf *s, struct og_lane_stats out[OG_LANE_MAX])
{
	struct og_lane_stats *v = calloc(fx_ncpu, sizeof(*v));
	__u32 lane;
	int c;

	memset(out, 0, sizeof(*out) * OG_LANE_MAX);
	for (lane = 0; v && lane < OG_LANE_MAX; lane++) {
		if (bpf_map_lookup_elem(bpf_map__fd(s->maps.og_lane_stats), &lane, v))
			continue;
		for (c = 0; c < fx_ncpu; c++) {
			__u64 *d = (__u64 *)&out[lane], *a = (__u64 *)&v[c];
			size_t i;

			for (i = 0; i < sizeof(*v) / 8; i++)
				d[i] += a[i];
		}
	}
	free(v);
}

/* One og_lane_stats field by byte offset, difference between two snapshots. */
#define FX_D(after, before, lane, field) ((after)[lane].field - (before)[lane].field)

/* <k>'s og_flows set, its directory entry copied into <d>; 0 or -errno. */
static inline int fx_flow_dir(struct og_bpf *s, const struct og_flow_key *k, __u32 *set,
			      struct og_flow_dir *d)
{
	*set = (__u32)og_key_hash(k) & (bpf_map__max_entries(s->maps.og_flow_dir) - 1);
	return bpf_map_lookup_elem(bpf_map__fd(s->maps.og_flow_dir), set, d) ? -errno : 0;
}

/* The way index (set * OG_FLOW_WAYS + w) holding <k> with its state in <way>, or -ENOENT. */
static inline int fx_flow_way(struct og_bpf *s, const struct og_flow_key *k,
			      struct og_flow_way *way)
{
	__u32 set, tag = og_flow_tag(og_key_hash(k)), idx;
	struct og_flow_dir d;
	int w;

	if (fx_flow_dir(s, k, &set, &d))
		return -ENOENT;
	for (w = 0; w < OG_FLOW_WAYS; w++) {
		if ((d.w[w] & OG_FLOW_TAG_MASK) != tag)
			continue;
		idx = set * OG_FLOW_WAYS + w;
		if (!bpf_map_lookup_elem(bpf_map__fd(s->maps.og_flows), &idx, way) &&
		    og_key_eq(&way->key, k))
			return idx;
	}
	return -ENOENT;
}

/* og_flows state of <k>. Returns 0, or -ENOENT when the flow is absent. */
static inline int fx_flow(struct og_bpf *s, const struct og_flow_key *k, struct og_flow_stats *out)
{
	struct og_flow_way way;

	memset(out, 0, sizeof(*out));
	if (fx_flow_way(s, k, &way) < 0)
		return -ENOENT;
	*out = way.s;
	return 0;
}

/* Frees <k>'s way, as an eviction would; returns 0 or -ENOENT. */
static inline int fx_flow_del(struct og_bpf *s, const struct og_flow_key *k)
{
	struct og_flow_way way;
	struct og_flow_dir d;
	__u32 set;
	int idx = fx_flow_way(s, k, &way);

	if (idx < 0 || fx_flow_dir(s, k, &set, &d))
		return -ENOENT;
	d.w[idx % OG_FLOW_WAYS] = OG_FLOW_FREE;
	return bpf_map_update_elem(bpf_map__fd(s->maps.og_flow_dir), &set, &d, BPF_ANY) ? -errno
											: 0;
}

/* Empties og_flows (the directory is the authority on what a way holds). */
static inline void fx_flows_clear(struct og_bpf *s)
{
	static const struct og_flow_dir zero;
	__u32 i, n = bpf_map__max_entries(s->maps.og_flow_dir);

	for (i = 0; i < n; i++)
		bpf_map_update_elem(bpf_map__fd(s->maps.og_flow_dir), &i, &zero, BPF_ANY);
}

/* Flows in og_flows (directory words with an odd tag). */
static inline int fx_flows_count(struct og_bpf *s)
{
	__u32 i, n = bpf_map__max_entries(s->maps.og_flow_dir);
	struct og_flow_dir d;
	int w, cnt = 0;

	for (i = 0; i < n; i++)
		if (!bpf_map_lookup_elem(bpf_map__fd(s->maps.og_flow_dir), &i, &d))
			for (w = 0; w < OG_FLOW_WAYS; w++)
				cnt += d.w[w] & 1;
	return cnt;
}

/* Flow key for the spec's ingress direction. */
static inline void fx_key(const struct pkt_spec *ps, struct og_flow_key *k)
{
	int fam = ps->family;

	memset(k, 0, sizeof(*k));
	k->family = fam == AF_INET ? AF_INET : AF_INET6;
	pkt_addr(ps->src ? ps->src : (fam == AF_INET ? "10.0.0.1" : "fd00::1"), k->saddr);
	pkt_addr(ps->dst ? ps->dst : (fam == AF_INET ? "10.0.0.2" : "fd00::2"), k->daddr);
	if (ps->frag_off)
		return;
	k->proto = ps->proto;
	k->sport = htons(ps->sport);
	k->dport = htons(ps->dport);
}

/* Adds a source prefix rule ("10.1.0.0/16") and bumps rules_gen. */
static inline int fx_prefix(struct og_bpf *s, const char *cidr, __u8 lane, __u8 flags)
{
	struct og_src_rule r = {.lane = lane, .flags = flags};
	struct og_lpm_key k = {};
	char buf[64], *slash;
	int fam, err;

	snprintf(buf, sizeof(buf), "%s", cidr);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	fam = pkt_addr(buf, k.addr);
	if (!fam)
		return -EINVAL;
	k.family = fam;
	k.prefixlen = OG_LPM_HDR_BITS + atoi(slash + 1);
	err = bpf_map_update_elem(bpf_map__fd(s->maps.og_src_rules), &k, &r, BPF_ANY);
	fx_bump_gen(s);
	return err;
}

static inline int fx_unprefix(struct og_bpf *s, const char *cidr)
{
	struct og_lpm_key k = {};
	char buf[64], *slash;
	int err;

	snprintf(buf, sizeof(buf), "%s", cidr);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	k.family = pkt_addr(buf, k.addr);
	k.prefixlen = OG_LPM_HDR_BITS + atoi(slash + 1);
	err = bpf_map_delete_elem(bpf_map__fd(s->maps.og_src_rules), &k);
	fx_bump_gen(s);
	return err;
}

static inline int fx_port(struct og_bpf *s, __u32 port, __u32 lane)
{
	struct og_port_key k = {.port = port};
	struct og_lane_val v = {.lane = lane};
	int err = bpf_map_update_elem(bpf_map__fd(s->maps.og_port_lane), &k, &v, BPF_ANY);

	fx_bump_gen(s);
	return err;
}

/* Adds <d> to <k>'s og_pin_count slot, as the writers do around an entry they
 * create (+1, before) or delete (-1, after); tests write from one thread. */
static inline void fx_pin_count_add(struct og_bpf *s, const struct og_flow_key *k, int d)
{
	__u32 slot = og_pin_slot(k), n = 0;

	bpf_map_lookup_elem(bpf_map__fd(s->maps.og_pin_count), &slot, &n);
	if (d < 0 && !n)
		return; /* an entry counted by nobody, as dp_flow_pin_clear */
	n += d;
	bpf_map_update_elem(bpf_map__fd(s->maps.og_pin_count), &slot, &n, 0);
}

/* Writes (lane > 0) or deletes (lane 0) <k>'s og_flow_lane entry, keeping og_pin_count. */
static inline int fx_pin_write(struct og_bpf *s, const struct og_flow_key *k, __u32 lane)
{
	struct og_flow_pin v = {.lane = lane, .pinned_ns = 1}, old;
	int fd = bpf_map__fd(s->maps.og_flow_lane), had = !bpf_map_lookup_elem(fd, k, &old), err;

	if (!lane) {
		err = bpf_map_delete_elem(fd, k);
		if (!err)
			fx_pin_count_add(s, k, -1);
		return err;
	}
	if (!had)
		fx_pin_count_add(s, k, 1);
	return bpf_map_update_elem(fd, k, &v, BPF_ANY);
}

static inline int fx_pin(struct og_bpf *s, const struct og_flow_key *k, __u32 lane)
{
	int err = fx_pin_write(s, k, lane);

	fx_bump_gen(s);
	return err;
}

/* Writes (lane > 0) or deletes (lane 0) a pin the way dp_flow_pin_set/clear do:
 * the map write, then the key's og_pin_hint slot + 1, no rules_gen bump. */
static inline int fx_pin_hinted(struct og_bpf *s, const struct og_flow_key *k, __u32 lane)
{
	__u32 slot = og_pin_slot(k), seq = 0;
	int err = fx_pin_write(s, k, lane);

	bpf_map_lookup_elem(bpf_map__fd(s->maps.og_pin_hint), &slot, &seq);
	seq++;
	return err ? err : bpf_map_update_elem(bpf_map__fd(s->maps.og_pin_hint), &slot, &seq, 0);
}

/* Empties a hash/LPM map (test isolation between groups). */
static inline void fx_clear(struct bpf_map *m)
{
	__u8 key[64], next[64];
	int fd = bpf_map__fd(m);

	while (!bpf_map_get_next_key(fd, NULL, next))
		if (bpf_map_delete_elem(fd, next))
			break;
	(void)key;
}

/* Sets the deterministic clock og_xdp reads (og_test_clock = 1). */
static inline void fx_clock(struct og_bpf *s, __u64 ns)
{
	s->bss->og_now_ns = ns;
}

#endif /* OG_BPF_FIXTURE_H */
