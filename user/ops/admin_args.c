// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Admin POST arguments (POST /limits, POST /faults): query string or a flat JSON body. */
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/admin_args.h"

/* {"key": "string" | integer, ...}: flat, no escapes (names and numbers only). */
static int parse_json(const char *s,
		      int (*set)(void *ctx, const char *k, const char *v, int quoted, char *err,
				 size_t errlen),
		      void *ctx, const char *example, char *err, size_t errlen)
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
		if (set(ctx, key, val, quoted, err, errlen))
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
	snprintf(err, errlen, "body must be a flat JSON object, e.g. %s", example);
	return -EINVAL;
}

int admin_args(struct evhttp_request *req,
	       int (*set)(void *ctx, const char *k, const char *v, int quoted, char *err,
			  size_t errlen),
	       void *ctx, const char *example, char *err, size_t errlen)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t blen = evbuffer_get_length(in);

	if (q && *q) {
		struct evkeyvalq kv;
		struct evkeyval *e;

		if (evhttp_parse_query_str(q, &kv)) {
			snprintf(err, errlen, "bad query string");
			return -EINVAL;
		}
		for (e = kv.tqh_first; e; e = e->next.tqe_next)
			if (set(ctx, e->key, e->value, 0, err, errlen)) {
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
		if (parse_json(body, set, ctx, example, err, errlen))
			return -EINVAL;
	}
	return 0;
}

int admin_arg_uint(const char *k, const char *v, int quoted, uint64_t max, uint64_t *out, char *err,
		   size_t errlen)
{
	if (quoted || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 10) {
		snprintf(err, errlen, "\"%s\" must be a non-negative integer", k);
		return -EINVAL;
	}
	*out = strtoull(v, NULL, 10);
	if (*out > max) {
		snprintf(err, errlen, "\"%s\" is too large (at most %llu)", k,
			 (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}
