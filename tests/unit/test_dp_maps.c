// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libogdp against real kernel maps: per-CPU sums, rules_gen bumps, throttles, pin checks. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "og.skel.h"
#include "dp/dp.h"
#include "../lib/og_test.h"

#define NFLOWS 700

static struct og_flow_key flow_key(int i)
{
	struct og_flow_key k = {.family = AF_INET, .proto = 6};

	k.sport = htons(10000 + i);
	k.dport = htons(443);
	k.saddr[0] = htonl(0x0a000000 + i);
	k.daddr[0] = htonl(0xc0a80001);
	return k;
}

struct seen {
	int count, bad;
	unsigned char hit[NFLOWS];
};

/* Flow i: pkts i+1, bytes 100*(i+1), first 1000+i, last 5000+i, lane i%3+1. */
static struct og_flow_stats flow_val(int i)
{
	struct og_flow_stats v = {.pkts = i + 1,
				  .bytes = 100 * (i + 1),
				  .first_ns = 1000 + i,
				  .last_ns = 5000 + i,
				  .syns = 1,
				  .lane = i % 3 + 1,
				  .lane_src = OG_LSRC_PORT};
	return v;
}

static int check_flow(const struct og_flow_key *k, const struct og_flow_stats *s, void *ctx)
{
	struct seen *sn = ctx;
	int i = ntohs(k->sport) - 10000;
	struct og_flow_stats want;

	sn->count++;
	if (i < 0 || i >= NFLOWS || sn->hit[i]++) {
		sn->bad++;
		return 0;
	}
	want = flow_val(i);
	if (memcmp(s, &want, sizeof(want)))
		sn->bad++;
	return 0;
}

/* Writes <k> with <v> into way <w> (-1: the first free) of its set under directory
 * word <word> (0: the key's tag), as og_xdp would. */
static int put_way(struct dp_maps *m, const struct og_flow_key *k, const struct og_flow_stats *v,
		   int w, __u32 word)
{
	struct og_flow_dir d;
	struct og_flow_way way = {.key = *k, .s = *v};
	__u32 set = (__u32)og_key_hash(k) & (m->flow_sets - 1), idx;

	if (bpf_map_lookup_elem(m->fd[DP_MAP_FLOW_DIR], &set, &d))
		return -errno;
	if (w < 0)
		for (w = 0; w < OG_FLOW_WAYS && d.w[w]; w++)
			;
	if (w >= OG_FLOW_WAYS)
		return -ENOSPC;
	idx = set * OG_FLOW_WAYS + w;
	d.w[w] = word ? word : og_flow_word(og_flow_tag(og_key_hash(k)), 0, v->lane);
	if (bpf_map_update_elem(m->fd[DP_MAP_FLOWS], &idx, &way, BPF_ANY))
		return -errno;
	return bpf_map_update_elem(m->fd[DP_MAP_FLOW_DIR], &set, &d, BPF_ANY) ? -errno : 0;
}

