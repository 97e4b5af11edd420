// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* POST /limits: an override with a TTL from query arguments or a flat JSON body. */
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanes/ctrl.h"
#include "lanes/lstate.h"
#include "ops/admin.h"

struct ov_req {
	char lane[16], route[65];
	uint64_t limit, rps, burst, ttl_ms;
	int has_limit, has_rps;
};

/* Store one key=value; unknown keys are refused so a typo is not a silent no-op. */
static int set_field(struct ov_req *o, const char *k, const char *v, int quoted, char *err,
		     size_t errlen)
{
	uint64_t *num = NULL;
	char *end;

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
	if (quoted || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 10) {
		snprintf(err, errlen, "\"%s\" must be a non-negative integer", k);
		return -EINVAL;
	}
	*num = strtoull(v, &end, 10);
	if (*num > 86400000ull * 7) {
		snprintf(err, errlen, "\"%s\" is too large", k);
		return -EINVAL;
	}
	return 0;
}

/* {"key": "string" | integer, ...}: flat, no escapes (names and numbers only). */
static int parse_json(const char *s, struct ov_req *o, char *err, size_t errlen)
{
	char key[32], val[80];

	while (isspace((unsigned char)*s))
		s++;
	if (*s++ != '{')
		goto bad;
	for (;;) {
		size_t n = 0;
		int quoted = 0;

		while (isspace((unsigned char)*s))
			s++;
		if (*s == '}')
			break;
		if (*s++ != '"')
			goto bad;
		while (*s && *s != '"' && *s != '\\' && n + 1 < sizeof(key))
			key[n++] = *s++;
		key[n] = 0;
		if (*s++ != '"')
			goto bad;
		while (isspace((unsigned char)*s))
			s++;
		if (*s++ != ':')
			goto bad;
		while (isspace((unsigned char)*s))
			s++;
		n = 0;
		if (*s == '"') {
			quoted = 1;
			s++;
			while (*s && *s != '"' && *s != '\\' && n + 1 < sizeof(val))
				val[n++] = *s++;
			if (*s++ != '"')
				goto bad;
		} else {
			while (*s && (isalnum((unsigned char)*s) || *s == '.' || *s == '-') &&
			       n + 1 < sizeof(val))
				val[n++] = *s++;
		}
		val[n] = 0;
		if (set_field(o, key, val, quoted, err, errlen))
			return -EINVAL;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s != '}')
			goto bad;
		break;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "body must be a flat JSON object, e.g. {\"lane\":\"bulk\",\"limit\":50,"
		 "\"ttl_ms\":60000}");
	return -EINVAL;
}

int admin_limits_post(struct evhttp_request *req, char *err, size_t errlen)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct ov_req o = {0};
	size_t blen = evbuffer_get_length(in);

	if (q && *q) {
		struct evkeyvalq kv;
		struct evkeyval *e;

		if (evhttp_parse_query_str(q, &kv)) {
			snprintf(err, errlen, "bad query string");
			return -EINVAL;
		}
		for (e = kv.tqh_first; e; e = e->next.tqe_next)
			if (set_field(&o, e->key, e->value, 0, err, errlen)) {
				evhttp_clear_headers(&kv);
				return -EINVAL;
			}
		evhttp_clear_headers(&kv);
	} else if (blen) {
		char body[1024];

		if (blen >= sizeof(body)) {
			snprintf(err, errlen, "body too large");
			return -EINVAL;
		}
		evbuffer_copyout(in, body, blen);
		body[blen] = 0;
		if (parse_json(body, &o, err, errlen))
			return -EINVAL;
	}
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
