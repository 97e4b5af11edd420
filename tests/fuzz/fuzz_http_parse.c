// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer target: request/response head parser and chunked scanner, one-shot vs resumed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_parse.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void span_in(struct http_span s, size_t lim)
{
	CHECK((size_t)s.off + s.len <= lim);
}

/* Invariants of a completed head of <head> bytes. */
static void check_msg(const struct http_msg *m, const char *d, int rc, size_t len, int is_resp)
{
	if (rc <= 0)
		return;
	CHECK((size_t)rc <= len && m->head_len == (uint32_t)rc);
	CHECK(m->n_headers <= HTTP_MAX_HEADERS);
	for (int i = 0; i < m->n_headers; i++) {
		span_in(m->headers[i].name, (size_t)rc);
		span_in(m->headers[i].value, (size_t)rc);
		CHECK(m->headers[i].name.len > 0);
	}
	for (int k = 0; k < HTTP_H__COUNT; k++)
		CHECK(m->known[k] >= -1 && m->known[k] < (int)m->n_headers);
	CHECK(m->version_minor <= 1);
	if (is_resp) {
		CHECK(m->status >= 100 && m->status <= 999);
		span_in(m->reason, (size_t)rc);
	} else {
		CHECK(m->method < HTTP_M__COUNT && m->method != HTTP_M_CONNECT);
		span_in(m->method_s, (size_t)rc);
		span_in(m->target, (size_t)rc);
		span_in(m->path, (size_t)rc);
		span_in(m->query, (size_t)rc);
		span_in(m->authority, (size_t)rc);
		CHECK(m->body != HTTP_BODY_EOF);
		CHECK(m->method_s.len > 0 && m->method_s.len <= HTTP_MAX_METHOD);
		CHECK(m->target.len > 0);
		/* every accepted target has a path starting with '/', or is OPTIONS * */
		CHECK(m->path.len > 0 && (d[m->path.off] == '/' ||
					  (d[m->path.off] == '*' && m->method == HTTP_M_OPTIONS)));
		/* framing decided strictly: never both, never chunked on 1.0 */
		CHECK(!(m->known[HTTP_H_CONTENT_LENGTH] >= 0 &&
			m->known[HTTP_H_TRANSFER_ENCODING] >= 0));
		if (m->body == HTTP_BODY_CHUNKED)
			CHECK(m->version_minor == 1);
		if (m->version_minor == 1)
			CHECK(m->known[HTTP_H_HOST] >= 0);
	}
}

static int same(const struct http_msg *a, const struct http_msg *b)
{
	return a->head_len == b->head_len && a->method == b->method && a->body == b->body &&
	       a->flags == b->flags && a->content_length == b->content_length &&
	       a->n_headers == b->n_headers && a->status == b->status &&
	       !memcmp(a->known, b->known, sizeof(a->known)) &&
	       !memcmp(a->headers, b->headers, a->n_headers * sizeof(a->headers[0]));
}

static int parse(struct http_msg *m, const char *d, size_t n, int resp, int meth)
{
	return resp ? http_parse_response_head(m, d, n, meth) : http_parse_request_head(m, d, n);
}

/* One-shot parse and a parse resumed at <cut> must agree exactly. */
static int head_both_ways(const char *d, size_t size, size_t cut, int resp, int meth,
			  struct http_msg *a)
{
	static struct http_msg b;
	int ra, rb;

	http_msg_init(a);
	ra = parse(a, d, size, resp, meth);
	check_msg(a, d, ra, size, resp);
	CHECK(ra >= HTTP_PARSE_AGAIN || (ra <= -400 && ra >= -599));
	http_msg_init(&b);
	rb = parse(&b, d, cut, resp, meth);
	if (rb == HTTP_PARSE_AGAIN)
		rb = parse(&b, d, size, resp, meth);
	CHECK(ra == rb);
	if (ra > 0)
		CHECK(same(a, &b));
	/* a completed or refused message does not change with more calls */
	CHECK(parse(&b, d, size, resp, meth) == ra);
	return ra;
}

/* Chunked scan in one shot and split at <cut>; consumed counts and verdicts agree. */
static void chunked_both_ways(const char *d, size_t size, size_t cut)
{
	struct http_chunked a, b;
	long ra, rb1, rb2 = 0;

	http_chunked_init(&a);
	ra = http_chunked_scan(&a, d, size);
	CHECK(ra == -400 || (ra >= 0 && (size_t)ra <= size));
	if (ra >= 0 && (size_t)ra < size)
		CHECK(a.done);
	CHECK(a.body_bytes <= size);
	http_chunked_init(&b);
	rb1 = http_chunked_scan(&b, d, cut);
	if (rb1 >= 0 && !b.done)
		rb2 = http_chunked_scan(&b, d + cut, size - cut);
	if (ra < 0) {
		CHECK(rb1 < 0 || rb2 < 0);
	} else {
		CHECK(rb1 >= 0 && rb2 >= 0 && rb1 + rb2 == ra && a.done == b.done &&
		      a.body_bytes == b.body_bytes);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_msg m;
	const char *d = (const char *)data;
	size_t cut;
	int rc;

	if (size > (1 << 20))
		return 0;
	/* split point derived from the data so the fuzzer can steer it */
	cut = size ? ((size_t)data[size - 1] * 257 + data[0]) % (size + 1) : 0;

	rc = head_both_ways(d, size, cut, 0, 0, &m);
	if (rc > 0 && m.body == HTTP_BODY_CHUNKED) {
		size_t rest = size - (size_t)rc;

		chunked_both_ways(d + rc, rest, rest ? cut % (rest + 1) : 0);
	}
	chunked_both_ways(d, size, cut);

	/* response heads, answering a GET and a HEAD */
	rc = head_both_ways(d, size, cut, 1, HTTP_M_GET, &m);
	if (rc > 0 && m.body == HTTP_BODY_CHUNKED) {
		size_t rest = size - (size_t)rc;

		chunked_both_ways(d + rc, rest, rest ? cut % (rest + 1) : 0);
	}
	head_both_ways(d, size, size / 2, 1, HTTP_M_HEAD, &m);
	return 0;
}
