// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Path normaliser: decoding, dot segments, slashes, refusals, and the spans of a parsed request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/og_test.h"
#include "http/http_parse.h"
#include "http/normalize.h"

struct ncase {
	const char *in;
	const char *out; /* NULL = refused */
};

static const struct ncase cases[] = {
    {"/", "/"},
    {"/api/v1/admin", "/api/v1/admin"},
    {"/api/v1/%61dmin", "/api/v1/admin"},
    {"/api/v1/%61%64%6D%69%6e", "/api/v1/admin"},
    {"//api/v1/admin", "/api/v1/admin"},
    {"/api//v1///admin", "/api/v1/admin"},
    {"/api/v1/./admin", "/api/v1/admin"},
    {"/api/v1/x/../admin", "/api/v1/admin"},
    {"/api/v1/%2e/admin", "/api/v1/admin"},
    {"/api/v1/x/%2E%2e/admin", "/api/v1/admin"},
    {"/api/v2/../v1/admin", "/api/v1/admin"},
    {"/../../api/v1/admin", "/api/v1/admin"},
    {"/a/b/..", "/a/"},
    {"/a/b/.", "/a/b/"},
    {"/a/b/", "/a/b/"},
    {"/a//", "/a/"},
    {"/..", "/"},
    {"/.", "/"},
    {"//", "/"},
    {"/.well-known/x", "/.well-known/x"},
    {"/a/..b/c", "/a/..b/c"},
    {"/a/.../c", "/a/.../c"},
    {"/a%20b", "/a%20b"},
    {"/a%3fb", "/a%3Fb"},
    {"/a%7e", "/a~"},
    {"/%41%5a%30%39%2D%5F%7E", "/AZ09-_~"},
    {"/a%2Fb", NULL},
    {"/a%2fb", NULL},
    {"/a%5cb", NULL},
    {"/a%00b", NULL},
    {"/a%", NULL},
    {"/a%4", NULL},
    {"/a%zz", NULL},
    {"*", "*"},
};

static void one(const struct ncase *k)
{
	char b[256];
	size_t n = strlen(k->in);
	int r;

	memcpy(b, k->in, n);
	r = http_normalize_path(b, n);
	if (!k->out) {
		OK(r == -1, "%s refused (got %d)", k->in, r);
		return;
	}
	OK(r >= 0 && (size_t)r == strlen(k->out) && !memcmp(b, k->out, (size_t)r),
	   "%s -> %s (got %.*s)", k->in, k->out, r < 0 ? 2 : r, r < 0 ? "-1" : b);
	/* idempotent: a normalised path stays as it is */
	if (r > 0) {
		int r2 = http_normalize_path(b, (size_t)r);

		OK(r2 == r, "%s normalised again is unchanged", k->out);
	}
}

/* The spans of a parsed request follow the shorter path; the query keeps its bytes. */
static void msg_case(const char *req, const char *path, const char *query, const char *target)
{
	struct http_msg m;
	char b[512];
	size_t n = strlen(req);
	int r;

	memcpy(b, req, n);
	http_msg_init(&m);
	r = http_parse_request_head(&m, b, n);
	OK(r > 0, "parsed the request for %s", target);
	if (r <= 0)
		return;
	OK(http_msg_normalize(&m, b) == 0, "normalised the request for %s", target);
	OK(m.path.len == strlen(path) && !memcmp(b + m.path.off, path, m.path.len),
	   "path %s (got %.*s)", path, (int)m.path.len, b + m.path.off);
	OK(m.query.len == strlen(query) && !memcmp(b + m.query.off, query, m.query.len),
	   "query %s (got %.*s)", query, (int)m.query.len, b + m.query.off);
	OK(m.target.len == strlen(target) && !memcmp(b + m.target.off, target, m.target.len),
	   "target %s (got %.*s)", target, (int)m.target.len, b + m.target.off);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		one(&cases[i]);
	msg_case("GET /api/v1/%61dmin?x=%2F&y=.. HTTP/1.1\r\nHost: h\r\n\r\n", "/api/v1/admin",
		 "x=%2F&y=..", "/api/v1/admin?x=%2F&y=..");
	msg_case("GET //api/./v1/admin? HTTP/1.1\r\nHost: h\r\n\r\n", "/api/v1/admin", "",
		 "/api/v1/admin?");
	msg_case("GET http://h//api/v1/x/../admin?q HTTP/1.1\r\nHost: h\r\n\r\n", "/api/v1/admin",
		 "q", "http://h/api/v1/admin?q");
	msg_case("GET /plain?q=1 HTTP/1.1\r\nHost: h\r\n\r\n", "/plain", "q=1", "/plain?q=1");
	{
		struct http_msg m;
		char b[] = "GET /a%2Fb HTTP/1.1\r\nHost: h\r\n\r\n";

		http_msg_init(&m);
		OK(http_parse_request_head(&m, b, strlen(b)) > 0, "/a%%2Fb parses");
		OK(http_msg_normalize(&m, b) == -1, "/a%%2Fb is refused by the normaliser");
	}
	return og_done();
}
