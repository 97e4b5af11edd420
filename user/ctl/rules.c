// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `block`, `unblock`, `src-lane`, `port-lane` and `rules`: og_src_rules and og_port_lane. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "ctl/ctl.h"

struct cidr_opts {
	const char *cidr;
	int lane;
};

/* Parse <s>, telling the operator when host bits were cleared. Returns 0 or 1. */
static int cidr(const char *s, struct dp_prefix *p)
{
	char err[256], buf[64];
	int norm;

	if (dp_prefix_parse(s, p, &norm, err, sizeof(err)))
		return ctl_fail("%s", err);
	if (norm)
		fprintf(stderr, "ordergatectl: note: %s has host bits set; using %s\n", s,
			dp_prefix_str(p, buf, sizeof(buf)));
	return 0;
}

static int do_block(const void *p)
{
	const struct cidr_opts *o = p;
	struct dp_prefix pf;
	struct dp_maps m;
	char buf[64];
	int ret;

	if (cidr(o->cidr, &pf) || ctl_maps(&m))
		return 1;
	ret = dp_src_block(&m, &pf, true);
	dp_maps_close(&m);
	if (ret)
		return ctl_fail("block %s: %s", o->cidr, strerror(-ret));
	printf("blocked %s\n", dp_prefix_str(&pf, buf, sizeof(buf)));
	return 0;
}

static int do_unblock(const void *p)
{
	const struct cidr_opts *o = p;
	struct dp_prefix pf;
	struct dp_maps m;
	char buf[64];
	int ret;

	if (cidr(o->cidr, &pf) || ctl_maps(&m))
		return 1;
	ret = dp_src_block(&m, &pf, false);
	dp_maps_close(&m);
	dp_prefix_str(&pf, buf, sizeof(buf));
	if (ret == -ENOENT)
		return ctl_fail("unblock %s: no rule for exactly %s (see `ordergatectl rules`)",
				o->cidr, buf);
	if (ret)
		return ctl_fail("unblock %s: %s", o->cidr, strerror(-ret));
	printf("unblocked %s\n", buf);
	return 0;
}

static int do_src_lane(const void *p)
{
	const struct cidr_opts *o = p;
	struct og_src_rule r = {0};
	struct dp_prefix pf;
	struct dp_maps m;
	char buf[64];
	int ret = 0;

	if (cidr(o->cidr, &pf) || ctl_maps(&m))
		return 1;
	/* keep a block flag the prefix may carry */
	ret = dp_src_rule_get(&m, &pf, &r);
	if (ret && ret != -ENOENT) {
		dp_maps_close(&m);
		return ctl_fail("src-lane %s: %s", o->cidr, strerror(-ret));
	}
	if (o->lane == OG_LANE_NONE && !(r.flags & OG_RULE_BLOCK)) {
		ret = ret ? ret : dp_src_rule_del(&m, &pf);
		dp_maps_close(&m);
		if (ret)
			return ctl_fail("src-lane %s: no rule for exactly %s", o->cidr,
					dp_prefix_str(&pf, buf, sizeof(buf)));
		printf("%s: lane rule removed\n", dp_prefix_str(&pf, buf, sizeof(buf)));
		return 0;
	}
	r.lane = o->lane;
	ret = dp_src_rule_set(&m, &pf, &r);
	dp_maps_close(&m);
	if (ret)
		return ctl_fail("src-lane %s: %s", o->cidr, strerror(-ret));
	printf("%s -> lane %s\n", dp_prefix_str(&pf, buf, sizeof(buf)), dp_lane_name(o->lane));
	return 0;
}

