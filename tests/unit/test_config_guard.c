// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config of a route's idempotency and fault sections: defaults, values, errors, dump. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "../lib/cfg_test.h"
#include "../lib/og_test.h"

#define HEAD                                                                                       \
	"upstreams:\n  o: { servers: [\"127.0.0.1:9001\"] }\nroutes:\n  - match: { path_prefix: "  \
	"/o }\n    upstream: o\n"

static void test_good(void)
{
	char err[512] = "";
	struct config *c =
	    cfg_test_load(HEAD "    idempotency: {}\n    fault: { delay_ms: 10 }\n"
			       "  - match: { path: /p }\n    upstream: o\n"
			       "    idempotency: { window_ms: 5000, max_entries: 100, max_key: 64,"
			       " max_response: 16k, scope: header:X-Account }\n"
			       "    fault: { delay_ms: 200, delay_jitter_ms: 50, delay_percent: 30,"
			       " abort_status: 500, abort_percent: 5 }\n",
			  err, sizeof(err));
	struct config *d;
	char *da, *db;

	OK(c != NULL, "idempotency and fault load (%s)", err);
	if (!c)
		return;
	OK(c->routes[0].has_idem && c->routes[0].idem.window_ms == 60000 &&
	       c->routes[0].idem.max_entries == 16384 && c->routes[0].idem.max_key == 128 &&
	       c->routes[0].idem.max_response == 8192 &&
	       c->routes[0].idem.scope == CFG_IDEM_SCOPE_SOURCE,
	   "idempotency: {} gets the defaults (60 s, 16384 keys, 128 B keys, 8 KiB, source)");
	OK(c->routes[0].has_fault && c->routes[0].fault.delay_ms == 10 &&
	       c->routes[0].fault.delay_percent == 100 && c->routes[0].fault.abort_percent == 0 &&
	       c->routes[0].fault.abort_status == 503,
	   "fault: { delay_ms: 10 } delays every request, aborts none (abort_status 503)");
	OK(c->routes[1].idem.window_ms == 5000 && c->routes[1].idem.max_entries == 100 &&
	       c->routes[1].idem.max_key == 64 && c->routes[1].idem.max_response == 16384 &&
	       c->routes[1].idem.scope == CFG_IDEM_SCOPE_HEADER &&
	       !strcmp(c->routes[1].idem.scope_header, "x-account"),
	   "idempotency values, 16k = 16384, header scope lower-cased");
	OK(c->routes[1].fault.delay_ms == 200 && c->routes[1].fault.delay_jitter_ms == 50 &&
	       c->routes[1].fault.delay_percent == 30 && c->routes[1].fault.abort_status == 500 &&
	       c->routes[1].fault.abort_percent == 5,
	   "fault values");
	OK(!c->routes[0].idem.scope_header, "no scope header for source scope");
	da = cfg_test_dump(c);
	d = cfg_test_load(da, err, sizeof(err));
	OK(d != NULL, "the dump loads again (%s)", d ? "ok" : err);
	if (d) {
		db = cfg_test_dump(d);
		OK(!strcmp(da, db), "... and dumps the same");
		OK(!memcmp(&c->routes[1].fault, &d->routes[1].fault, sizeof(struct cfg_fault)) &&
		       c->routes[1].idem.max_response == d->routes[1].idem.max_response &&
		       d->routes[1].idem.scope == CFG_IDEM_SCOPE_HEADER,
		   "... with the same values");
		free(db);
		config_free(d);
	}
	free(da);
	config_free(c);
	c = cfg_test_load(HEAD "    idempotency: { scope: none }\n", err, sizeof(err));
	OK(c && c->routes[0].idem.scope == CFG_IDEM_SCOPE_NONE, "scope: none");
	config_free(c);
	c = cfg_test_load(HEAD "    fault: { abort_percent: 100 }\n", err, sizeof(err));
	OK(c && c->routes[0].fault.delay_percent == 0 && c->routes[0].fault.abort_percent == 100,
	   "an abort-only fault delays nothing");
	config_free(c);
}

static const struct cfg_bad bad[] = {
    {HEAD "    idempotency: { window: 5 }\n", "6:20",
     "unknown key \"window\" in idempotency of route 1"},
    {HEAD "    idempotency: { window_ms: 0 }\n", "6:31", "\"window_ms\" must be an integer"},
    {HEAD "    idempotency: { max_key: 256 }\n", "6:29", "from 1 to 255"},
    {HEAD "    idempotency: { max_entries: 0 }\n", "6:33", "\"max_entries\" must be"},
    {HEAD "    idempotency: { max_response: 61k }\n", "6:34", "from 0 to 61440"},
    {HEAD "    idempotency: { max_response: 1m }\n", "6:34", "\"max_response\" must be a size"},
    {HEAD "    idempotency: { scope: client }\n", "6:27",
     "\"scope\" must be source, none or header:NAME"},
    {HEAD "    idempotency: { scope: \"header:bad name\" }\n", "6:27", "header:NAME"},
    {HEAD "    idempotency: 5\n", "6:18", "\"idempotency\" must be a mapping"},
    {HEAD "    fault: { delay_percent: 101 }\n", "6:29", "\"delay_percent\" must be an integer"},
    {HEAD "    fault: { abort_status: 99 }\n", "6:28", "from 200 to 599"},
    {HEAD "    fault: { delay_ms: 10, delay_jitter_ms: 20 }\n", "6:45",
     "\"delay_jitter_ms\" (20) may not exceed \"delay_ms\" (10)"},
    {HEAD "    fault: { abort: 5 }\n", "6:14", "unknown key \"abort\" in fault of route 1"},
    {"routes:\n  - match: {}\n    respond: {}\n    idempotency: {}\n", "4:5",
     "\"idempotency\" acts on the upstream exchange: route 1 answers with \"respond\""},
    {"routes:\n  - match: {}\n    fault: { abort_percent: 1 }\n    respond: {}\n", "3:5",
     "\"fault\" acts on the upstream exchange"},
};

static void test_bad(void)
{
	cfg_test_bad(bad, sizeof(bad) / sizeof(bad[0]));
}

int main(void)
{
	test_good();
	test_bad();
	return og_done();
}