static void test_flows(struct dp_maps *m)
{
	struct og_lane_stats *ls = calloc(m->ncpus, sizeof(*ls)), sum[OG_LANE_MAX];
	struct og_flow_key k0 = flow_key(0), kb = flow_key(NFLOWS);
	struct og_flow_stats v;
	struct seen sn = {};
	int i, c, ret, werr = 0;
	__u32 lane = OG_LANE_ORDER;
	__u64 n = 0;

	for (i = 0; i < NFLOWS; i++) {
		struct og_flow_key k = flow_key(i);

		v = flow_val(i);
		werr += put_way(m, &k, &v, -1, 0) != 0;
	}
	OK(werr == 0, "wrote %d flows into their sets (%d failed)", NFLOWS, werr);
	ret = dp_flows_foreach(m, check_flow, &sn);
	OK(ret == 0 && sn.count == NFLOWS && sn.bad == 0,
	   "mapped walk: %d flows seen once each, values whole (ret %d, %d bad)", sn.count, ret,
	   sn.bad);
	OK(dp_map_count(m, DP_MAP_FLOWS, &n) == 0 && n == NFLOWS, "og_flows counts %llu flows",
	   (unsigned long long)n);

	/* A way og_xdp is writing (tag OG_FLOW_BUSY) is not a flow yet; a flow two
	 * CPUs admitted at once into two ways of its set is reported once. */
	v = flow_val(NFLOWS);
	put_way(m, &kb, &v, -1, OG_FLOW_BUSY);
	v = flow_val(0);
	v.pkts = 999;
	ret = put_way(m, &k0, &v, -1, 0);
	memset(&sn, 0, sizeof(sn));
	ret = ret ?: dp_flows_foreach(m, check_flow, &sn);
	OK(ret == 0 && sn.count == NFLOWS && sn.bad == 0,
	   "busy way skipped, duplicate reported once with the first way's values (%d flows, %d "
	   "bad)",
	   sn.count, sn.bad);

	for (c = 0; c < m->ncpus; c++) {
		memset(&ls[c], 0, sizeof(ls[c]));
		ls[c].rx_pkts = 10 + c;
		ls[c].drop_throttle = 2;
		ls[c].tc_in_lookup = 7;
	}
	bpf_map_update_elem(m->fd[DP_MAP_LANE_STATS], &lane, ls, BPF_ANY);
	ret = dp_lane_stats_read(m, sum);
	OK(ret == 0 &&
	       sum[OG_LANE_ORDER].rx_pkts == (__u64)10 * m->ncpus + m->ncpus * (m->ncpus - 1) / 2 &&
	       sum[OG_LANE_ORDER].drop_throttle == (__u64)2 * m->ncpus &&
	       sum[OG_LANE_ORDER].tc_in_lookup == (__u64)7 * m->ncpus &&
	       sum[OG_LANE_BULK].rx_pkts == 0,
	   "lane stats summed over CPUs (order rx %llu)",
	   (unsigned long long)sum[OG_LANE_ORDER].rx_pkts);
	free(ls);
}

static __u32 gen(struct dp_maps *m)
{
	struct og_config c;

	dp_config_get(m, &c);
	return c.rules_gen;
}