static const struct ctl_opt cidr_only[] = {
    {"CIDR", 0, CTL_STR, offsetof(struct cidr_opts, cidr), NULL,
     "source prefix, IPv4 or IPv6 (10.0.0.0/8, 2001:db8::/32, or one address)", .positional = true,
     .required = true},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_block = {
    .name = "block",
    .summary = "Drop every packet from CIDR at XDP (counted as drop_block)",
    .opts = cidr_only,
    .size = sizeof(struct cidr_opts),
    .uses_maps = true,
    .run = do_block,
};

const struct ctl_cmd ctl_cmd_unblock = {
    .name = "unblock",
    .summary = "Remove the block on exactly CIDR (a lane the prefix assigns stays)",
    .opts = cidr_only,
    .size = sizeof(struct cidr_opts),
    .uses_maps = true,
    .run = do_unblock,
};

static const struct ctl_opt src_lane_opts[] = {
    {"CIDR", 0, CTL_STR, offsetof(struct cidr_opts, cidr), NULL, "source prefix",
     .positional = true, .required = true},
    {"LANE", 0, CTL_LANE, offsetof(struct cidr_opts, lane), NULL,
     "order|normal|bulk, or none to delete the rule", .positional = true, .required = true},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_src_lane = {
    .name = "src-lane",
    .summary = "Assign flows from CIDR to LANE (longest prefix wins; `none` deletes)",
    .opts = src_lane_opts,
    .size = sizeof(struct cidr_opts),
    .uses_maps = true,
    .run = do_src_lane,
};

struct port_opts {
	__u64 port;
	int lane;
};

static int do_port_lane(const void *p)
{
	const struct port_opts *o = p;
	struct dp_maps m;
	int ret;

	if (o->port > 65535)
		return ctl_fail("port-lane: port must be 0..65535");
	if (ctl_maps(&m))
		return 1;
	ret = dp_port_lane_set(&m, o->port, o->lane);
	dp_maps_close(&m);
	if (ret == -ENOENT)
		return ctl_fail("port-lane: no lane set for port %llu",
				(unsigned long long)o->port);
	if (ret)
		return ctl_fail("port-lane %llu: %s", (unsigned long long)o->port, strerror(-ret));
	if (o->lane == OG_LANE_NONE)
		printf("port %llu: lane rule removed\n", (unsigned long long)o->port);
	else
		printf("port %llu -> lane %s\n", (unsigned long long)o->port,
		       dp_lane_name(o->lane));
	return 0;
}

static const struct ctl_opt port_opts[] = {
    {"PORT", 0, CTL_U64, offsetof(struct port_opts, port), NULL,
     "destination port (TCP or UDP) of the flow's first direction", .positional = true,
     .required = true},
    {"LANE", 0, CTL_LANE, offsetof(struct port_opts, lane), NULL,
     "order|normal|bulk, or none to delete", .positional = true, .required = true},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_port_lane = {
    .name = "port-lane",
    .summary = "Assign flows to destination PORT to LANE (`none` deletes)",
    .opts = port_opts,
    .size = sizeof(struct port_opts),
    .uses_maps = true,
    .run = do_port_lane,
};

struct rules_opts {
	bool json;
	int n;
};

static int print_rule(const struct dp_prefix *p, const struct og_src_rule *r, void *ctx)
{
	struct rules_opts *o = ctx;
	char buf[64];

	dp_prefix_str(p, buf, sizeof(buf));
	if (o->json)
		printf("%s{\"prefix\":\"%s\",\"lane\":\"%s\",\"block\":%s}", o->n++ ? "," : "", buf,
		       dp_lane_name(r->lane), r->flags & OG_RULE_BLOCK ? "true" : "false");
	else
		printf("%-44s %-7s %s\n", buf, r->lane ? dp_lane_name(r->lane) : "-",
		       r->flags & OG_RULE_BLOCK ? "block" : "");
	return 0;
}

static int print_port(unsigned int port, unsigned int lane, void *ctx)
{
	struct rules_opts *o = ctx;

	if (o->json)
		printf("%s{\"port\":%u,\"lane\":\"%s\"}", o->n++ ? "," : "", port,
		       dp_lane_name(lane));
	else
		printf("%-6u %s\n", port, dp_lane_name(lane));
	return 0;
}

static int do_rules(const void *p)
{
	struct rules_opts o = *(const struct rules_opts *)p;
	struct dp_maps m;

	if (ctl_maps(&m))
		return 1;
	if (o.json)
		printf("{\"src_rules\":[");
	else
		printf("%-44s %-7s %s\n", "SOURCE PREFIX", "LANE", "ACTION");
	dp_src_rules_foreach(&m, print_rule, &o);
	o.n = 0;
	if (o.json)
		printf("],\"port_lanes\":[");
	else
		printf("\n%-6s %s\n", "PORT", "LANE");
	dp_port_lanes_foreach(&m, print_port, &o);
	if (o.json)
		printf("]}\n");
	dp_maps_close(&m);
	return 0;
}

static const struct ctl_opt rules_opts[] = {
    {"json", 'j', CTL_FLAG, offsetof(struct rules_opts, json), NULL, "print as JSON"},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_rules = {
    .name = "rules",
    .summary = "List source-prefix rules (lane, block) and destination-port lanes",
    .opts = rules_opts,
    .size = sizeof(struct rules_opts),
    .uses_maps = true,
    .run = do_rules,
};
