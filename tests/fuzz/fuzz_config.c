// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer target: config loader; accepted configs must dump to YAML that loads to the same dump.
 */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "http/http_parse.h"
#include "config/router.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static const char name[] = "fuzz.yaml";

/* An error always starts with the name, then ":L:C: " or ": " (out of memory only). */
static void check_err(const char *err)
{
	size_t n = strlen(name);
	const char *p = err + n + 1;
	char *end;

	CHECK(!strncmp(err, name, n) && err[n] == ':');
	if (*p == ' ')
		return;
	CHECK(strtol(p, &end, 10) >= 1 && *end == ':');
	CHECK(strtol(end + 1, &end, 10) >= 1 && end[0] == ':' && end[1] == ' ' && end[2]);
}

static void check_model(const struct config *c)
{
	CHECK(c->workers >= 1 && c->workers <= 256);
	CHECK(c->n_listen >= 1 && c->n_listen <= CFG_MAX_LISTEN);
	CHECK(c->n_upstreams >= 0 && c->n_upstreams <= CFG_MAX_UPSTREAMS);
	CHECK(c->n_routes >= 0 && c->n_routes <= CFG_MAX_ROUTES);
	for (int i = 0; i < c->n_upstreams; i++) {
		const struct cfg_upstream *u = &c->upstreams[i];

		CHECK(u->name && u->n_servers >= 1 && u->n_servers <= CFG_MAX_SERVERS);
		CHECK(u->balance != CFG_BAL_HASH_HEADER || (u->hash_header && *u->hash_header));
		CHECK(!u->health.enabled || (u->health.path && u->health.path[0] == '/'));
	}
	for (int i = 0; i < c->n_routes; i++) {
		const struct cfg_route *r = &c->routes[i];

		CHECK(r->name && *r->name);
		CHECK(!(r->path && r->path_prefix));
		CHECK(!r->path || strlen(r->path) == r->path_len);
		CHECK(!r->path_prefix || strlen(r->path_prefix) == r->path_prefix_len);
		CHECK(r->n_methods >= 0 && r->n_methods <= CFG_MAX_METHODS);
		CHECK(!r->header_name || strlen(r->header_value) == r->header_value_len);
		if (r->is_respond)
			CHECK(r->status >= 200 && r->status <= 599 && r->body);
		else
			CHECK(r->upstream >= 0 && r->upstream < c->n_upstreams);
	}
}

static char *dump(const struct config *c, size_t *len)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	CHECK(b);
	config_dump(c, b);
	*len = evbuffer_get_length(b);
	s = malloc(*len + 1);
	CHECK(s);
	evbuffer_remove(b, s, *len);
	s[*len] = 0;
	evbuffer_free(b);
	return s;
}

static const char *const reqs[] = {
    "GET /api/x HTTP/1.1\r\nHost: h\r\nX-Lane: order\r\n\r\n",
    "PURGE /ping HTTP/1.1\r\nHost: h\r\n\r\n",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct config *c = config_load_string((const char *)data, size, name, err, sizeof(err)),
		      *c2;
	static struct http_msg m;
	size_t la, lb;
	char *a, *b;

	if (!c) {
		check_err(err);
		return 0;
	}
	check_model(c);
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		http_msg_init(&m);
		if (http_parse_request_head(&m, reqs[i], strlen(reqs[i])) > 0) {
			int r = router_match(c, &m, reqs[i]);

			CHECK(r >= -1 && r < c->n_routes);
		}
	}
	a = dump(c, &la);
	c2 = config_load_string(a, la, name, err, sizeof(err));
	if (!c2) {
		/* the dump of an accepted config must load: print both for the crash report */
		fprintf(stderr, "dump refused: %s\n--- dump ---\n%s\n", err, a);
		abort();
	}
	b = dump(c2, &lb);
	CHECK(la == lb && !memcmp(a, b, la));
	free(a);
	free(b);
	config_free(c2);
	config_free(c);
	return 0;
}
