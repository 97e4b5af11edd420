// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* POST /limits: an override with a TTL from query arguments or a flat JSON body. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lanes/ctrl.h"
#include "lanes/lstate.h"
#include "ops/admin.h"
#include "ops/admin_args.h"

struct ov_req {
	char lane[16], route[65];
	uint64_t limit, rps, burst, ttl_ms;
	int has_limit, has_rps;
};

/* Store one key=value; unknown keys are refused so a typo is not a silent no-op. */
static int set_field(void *ctx, const char *k, const char *v, int quoted, char *err, size_t errlen)
{
	struct ov_req *o = ctx;
	uint64_t *num = NULL;

	if (!strcmp(k, "lane") || !strcmp(k, "route")) {
		char *dst = k[0] == 'l' ? o->lane : o->route;
		size_t cap = k[0] == 'l' ? sizeof(o->lane) : sizeof(o->route);

		if (strlen(v) >= cap) {
			snprintf(err, errlen, "\"%s\" is too long", k);
			return -EINVAL;
		}
		snprintf(dst, cap, "%s", v);
		return 0;
	}
	if (!strcmp(k, "limit"))
		num = &o->limit, o->has_limit = 1;
	else if (!strcmp(k, "rps"))
		num = &o->rps, o->has_rps = 1;
	else if (!strcmp(k, "burst"))
		num = &o->burst;
	else if (!strcmp(k, "ttl_ms"))
		num = &o->ttl_ms;
	if (!num) {
		snprintf(err, errlen,
			 "unknown key \"%.32s\" (lane, limit, route, rps, burst, ttl_ms)", k);
		return -EINVAL;
	}
	return admin_arg_uint(k, v, quoted, 86400000ull * 7, num, err, errlen);
}

int admin_limits_post(struct evhttp_request *req, char *err, size_t errlen)
{
	struct ov_req o = {0};

	if (admin_args(req, set_field, &o, "{\"lane\":\"bulk\",\"limit\":50,\"ttl_ms\":60000}", err,
		       errlen))
		return -EINVAL;
	if (!!o.lane[0] == !!o.route[0]) {
		snprintf(err, errlen, "name exactly one of lane or route");
		return -EINVAL;
	}
	if (o.lane[0]) {
		unsigned l;

		for (l = OG_LANE_ORDER; l < OG_LANE_MAX; l++)
			if (!strcmp(o.lane, lanes_name(l)))
				break;
		if (!o.has_limit) {
			snprintf(err, errlen, "a lane override needs limit (0 removes it)");
			return -EINVAL;
		}
		return ctrl_override_lane(l, (uint32_t)o.limit, o.ttl_ms, err, errlen);
	}
	if (!o.has_rps) {
		snprintf(err, errlen, "a route override needs rps (0 removes it)");
		return -EINVAL;
	}
	if (o.rps > 10000000 || o.burst > 10000000) {
		snprintf(err, errlen, "rps and burst are at most 10000000");
		return -EINVAL;
	}
	return ctrl_override_route(o.route, (uint32_t)o.rps, (uint32_t)o.burst, o.ttl_ms, err,
				   errlen);
}