static int count_rule(const struct dp_prefix *p, const struct og_src_rule *r, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_rules(struct dp_maps *m)
{
	struct og_src_rule r = {.lane = OG_LANE_BULK}, got;
	struct dp_prefix p, p6;
	char err[128];
	__u32 g0 = gen(m);
	int n = 0;

	dp_prefix_parse("10.20.0.0/16", &p, NULL, err, sizeof(err));
	dp_prefix_parse("2001:db8::/32", &p6, NULL, err, sizeof(err));
	OK(dp_src_rule_set(m, &p, &r) == 0 && gen(m) == g0 + 1, "src rule set bumps rules_gen");
	OK(dp_src_block(m, &p, true) == 0 && dp_src_rule_get(m, &p, &got) == 0 &&
	       got.lane == OG_LANE_BULK && got.flags == OG_RULE_BLOCK && gen(m) == g0 + 2,
	   "block keeps the prefix's lane and bumps rules_gen");
	OK(dp_src_block(m, &p, false) == 0 && dp_src_rule_get(m, &p, &got) == 0 &&
	       got.lane == OG_LANE_BULK && got.flags == 0,
	   "unblock clears only the flag");
	OK(dp_src_block(m, &p6, true) == 0 && dp_src_block(m, &p6, false) == 0 &&
	       dp_src_rule_get(m, &p6, &got) == -ENOENT,
	   "unblock of a block-only IPv6 rule deletes it");
	OK(dp_src_block(m, &p6, false) == -ENOENT, "unblock of an absent prefix is -ENOENT");
	dp_src_rules_foreach(m, count_rule, &n);
	OK_EQ(n, 1, "one source rule listed");
	OK(dp_src_rule_del(m, &p) == 0 && dp_src_rule_get(m, &p, &got) == -ENOENT,
	   "src rule deleted");

	g0 = gen(m);
	OK(dp_port_lane_set(m, 9443, OG_LANE_ORDER) == 0 && gen(m) == g0 + 1,
	   "port lane set bumps rules_gen");
	OK(dp_port_lane_set(m, 70000, OG_LANE_ORDER) == -EINVAL &&
	       dp_port_lane_set(m, 80, 7) == -EINVAL,
	   "bad port or lane refused");
	OK(dp_port_lane_set(m, 9443, OG_LANE_NONE) == 0 && gen(m) == g0 + 2 &&
	       dp_port_lane_set(m, 9443, OG_LANE_NONE) == -ENOENT,
	   "lane none deletes the port rule");

	{
		struct og_flow_key k = flow_key(1);
		struct og_flow_pin pin;

		__u32 slot = og_pin_slot(&k), h0 = 0, h;

		g0 = gen(m);
		bpf_map_lookup_elem(m->fd[DP_MAP_PIN_HINT], &slot, &h0);
		OK(dp_flow_pin_set(m, &k, OG_LANE_ORDER) == 0 &&
		       bpf_map_lookup_elem(m->fd[DP_MAP_FLOW_LANE], &k, &pin) == 0 &&
		       pin.lane == OG_LANE_ORDER && pin.pinned_ns > 0 && gen(m) == g0,
		   "flow pin written with a timestamp, rules_gen untouched");
		OK(bpf_map_lookup_elem(m->fd[DP_MAP_PIN_HINT], &slot, &h) == 0 && h == h0 + 1,
		   "pin set: the key's og_pin_hint slot rose by one");
		OK(dp_flow_pin_clear(m, &k) == 0 && gen(m) == g0 &&
		       bpf_map_lookup_elem(m->fd[DP_MAP_PIN_HINT], &slot, &h) == 0 && h == h0 + 2 &&
		       dp_flow_pin_clear(m, &k) == -ENOENT,
		   "flow pin cleared: og_pin_hint slot rose again, rules_gen untouched");
		OK(dp_flow_pin_set(m, &k, OG_LANE_ORDER) == 0 && m->pin_count[slot] == 1 &&
		       dp_flow_pin_set(m, &k, OG_LANE_BULK) == 0 && m->pin_count[slot] == 1 &&
		       bpf_map_lookup_elem(m->fd[DP_MAP_FLOW_LANE], &k, &pin) == 0 &&
		       pin.lane == OG_LANE_BULK,
		   "og_pin_count: a pin counts once, a replaced one is not counted again");
		OK(dp_flow_pin_clear(m, &k) == 0 && m->pin_count[slot] == 0 &&
		       dp_flow_pin_clear(m, &k) == -ENOENT && m->pin_count[slot] == 0,
		   "og_pin_count: a cleared pin uncounts once, a second clear does nothing");
	}
}

/* Pin writers racing on one og_pin_slot: each its own mapping of og_pin_count (as two
 * daemons during a takeover), on keys of its own and on one key they all share. */
#define RACE_THREADS 4
#define RACE_ROUNDS  3000

struct pin_race {
	struct dp_maps m;
	struct og_flow_key own[2], *shared;
	int fails;
};

static void *pin_racer(void *arg)
{
	struct pin_race *r = arg;
	int i;

	for (i = 0; i < RACE_ROUNDS; i++) {
		r->fails += dp_flow_pin_set(&r->m, &r->own[0], OG_LANE_ORDER) != 0;
		r->fails += dp_flow_pin_set(&r->m, &r->own[1], OG_LANE_BULK) != 0;
		r->fails += dp_flow_pin_set(&r->m, r->shared, 1 + i % 3) != 0;
		r->fails += dp_flow_pin_clear(&r->m, &r->own[i & 1]) != 0;
		/* The shared key may be cleared by another writer first. */
		dp_flow_pin_clear(&r->m, r->shared);
	}
	return NULL;
}

static void test_pin_race(struct dp_maps *m)
{
	static struct pin_race r[RACE_THREADS];
	struct og_flow_key keys[2 * RACE_THREADS + 1], k, next, *prev = NULL;
	pthread_t th[RACE_THREADS];
	__u32 slot, live = 0, counted;
	char err[128];
	int i, n = 0, fails = 0;

	/* Keys that share one slot. */
	keys[n++] = flow_key(100);
	slot = og_pin_slot(&keys[0]);
	for (i = 101; n < 2 * RACE_THREADS + 1 && i < 1000000; i++) {
		k = flow_key(i);
		if (og_pin_slot(&k) == slot)
			keys[n++] = k;
	}
	for (i = 0; i < RACE_THREADS; i++) {
		memset(&r[i].m, 0, sizeof(r[i].m));
		for (int j = 0; j < DP_MAP_COUNT; j++)
			r[i].m.fd[j] = dup(m->fd[j]);
		r[i].m.cfg_lock = -1;
		if (dp_maps_mmap(&r[i].m, err, sizeof(err)))
			fails++;
		r[i].own[0] = keys[1 + 2 * i];
		r[i].own[1] = keys[2 + 2 * i];
		r[i].shared = &keys[0];
	}
	OK(n == 2 * RACE_THREADS + 1 && fails == 0, "race: %d keys in slot %u, %d mappings", n,
	   slot, RACE_THREADS);
	for (i = 0; i < RACE_THREADS; i++)
		pthread_create(&th[i], NULL, pin_racer, &r[i]);
	for (i = 0; i < RACE_THREADS; i++) {
		pthread_join(th[i], NULL);
		fails += r[i].fails;
	}
	while (bpf_map_get_next_key(m->fd[DP_MAP_FLOW_LANE], prev, &next) == 0) {
		k = next;
		prev = &k;
		live += og_pin_slot(&k) == slot;
	}
	counted = m->pin_count[slot];
	OK(fails == 0 && live == RACE_THREADS && counted == live,
	   "race: %d writers x %d rounds: og_pin_count %u == live pins %u in the slot (%d failed)",
	   RACE_THREADS, RACE_ROUNDS, counted, live, fails);
	for (i = 0; i < n; i++)
		dp_flow_pin_clear(m, &keys[i]);
	counted = m->pin_count[slot];
	OK(counted == 0, "race: all cleared, the slot counts 0 (%u)", counted);
	for (i = 0; i < RACE_THREADS; i++)
		dp_maps_close(&r[i].m);
}

static void test_throttle(struct dp_maps *m)
{
	struct og_addr_key a, b;
	struct og_throttle t;
	struct og_config c;
	char err[128];
	__u32 live = 99;
	__u64 now;

	dp_addr_parse("192.0.2.1", &a, err, sizeof(err));
	dp_addr_parse("2001:db8::2", &b, err, sizeof(err));
	now = dp_now_ns();
	OK(dp_throttle_set(m, &a, 100, 20, 30000000000ULL) == 0, "throttle set");
	OK(bpf_map_lookup_elem(m->fd[DP_MAP_THROTTLE], &a, &t) == 0 && t.rate_pps == 100 &&
	       t.burst == 20 && t.tokens == 20 * OG_TB_NS && t.expires_ns >= now + 30000000000ULL &&
	       t.expires_ns < now + 31000000000ULL && t.last_ns > 0,
	   "bucket starts full and expires 30 s from now");
	dp_config_get(m, &c);
	OK_EQ(c.throttle_count, 1, "throttle_count counts the live entry");
	OK(dp_throttle_set(m, &b, 5, 5, 1) == 0, "throttle with a 1 ns ttl accepted");
	usleep(1000);
	OK(dp_throttle_recount(m, &live) == 0 && live == 1, "an expired entry is not counted (%u)",
	   live);
	OK(dp_throttle_set(m, &a, 0, 1, 1) == -EINVAL &&
	       dp_throttle_set(m, &a, OG_TB_MAX_RATE + 1, 1, 1) == -EINVAL &&
	       dp_throttle_set(m, &a, 1, 0, 1) == -EINVAL,
	   "zero or excessive rate and zero burst refused");
	OK(dp_throttle_clear(m, &a) == 0 && dp_config_get(m, &c) == 0 && c.throttle_count == 0,
	   "clear recounts to 0");
	OK(dp_throttle_clear(m, &a) == -ENOENT, "clearing twice is -ENOENT");
	dp_throttle_clear(m, &b);
}

static char pin_dir[64];

/* Remove the test's pins even when an assertion path returned early. */
static void unpin_all(void)
{
	static const char *const names[] = {"og_flows",	    "og_flow_dir",  "og_lane_stats",
					    "og_src_rules", "og_port_lane", "og_flow_lane",
					    "og_throttle",  "og_config",    "og_events",
					    "og_pin_hint",  "og_pin_count"};
	char path[128];
	size_t i;

	if (!pin_dir[0])
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, names[i]);
		unlink(path);
	}
	rmdir(pin_dir);
}

