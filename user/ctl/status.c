// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `status`: maps, knobs and, per attached interface, what the kernel says runs there. */
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <string.h>

#include "ctl/ctl.h"

struct status_opts {
	bool json;
	int n;
};

static const char *mode_name(enum dp_xdp_mode m)
{
	return m == DP_XDP_GENERIC ? "generic" : "native";
}

static int print_iface(const struct dp_state *st, void *ctx)
{
	struct status_opts *o = ctx;
	int ifindex = if_nametoindex(st->ifname);
	struct dp_live lv = {0};
	char xdp[96], tc[32];

	if (ifindex)
		dp_live_query(ifindex, &lv);
	if (!ifindex)
		snprintf(xdp, sizeof(xdp), "interface gone");
	else if (lv.xdp_attached)
		snprintf(xdp, sizeof(xdp), "%s %s (prog id %u, %d on hook)", mode_name(lv.xdp_mode),
			 lv.xdp_multiprog ? "dispatcher" : "single", lv.xdp_prog_id,
			 lv.xdp_prog_count);
	else
		snprintf(xdp, sizeof(xdp), "NOT attached%s%s",
			 lv.xdp_foreign[0] ? " (holder: " : "",
			 lv.xdp_foreign[0] ? lv.xdp_foreign : "");
	if (lv.xdp_foreign[0] && ifindex)
		strcat(xdp, ")");
	snprintf(tc, sizeof(tc), "%s%s%s", lv.tc_in ? "ingress" : "",
		 lv.tc_in && lv.tc_out ? "+" : "", lv.tc_out ? "egress" : "");
	if (o->json) {
		printf(
		    "%s{\"ifname\":\"%s\",\"present\":%s,\"xdp_attached\":%s,\"xdp_mode\":\"%s\","
		    "\"xdp\":\"%s\",\"xdp_prog_id\":%u,\"xdp_progs_on_hook\":%d,"
		    "\"tc_ingress\":%s,\"tc_egress\":%s,\"clsact_created\":%s,\"pin_dir\":\"%s\"}",
		    o->n++ ? "," : "", st->ifname, ifindex ? "true" : "false",
		    lv.xdp_attached ? "true" : "false", mode_name(lv.xdp_mode),
		    lv.xdp_multiprog ? "dispatcher" : "single", lv.xdp_prog_id, lv.xdp_prog_count,
		    lv.tc_in ? "true" : "false", lv.tc_out ? "true" : "false",
		    st->clsact_created ? "true" : "false", st->pin_dir);
	} else {
		printf("  %-15s xdp: %-44s tc: %-14s clsact: %-8s maps: %s\n", st->ifname, xdp,
		       tc[0] ? tc : "NONE", st->clsact_created ? "created" : "pre-existing",
		       st->pin_dir);
	}
	return 0;
}

static int do_status(const void *p)
{
	struct status_opts o = *(const struct status_opts *)p;
	static const enum dp_map_id counted[] = {DP_MAP_FLOWS, DP_MAP_THROTTLE, DP_MAP_SRC_RULES,
						 DP_MAP_PORT_LANE, DP_MAP_FLOW_LANE};
	struct og_config c = {0};
	char err[512], cls[OG_LANE_MAX][16];
	bool have_maps;
	struct dp_maps m;
	__u64 n[5] = {0};
	size_t i;
	int lane;

	if (dp_check_root(err, sizeof(err)))
		return ctl_fail("%s", err);
	have_maps = dp_maps_open(&m, ctl_pin_path, err, sizeof(err)) == 0;
	if (have_maps) {
		dp_config_get(&m, &c);
		for (i = 0; i < 5; i++)
			dp_map_count(&m, counted[i], &n[i]);
		dp_maps_close(&m);
	}
	for (lane = 0; lane < OG_LANE_MAX; lane++)
		dp_class_str(c.lane_class[lane], cls[lane], sizeof(cls[lane]));
	if (o.json) {
		printf("{\"pin_dir\":\"%s\",\"maps\":%s", ctl_pin_dir(),
		       have_maps ? "true" : "false");
		if (have_maps) {
			printf(",\"abi_version\":%u,\"build_abi_version\":%d,\"config\":{"
			       "\"enabled\":%u,"
			       "\"default_lane\":\"%s\",\"fail_mode\":\"%s\",\"rules_gen\":%u,"
			       "\"throttle_count\":%u,\"lane_class\":{\"order\":\"%s\",\"normal\":"
			       "\"%s\","
			       "\"bulk\":\"%s\"}},\"entries\":{",
			       c.abi_version, OG_ABI_VERSION, c.enabled,
			       dp_lane_name(c.default_lane),
			       c.fail_mode == OG_FAIL_CLOSED ? "closed" : "open", c.rules_gen,
			       c.throttle_count, cls[1], cls[2], cls[3]);
			for (i = 0; i < 5; i++)
				printf("%s\"%s\":%llu", i ? "," : "", dp_map_names[counted[i]],
				       (unsigned long long)n[i]);
			printf("}");
		} else {
			printf(",\"error\":\"%s\"", "maps not pinned");
		}
		printf(",\"interfaces\":[");
		dp_state_foreach(print_iface, &o);
		printf("]}\n");
		return 0;
	}
	printf("pin dir:      %s\n", ctl_pin_dir());
	if (!have_maps) {
		printf("maps:         not available: %s\n", err);
	} else {
		printf("maps:         pinned, ABI version %u (this build %d)\n", c.abi_version,
		       OG_ABI_VERSION);
		printf("config:       enabled=%u default_lane=%s fail_mode=%s rules_gen=%u "
		       "throttle_count=%u\n",
		       c.enabled, dp_lane_name(c.default_lane),
		       c.fail_mode == OG_FAIL_CLOSED ? "closed" : "open", c.rules_gen,
		       c.throttle_count);
		printf("lane classes: order=%s normal=%s bulk=%s\n", cls[1], cls[2], cls[3]);
		printf("entries:     ");
		for (i = 0; i < 5; i++)
			printf(" %s=%llu", dp_map_names[counted[i]], (unsigned long long)n[i]);
		printf("\n");
	}
	printf("interfaces (state files in %s):\n", dp_state_dir());
	dp_state_foreach(print_iface, &o);
	return 0;
}

static const struct ctl_opt status_opts[] = {
    {"json", 'j', CTL_FLAG, offsetof(struct status_opts, json), NULL, "print as JSON"},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_status = {
    .name = "status",
    .summary = "Pin dir, ABI, knobs, map entry counts, and each attached interface live",
    .opts = status_opts,
    .size = sizeof(struct status_opts),
    .uses_maps = true,
    .run = do_status,
};
