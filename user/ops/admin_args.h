/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Arguments of an admin POST: query arguments or a flat JSON body, one key/value at a time. */
#ifndef OG_ADMIN_ARGS_H
#define OG_ADMIN_ARGS_H

#include <stddef.h>
#include <stdint.h>

struct evhttp_request;

/*
 * Call <set>(<ctx>, key, value, quoted, err, errlen) for each argument of <req>: its query
 * arguments when it has any, else its body as a flat JSON object {"key": "string" | integer,
 * ...} (no nesting, no escapes: names and numbers only). <quoted> is 1 for a JSON string.
 * <example> is a body shown in the error when the JSON is malformed. Stops at the first
 * <set> that fails. Returns 0, or -EINVAL with the reason in <err>. Admin thread.
 */
int admin_args(struct evhttp_request *req,
	       int (*set)(void *ctx, const char *k, const char *v, int quoted, char *err,
			  size_t errlen),
	       void *ctx, const char *example, char *err, size_t errlen);

/* Value <v> of key <k> as an unquoted decimal integer 0..<max> into <out>. Returns 0, or
 * -EINVAL with "\"k\" must be ..." in <err>. */
int admin_arg_uint(const char *k, const char *v, int quoted, uint64_t max, uint64_t *out, char *err,
		   size_t errlen);

#endif /* OG_ADMIN_ARGS_H */