/* Pinned maps of another layout, or another ABI version, are refused with the fix. */
static void test_pins(void)
{
	char dir[64], path[128], err[512];
	struct dp_opts o = {0};
	struct og_bpf *skel = NULL;
	struct og_config c;
	struct dp_maps m;
	int fd, ret;
	__u32 key = 0;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/og-unit-%d", getpid());
	snprintf(pin_dir, sizeof(pin_dir), "%s", dir);
	atexit(unpin_all);
	o.pin_dir = dir;
	ret = dp_maps_open(&m, dir, err, sizeof(err));
	OK(ret == -ENOENT && strstr(err, "attach"), "nothing pinned: %s", err);

	o.flows = 1024;
	ret = dp_load(&o, &skel, err, sizeof(err));
	OK(ret == 0, "dp_load pinned in %s (%s)", dir, ret ? err : "ok");
	if (ret)
		return;
	OK(bpf_map__max_entries(skel->maps.og_flow_dir) == 512 &&
	       bpf_map__max_entries(skel->maps.og_flows) == 2048,
	   "og_flows sized from options (1024 flows: 512 sets of 4 ways)");
	OK_EQ(skel->rodata->og_flow_mask, 511, "og_xdp masks the hash to those 512 sets");
	og_bpf__destroy(skel);
	OK(dp_maps_open(&m, dir, err, sizeof(err)) == 0, "pinned maps open by path");
	dp_config_get(&m, &c);
	c.default_lane = OG_LANE_BULK;
	dp_config_put(&m, &c);
	dp_maps_close(&m);

	o.flows = 4096;
	ret = dp_load(&o, &skel, err, sizeof(err));
	OK(ret == 0 && bpf_map__max_entries(skel->maps.og_flow_dir) == og_flow_sets(1024) &&
	       skel->rodata->og_flow_mask == 511,
	   "reload reuses the pins and adopts their size and mask (%s)", ret ? err : "ok");
	if (!ret) {
		dp_maps_from_skel(&m, skel, err, sizeof(err));
		dp_config_get(&m, &c);
		OK_EQ(c.default_lane, OG_LANE_BULK, "reused og_config keeps the operator's knobs");
		c.abi_version = 99;
		bpf_map_update_elem(m.fd[DP_MAP_CONFIG], &key, &c, BPF_ANY);
		dp_maps_close(&m);
		og_bpf__destroy(skel);
	}
	ret = dp_load(&o, &skel, err, sizeof(err));
	OK(ret == -EPROTO && strstr(err, "abi_version 99") && strstr(err, "--purge"),
	   "another ABI version refused: %s", err);
	ret = dp_maps_open(&m, dir, err, sizeof(err));
	OK(ret == -EPROTO, "dp_maps_open refuses it too");

	snprintf(path, sizeof(path), "%s/og_flows", dir);
	unlink(path);
	fd = bpf_map_create(BPF_MAP_TYPE_LRU_PERCPU_HASH, "og_flows", sizeof(struct og_flow_key),
			    48, 16, NULL);
	OK(fd >= 0 && bpf_obj_pin(fd, path) == 0, "pinned an ABI 4 og_flows (LRU per-CPU hash)");
	ret = dp_open(&o, "eth9", &skel, err, sizeof(err));
	OK(ret == -EPROTO && strstr(err, "og_flows type 10, this build expects 2") &&
	       strstr(err, "ordergatectl detach eth9 --purge"),
	   "old layout refused with the fix: %s", err);
	if (fd >= 0)
		close(fd);
	unpin_all();
	OK(access(dir, F_OK) != 0, "test pins removed");
}

