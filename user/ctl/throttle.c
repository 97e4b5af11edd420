// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `throttle set|list|clear`: per-source token buckets in og_throttle. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "ctl/ctl.h"

struct tset_opts {
	const char *addr;
	__u64 pps, burst, ttl_ns;
};

static int do_set(const void *p)
{
	const struct tset_opts *o = p;
	struct og_addr_key k;
	struct dp_maps m;
	__u64 burst = o->burst ? o->burst : o->pps;
	char err[256];
	int ret;

	if (dp_addr_parse(o->addr, &k, err, sizeof(err)))
		return ctl_fail("%s", err);
	if (!o->pps || o->pps > OG_TB_MAX_RATE)
		return ctl_fail("throttle set: --pps must be 1..%llu", OG_TB_MAX_RATE);
	if (!burst || burst > OG_TB_MAX_RATE)
		return ctl_fail("throttle set: --burst must be 1..%llu", OG_TB_MAX_RATE);
	if (ctl_maps(&m))
		return 1;
	ret = dp_throttle_set(&m, &k, o->pps, burst, o->ttl_ns);
	dp_maps_close(&m);
	if (ret)
		return ctl_fail("throttle set %s: %s", o->addr, strerror(-ret));
	printf("throttled %s: %llu pps, burst %llu, for %.1f s\n", o->addr,
	       (unsigned long long)o->pps, (unsigned long long)burst, o->ttl_ns / 1e9);
	return 0;
}

static const struct tset_opts tset_defaults = {.ttl_ns = 60000000000ULL};

static const struct ctl_opt tset_opts[] = {
    {"ADDR", 0, CTL_STR, offsetof(struct tset_opts, addr), NULL, "source address (IPv4 or IPv6)",
     .positional = true, .required = true},
    {"pps", 'r', CTL_U64, offsetof(struct tset_opts, pps), "N", "packets per second let through",
     .required = true},
    {"burst", 'b', CTL_U64, offsetof(struct tset_opts, burst), "N",
     "bucket depth in packets (default: one second's worth)"},
    {"ttl", 't', CTL_SECS, offsetof(struct tset_opts, ttl_ns), "S",
     "seconds until the throttle lapses (default 60)"},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_throttle_set = {
    .name = "throttle set",
    .summary = "Rate-limit packets from ADDR at XDP (token bucket; drops count as drop_throttle)",
    .opts = tset_opts,
    .size = sizeof(struct tset_opts),
    .defaults = &tset_defaults,
    .uses_maps = true,
    .run = do_set,
};

struct tlist_opts {
	bool json;
	int n;
	__u64 now;
};

static int print_one(const struct og_addr_key *k, const struct og_throttle *t, void *ctx)
{
	struct tlist_opts *o = ctx;
	char a[64];
	double left = t->expires_ns > o->now ? (t->expires_ns - o->now) / 1e9 : 0;

	dp_addr_str(k->family, k->addr, a, sizeof(a));
	if (o->json)
		printf("%s{\"addr\":\"%s\",\"pps\":%llu,\"burst\":%llu,\"tokens\":%.3f,"
		       "\"expires_in_s\":%.3f,\"passed\":%llu,\"dropped\":%llu,\"live\":%s}",
		       o->n++ ? "," : "", a, (unsigned long long)t->rate_pps,
		       (unsigned long long)t->burst, (double)t->tokens / OG_TB_NS, left,
		       (unsigned long long)t->passed, (unsigned long long)t->dropped,
		       left > 0 ? "true" : "false");
	else
		printf("%-39s %10llu %8llu %10.1f %10.1f %10llu %10llu %s\n", a,
		       (unsigned long long)t->rate_pps, (unsigned long long)t->burst,
		       (double)t->tokens / OG_TB_NS, left, (unsigned long long)t->passed,
		       (unsigned long long)t->dropped, left > 0 ? "live" : "expired");
	return 0;
}

static int do_list(const void *p)
{
	struct tlist_opts o = *(const struct tlist_opts *)p;
	struct og_config c = {0};
	struct dp_maps m;

	if (ctl_maps(&m))
		return 1;
	o.now = dp_now_ns();
	dp_config_get(&m, &c);
	if (o.json)
		printf("{\"throttle_count\":%u,\"throttles\":[", c.throttle_count);
	else
		printf("%-39s %10s %8s %10s %10s %10s %10s %s\n", "SOURCE", "PPS", "BURST",
		       "TOKENS", "EXPIRES_S", "PASSED", "DROPPED", "STATE");
	dp_throttle_foreach(&m, print_one, &o);
	if (o.json)
		printf("]}\n");
	dp_maps_close(&m);
	return 0;
}

static const struct ctl_opt tlist_opts[] = {
    {"json", 'j', CTL_FLAG, offsetof(struct tlist_opts, json), NULL, "print as JSON"},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_throttle_list = {
    .name = "throttle list",
    .summary = "List throttled sources with their bucket, expiry and pass/drop counts",
    .opts = tlist_opts,
    .size = sizeof(struct tlist_opts),
    .uses_maps = true,
    .run = do_list,
};

struct tclear_opts {
	const char *addr;
};

static int do_clear(const void *p)
{
	const struct tclear_opts *o = p;
	struct og_addr_key k;
	struct dp_maps m;
	char err[256];
	int ret;

	if (dp_addr_parse(o->addr, &k, err, sizeof(err)))
		return ctl_fail("%s", err);
	if (ctl_maps(&m))
		return 1;
	ret = dp_throttle_clear(&m, &k);
	dp_maps_close(&m);
	if (ret == -ENOENT)
		return ctl_fail("throttle clear: %s is not throttled", o->addr);
	if (ret)
		return ctl_fail("throttle clear %s: %s", o->addr, strerror(-ret));
	printf("cleared throttle on %s\n", o->addr);
	return 0;
}

static const struct ctl_opt tclear_opts[] = {
    {"ADDR", 0, CTL_STR, offsetof(struct tclear_opts, addr), NULL, "source address",
     .positional = true, .required = true},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_throttle_clear = {
    .name = "throttle clear",
    .summary = "Remove the throttle on ADDR",
    .opts = tclear_opts,
    .size = sizeof(struct tclear_opts),
    .uses_maps = true,
    .run = do_clear,
};
