// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* GET /faults and POST /faults: per-route fault injection overrides with a TTL (proxy/fault_ov.c).
 */
#include <errno.h>
#include <event2/buffer.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/daemon.h"
#include "ops/admin.h"
#include "ops/admin_args.h"
#include "proxy/fault.h"
#include "proxy/fault_ov.h"

struct fault_req {
	char route[65];
	struct cfg_fault f;
	uint64_t ttl_ms;
	int has_ttl, has_delay_percent;
};

/* Store one key=value; unknown keys are refused so a typo is not a silent no-op. */
static int set_field(void *ctx, const char *k, const char *v, int quoted, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		uint64_t max;
		size_t off;
	} keys[] = {
	    {"delay_ms", FAULT_OV_DELAY_MAX, offsetof(struct cfg_fault, delay_ms)},
	    {"delay_jitter_ms", FAULT_OV_DELAY_MAX, offsetof(struct cfg_fault, delay_jitter_ms)},
	    {"delay_percent", 100, offsetof(struct cfg_fault, delay_percent)},
	    {"abort_status", 599, offsetof(struct cfg_fault, abort_status)},
	    {"abort_percent", 100, offsetof(struct cfg_fault, abort_percent)},
	};
	struct fault_req *o = ctx;
	uint64_t n;

	if (!strcmp(k, "route")) {
		if (strlen(v) >= sizeof(o->route)) {
			snprintf(err, errlen, "\"route\" is too long (at most 64 characters)");
			return -EINVAL;
		}
		snprintf(o->route, sizeof(o->route), "%s", v);
		return 0;
	}
	if (!strcmp(k, "ttl_ms")) {
		o->has_ttl = 1;
		return admin_arg_uint(k, v, quoted, FAULT_OV_TTL_MAX, &o->ttl_ms, err, errlen);
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(k, keys[i].key))
			continue;
		if (admin_arg_uint(k, v, quoted, keys[i].max, &n, err, errlen))
			return -EINVAL;
		*(uint32_t *)((char *)&o->f + keys[i].off) = (uint32_t)n;
		if (i == 2)
			o->has_delay_percent = 1;
		return 0;
	}
	snprintf(err, errlen,
		 "unknown key \"%.32s\" (route, delay_ms, delay_jitter_ms, delay_percent, "
		 "abort_status, abort_percent, ttl_ms)",
		 k);
	return -EINVAL;
}

int admin_faults_post(struct evhttp_request *req, char *err, size_t errlen)
{
	struct fault_req o = {.f = {.abort_status = 503}};

	if (admin_args(req, set_field, &o,
		       "{\"route\":\"orders\",\"delay_ms\":200,\"ttl_ms\":60000}", err, errlen))
		return -EINVAL;
	if (!o.route[0]) {
		snprintf(err, errlen, "route is required: the name of an upstream route");
		return -EINVAL;
	}
	if (!o.has_ttl) {
		snprintf(err, errlen, "ttl_ms is required: 1..%d ms, or 0 to remove the override",
			 FAULT_OV_TTL_MAX);
		return -EINVAL;
	}
	/* like the config: a delay given without a percentage applies to every request */
	if (!o.has_delay_percent)
		o.f.delay_percent = 100;
	return fault_ov_set(o.route, &o.f, o.ttl_ms, og_now_ms(), err, errlen);
}

static void render_fault(struct evbuffer *out, const char *key, const struct cfg_fault *f)
{
	evbuffer_add_printf(out,
			    ",\"%s\":{\"delay_ms\":%u,\"delay_jitter_ms\":%u,\"delay_percent\":%u,"
			    "\"abort_status\":%u,\"abort_percent\":%u",
			    key, f->delay_ms, f->delay_jitter_ms, f->delay_percent, f->abort_status,
			    f->abort_percent);
}

static uint64_t ld(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

void admin_faults_render(struct evbuffer *out)
{
	const struct og_rt *rt = og_daemon_rt();
	const struct config *cfg = rt ? rt->cfg : NULL;
	uint64_t now = og_now_ms();
	int first = 1, n_ov = 0;

	evbuffer_add_printf(out, "{\"routes\":[");
	for (int r = 0; cfg && r < cfg->n_routes; r++) {
		const struct cfg_route *cr = &cfg->routes[r];
		uint64_t d = ld(&fault_counts.delays[r]), dms = ld(&fault_counts.delay_ms[r]);
		uint64_t a = ld(&fault_counts.aborts[r]), ttl = 0;
		struct cfg_fault ov;
		int has_ov = !cr->is_respond && fault_ov_peek(cr->name, now, &ov, &ttl);

		if (cr->is_respond || (!cr->has_fault && !has_ov && !d && !a))
			continue;
		/* route names are letters, digits and _ . : / - (config): no escaping */
		evbuffer_add_printf(out, "%s{\"route\":\"%s\"", first ? "" : ",", cr->name);
		first = 0;
		if (cr->has_fault) {
			render_fault(out, "config", &cr->fault);
			evbuffer_add_printf(out, "}");
		} else {
			evbuffer_add_printf(out, ",\"config\":null");
		}
		if (has_ov) {
			n_ov++;
			render_fault(out, "override", &ov);
			evbuffer_add_printf(out, ",\"ttl_ms\":%llu}", (unsigned long long)ttl);
		} else {
			evbuffer_add_printf(out, ",\"override\":null");
		}
		evbuffer_add_printf(
		    out, ",\"injected\":{\"delays\":%llu,\"delay_ms\":%llu,\"aborts\":%llu}}",
		    (unsigned long long)d, (unsigned long long)dms, (unsigned long long)a);
	}
	evbuffer_add_printf(out, "],\"overrides\":%d}\n", n_ov);
}