static void test_state(void)
{
	char dir[] = "/tmp/og-state-XXXXXX", err[256];
	struct dp_state st = {.ifindex = 42,
			      .mode = DP_XDP_GENERIC,
			      .multiprog = true,
			      .clsact_created = true,
			      .xdp_prog_id = 77},
			got;

	if (!mkdtemp(dir)) {
		OK(0, "mkdtemp");
		return;
	}
	setenv("ORDERGATE_STATE_DIR", dir, 1);
	strcpy(st.ifname, "vethX");
	strcpy(st.pin_dir, "/sys/fs/bpf/x");
	OK(dp_state_write(&st, err, sizeof(err)) == 0 && dp_state_read("vethX", &got) == 0,
	   "state file written and read");
	OK(!strcmp(got.ifname, "vethX") && got.ifindex == 42 && got.mode == DP_XDP_GENERIC &&
	       got.multiprog && got.clsact_created && got.xdp_prog_id == 77 &&
	       !strcmp(got.pin_dir, "/sys/fs/bpf/x"),
	   "state round-trips every field");
	OK(dp_state_remove("vethX") == 0 && dp_state_read("vethX", &got) == -ENOENT,
	   "state removed");
	rmdir(dir);
	unsetenv("ORDERGATE_STATE_DIR");
}

