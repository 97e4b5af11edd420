/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Route selection: first route in config order whose match holds. */
#ifndef OG_ROUTER_H
#define OG_ROUTER_H

#include "config/config.h"
#include "http/http_parse.h"

/*
 * Return the index into <c>->routes of the first route matching request <m>
 * (parsed from <buf>): exact path, path prefix, method list, header equals —
 * all given conditions must hold. -1 when none matches (the caller answers 404).
 * O(routes) scan with no allocation; fine for the few hundred routes a config holds.
 */
int router_match(const struct config *c, const struct http_msg *m, const char *buf);

#endif /* OG_ROUTER_H */