static void test_qdisc_dry(void)
{
	struct dp_qdisc_opts q = {.rate = 1000000000ULL, .dry_run = true};
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret;

	ret = dp_qdisc_apply("eth9", &q, f, err, sizeof(err));
	fclose(f);
	OK(ret == 0 && strstr(buf, "tc qdisc replace dev eth9 root handle 1: htb default 20\n") &&
	       strstr(buf, "classid 1:1 htb rate 1gbit ceil 1gbit") &&
	       strstr(buf, "classid 1:10 htb rate 400mbit ceil 1gbit prio 0") &&
	       strstr(buf, "classid 1:20 htb rate 400mbit ceil 1gbit prio 1") &&
	       strstr(buf, "classid 1:30 htb rate 200mbit ceil 1gbit prio 2"),
	   "HTB commands: root 1: default 20, 40/40/20 %% split under 1:1");
	free(buf);
	q.lane_rate[OG_LANE_ORDER] = 2000000000ULL;
	OK(dp_qdisc_apply("eth9", &q, NULL, err, sizeof(err)) == -EINVAL && strstr(err, "ceiling"),
	   "a lane rate above the ceiling is refused: %s", err);
}

int main(void)
{
	struct dp_opts o = {.unpinned = true, .flows = 4096};
	struct og_bpf *skel = NULL;
	struct og_config c;
	struct dp_maps m;
	char err[512];
	int ret;

	test_state();
	test_qdisc_dry();
	if (geteuid() != 0) {
		og_skip("map tests need root (CAP_BPF)");
		return og_done();
	}
	ret = dp_load(&o, &skel, err, sizeof(err));
	OK(ret == 0, "unpinned skeleton loads (%s)", ret ? err : "ok");
	if (ret)
		return og_done();
	OK(dp_maps_from_skel(&m, skel, err, sizeof(err)) == 0, "maps from skeleton");
	OK(dp_config_get(&m, &c) == 0 && c.abi_version == OG_ABI_VERSION && c.enabled == 1 &&
	       c.default_lane == OG_LANE_NORMAL && c.fail_mode == OG_FAIL_OPEN &&
	       c.rules_gen >= 1 && c.lane_class[OG_LANE_ORDER] == OG_CLASS_ORDER &&
	       c.lane_class[OG_LANE_NORMAL] == OG_CLASS_NORMAL &&
	       c.lane_class[OG_LANE_BULK] == OG_CLASS_BULK && c.lane_class[0] == 0,
	   "fresh og_config has the defaults");
	test_flows(&m);
	test_rules(&m);
	test_pin_race(&m);
	test_throttle(&m);
	dp_maps_close(&m);
	og_bpf__destroy(skel);
	test_pins();
	return og_done();
}
