// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Table-driven tests of the strict HTTP/1.1 parser: requests, smuggling vectors, limits, splits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_parse.h"
#include "../lib/og_test.h"

#define OKV   1 /* want: head parsed */
#define KA    HTTP_F_KEEP_ALIVE
#define CLOSE 0

/* One request case: <want> is OKV or -status; the rest is checked only when OKV. */
struct req_case {
	const char *name;
	const char *raw;
	int want;
	int method;
	const char *path; /* NULL: not checked */
	int body;	  /* enum http_body */
	unsigned long long cl;
	int ka;	    /* KA or CLOSE */
	size_t len; /* 0: strlen(raw) */
};

#define H "Host: a.example\r\n"

static const struct req_case reqs[] = {
    /* --- valid --- */
    {"simple GET", "GET / HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_GET, "/", HTTP_BODY_NONE, 0, KA},
    {"GET with query", "GET /a/b?x=1&y=%20 HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_GET, "/a/b",
     HTTP_BODY_NONE, 0, KA},
    {"HEAD", "HEAD /h HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_HEAD, "/h", HTTP_BODY_NONE, 0, KA},
    {"POST with CL", "POST /api/v1/orders HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhello", OKV,
     HTTP_M_POST, "/api/v1/orders", HTTP_BODY_LENGTH, 5, KA},
    {"POST CL 0", "POST / HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", OKV, HTTP_M_POST, "/",
     HTTP_BODY_LENGTH, 0, KA},
    {"POST chunked", "POST /c HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", OKV,
     HTTP_M_POST, "/c", HTTP_BODY_CHUNKED, 0, KA},
    {"TE Chunked case-insensitive", "POST / HTTP/1.1\r\n" H "transfer-encoding: Chunked\r\n\r\n",
     OKV, HTTP_M_POST, "/", HTTP_BODY_CHUNKED, 0, KA},
    {"PUT DELETE PATCH: PUT", "PUT /x HTTP/1.1\r\n" H "Content-Length: 1\r\n\r\nx", OKV, HTTP_M_PUT,
     "/x", HTTP_BODY_LENGTH, 1, KA},
    {"DELETE", "DELETE /x/1 HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_DELETE, "/x/1", HTTP_BODY_NONE, 0,
     KA},
    {"PATCH", "PATCH /x HTTP/1.1\r\n" H "Content-Length: 2\r\n\r\n{}", OKV, HTTP_M_PATCH, "/x",
     HTTP_BODY_LENGTH, 2, KA},
    {"unknown method token proxied", "PROPFIND /d HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_OTHER, "/d",
     HTTP_BODY_NONE, 0, KA},
    {"lower-case method is just another token", "get / HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_OTHER,
     "/", HTTP_BODY_NONE, 0, KA},
    {"OPTIONS *", "OPTIONS * HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_OPTIONS, "*", HTTP_BODY_NONE, 0,
     KA},
    {"absolute-form", "GET http://a.example:8080/p?q HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_GET, "/p",
     HTTP_BODY_NONE, 0, KA},
    {"absolute-form no path", "GET https://a.example HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_GET, "/",
     HTTP_BODY_NONE, 0, KA},
    {"HTTP/1.0 default close", "GET / HTTP/1.0\r\n\r\n", OKV, HTTP_M_GET, "/", HTTP_BODY_NONE, 0,
     CLOSE},
    {"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", OKV, HTTP_M_GET,
     "/", HTTP_BODY_NONE, 0, KA},
    {"HTTP/1.1 Connection: close", "GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n", OKV,
     HTTP_M_GET, "/", HTTP_BODY_NONE, 0, CLOSE},
    {"Connection list with close", "GET / HTTP/1.1\r\n" H "Connection: foo, Close\r\n\r\n", OKV,
     HTTP_M_GET, "/", HTTP_BODY_NONE, 0, CLOSE},
    {"identical duplicate CL accepted",
     "POST / HTTP/1.1\r\n" H "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", OKV, HTTP_M_POST,
     "/", HTTP_BODY_LENGTH, 3, KA},
    {"CL leading zeros", "POST / HTTP/1.1\r\n" H "Content-Length: 007\r\n\r\n", OKV, HTTP_M_POST,
     "/", HTTP_BODY_LENGTH, 7, KA},
    {"CL with tab OWS", "POST / HTTP/1.1\r\n" H "Content-Length:\t5 \t\r\n\r\n", OKV, HTTP_M_POST,
     "/", HTTP_BODY_LENGTH, 5, KA},
    {"big CL", "POST / HTTP/1.1\r\n" H "Content-Length: 9223372036854775806\r\n\r\n", OKV,
     HTTP_M_POST, "/", HTTP_BODY_LENGTH, 9223372036854775806ULL, KA},
    {"leading CRLF skipped", "\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_GET, "/",
     HTTP_BODY_NONE, 0, KA},
    {"empty header value", "GET / HTTP/1.1\r\n" H "X-Empty:\r\n\r\n", OKV, HTTP_M_GET, "/",
     HTTP_BODY_NONE, 0, KA},
    {"obs-text in value", "GET / HTTP/1.1\r\n" H "X-T: caf\xc3\xa9\r\n\r\n", OKV, HTTP_M_GET, "/",
     HTTP_BODY_NONE, 0, KA},
    {"Host with port and IPv6", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", OKV, HTTP_M_GET, "/",
     HTTP_BODY_NONE, 0, KA},
    {"Expect 100-continue",
     "POST / HTTP/1.1\r\n" H "Expect: 100-Continue\r\nContent-Length: 1\r\n\r\n", OKV, HTTP_M_POST,
     "/", HTTP_BODY_LENGTH, 1, KA},
    {"Expect ignored on 1.0", "GET / HTTP/1.0\r\nExpect: whatever\r\n\r\n", OKV, HTTP_M_GET, "/",
     HTTP_BODY_NONE, 0, CLOSE},
    {"Upgrade ignored", "GET / HTTP/1.1\r\n" H "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
     OKV, HTTP_M_GET, "/", HTTP_BODY_NONE, 0, KA},
    {"percent-encoded NUL stays encoded", "GET /p%00.html HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_GET,
     "/p%00.html", HTTP_BODY_NONE, 0, KA},

    /* --- request line --- */
    {"double SP", "GET  / HTTP/1.1\r\n" H "\r\n", -400},
    {"HTAB separator", "GET\t/ HTTP/1.1\r\n" H "\r\n", -400},
    {"missing target", "GET HTTP/1.1\r\n" H "\r\n", -400},
    {"HTTP/0.9", "GET /\r\n\r\n", -400},
    {"trailing SP after version", "GET / HTTP/1.1 \r\n" H "\r\n", -400},
    {"space in target", "GET /a b HTTP/1.1\r\n" H "\r\n", -400},
    {"fragment", "GET /p#frag HTTP/1.1\r\n" H "\r\n", -400},
    {"NUL in target", "GET /\0x HTTP/1.1\r\n" H "\r\n", -400, 0, NULL, 0, 0, 0,
     sizeof("GET /\0x HTTP/1.1\r\n" H "\r\n") - 1},
    {"non-ASCII target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" H "\r\n", -400},
    {"backslash target", "GET /a\\b HTTP/1.1\r\n" H "\r\n", -400},
    {"overlong UTF-8 in target", "GET /a\xc0\xaf HTTP/1.1\r\n" H "\r\n", -400},
    {"non-ASCII in query", "GET /a?q=\xe2\x82\xac HTTP/1.1\r\n" H "\r\n", -400},
    {"0x80 in target", "GET /\x80 HTTP/1.1\r\n" H "\r\n", -400},
    {"0xff in target", "GET /\xff HTTP/1.1\r\n" H "\r\n", -400},
    {"non-ASCII in absolute-form host", "GET http://h\xc3\xa9/ HTTP/1.1\r\n" H "\r\n", -400},
    {"non-ASCII in absolute-form path", "GET http://h/\xc3\xa9 HTTP/1.1\r\n" H "\r\n", -400},
    {"non-ASCII in asterisk position", "OPTIONS *\xc3\xa9 HTTP/1.1\r\n" H "\r\n", -400},
    {"bad percent", "GET /a%zz HTTP/1.1\r\n" H "\r\n", -400},
    {"percent cut at the end", "GET /a%2 HTTP/1.1\r\n" H "\r\n", -400},
    {"percent then query", "GET /%41b?x%20=1?2 HTTP/1.1\r\n" H "\r\n", OKV, HTTP_M_GET, "/%41b",
     HTTP_BODY_NONE, 0, KA},
    {"bad byte after a percent", "GET /%41\x7f HTTP/1.1\r\n" H "\r\n", -400},
    {"bad percent in query", "GET /a?b=%g1 HTTP/1.1\r\n" H "\r\n", -400},
    {"host pct-encoded", "GET / HTTP/1.1\r\nHost: a%41b.example:80\r\n\r\n", OKV, HTTP_M_GET, "/",
     HTTP_BODY_NONE, 0, KA},
    {"host bad percent", "GET / HTTP/1.1\r\nHost: a%4g\r\n\r\n", -400},
    {"host percent cut", "GET / HTTP/1.1\r\nHost: ab%4\r\n\r\n", -400},
    {"host IP-literal zone", "GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n", -400},
    {"host IP-literal", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", OKV, HTTP_M_GET, "/",
     HTTP_BODY_NONE, 0, KA},
    {"target not / or absolute", "GET a/b HTTP/1.1\r\n" H "\r\n", -400},
    {"asterisk with GET", "GET * HTTP/1.1\r\n" H "\r\n", -400},
    {"absolute-form bad scheme", "GET ftp://a/ HTTP/1.1\r\n" H "\r\n", -400},
    {"absolute-form userinfo", "GET http://u@a/ HTTP/1.1\r\n" H "\r\n", -400},
    {"CONNECT not tunnelled", "CONNECT a.example:443 HTTP/1.1\r\n" H "\r\n", -501},
    {"CONNECT bad authority", "CONNECT /x HTTP/1.1\r\n" H "\r\n", -400},
    {"HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n", -505},
    {"HTTP/9.9", "GET / HTTP/9.9\r\n" H "\r\n", -505},
    {"HTTP/1.2 strict", "GET / HTTP/1.2\r\n" H "\r\n", -505},
    {"H2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -505},
    {"version leading zeros", "GET / HTTP/01.1\r\n" H "\r\n", -400},
    {"version missing minor", "GET / HTTP/1\r\n" H "\r\n", -400},
    {"version lower-case", "GET / http/1.1\r\n" H "\r\n", -400},
    {"bare LF request line", "GET / HTTP/1.1\n" H "\r\n", -400},
    {"bare CR request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", -400},
    {"method with bad char", "G@T / HTTP/1.1\r\n" H "\r\n", -400},
    {"whitespace-only line", "   \r\n\r\n", -400},
    {"binary garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", -400},

    /* --- header fields --- */
    {"obs-fold", "GET / HTTP/1.1\r\n" H "X-A: a\r\n b\r\n\r\n", -400},
    {"obs-fold refused before the head ends", "GET / HTTP/1.1\r\n" H " X", -400},
    {"TLS hello refused at once", "\x16\x03", -400},
    {"whitespace line after start line", "GET / HTTP/1.1\r\n \r\n" H "\r\n", -400},
    {"SP before colon", "GET / HTTP/1.1\r\n" H "X-A : a\r\n\r\n", -400},
    {"HTAB before colon", "GET / HTTP/1.1\r\n" H "X-A\t: a\r\n\r\n", -400},
    {"invalid name char [", "GET / HTTP/1.1\r\n" H "Bad[Name: v\r\n\r\n", -400},
    {"invalid name char _ is fine, @ is not", "GET / HTTP/1.1\r\n" H "A@B: v\r\n\r\n", -400},
    {"non-ASCII name", "GET / HTTP/1.1\r\n" H "X-T\xc3\xabst: v\r\n\r\n", -400},
    {"no colon", "GET / HTTP/1.1\r\n" H "NoColon\r\n\r\n", -400},
    {"empty name", "GET / HTTP/1.1\r\n" H ": v\r\n\r\n", -400},
    {"bare CR in value", "GET / HTTP/1.1\r\n" H "X-A: a\rb\r\n\r\n", -400},
    {"bare LF header", "GET / HTTP/1.1\r\n" H "X-A: a\n\r\n", -400},
    {"NUL in value", "GET / HTTP/1.1\r\n" H "X-A: a\0b\r\n\r\n", -400, 0, NULL, 0, 0, 0,
     sizeof("GET / HTTP/1.1\r\n" H "X-A: a\0b\r\n\r\n") - 1},
    {"CTL in value", "GET / HTTP/1.1\r\n" H "X-A: a\x07\r\n\r\n", -400},
    {"DEL in value", "GET / HTTP/1.1\r\n" H "X-A: a\x7f\r\n\r\n", -400},
    {"missing Host on 1.1", "GET / HTTP/1.1\r\n\r\n", -400},
    {"two Host fields", "GET / HTTP/1.1\r\n" H H "\r\n", -400},
    {"empty Host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", -400},
    {"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", -400},
    {"Host with path", "GET / HTTP/1.1\r\nHost: a/p\r\n\r\n", -400},
    {"Host list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", -400},
    {"Host bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", -400},
    {"Expect other", "GET / HTTP/1.1\r\n" H "Expect: 200-ok\r\n\r\n", -417},
    {"Connection bad token", "GET / HTTP/1.1\r\n" H "Connection: a b\r\n\r\n", -400},

    /* --- framing / smuggling --- */
    {"CL + TE", "POST / HTTP/1.1\r\n" H "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n",
     -400},
    {"TE + CL", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n",
     -400},
    {"differing duplicate CL",
     "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", -400},
    {"CL list same", "POST / HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\n", -400},
    {"CL list different", "POST / HTTP/1.1\r\n" H "Content-Length: 5, 10\r\n\r\n", -400},
    {"CL plus sign", "POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n", -400},
    {"CL negative", "POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", -400},
    {"CL hex", "POST / HTTP/1.1\r\n" H "Content-Length: 0x5\r\n\r\n", -400},
    {"CL inner space", "POST / HTTP/1.1\r\n" H "Content-Length: 1 0\r\n\r\n", -400},
    {"CL empty", "POST / HTTP/1.1\r\n" H "Content-Length: \r\n\r\n", -400},
    {"CL overflow", "POST / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999\r\n\r\n", -400},
    {"CL 2^63", "POST / HTTP/1.1\r\n" H "Content-Length: 9223372036854775808\r\n\r\n", -400},
    {"TE not ending in chunked", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, gzip\r\n\r\n",
     -400},
    {"TE gzip only", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n\r\n", -400},
    {"TE identity", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: identity\r\n\r\n", -400},
    {"TE xchunked", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: xchunked\r\n\r\n", -400},
    {"TE chunked twice", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n",
     -400},
    {"TE chunked in two fields",
     "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
     -400},
    {"TE second field identity",
     "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
     -400},
    {"TE gzip then chunked: not implemented",
     "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n", -501},
    {"TE leading comma", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: , chunked\r\n\r\n", -400},
    {"TE trailing comma", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked,\r\n\r\n", -400},
    {"TE empty", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: \r\n\r\n", -400},
    {"TE chunked with params", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked;a=b\r\n\r\n",
     -400},
    {"TE vertical tab",
     "POST / HTTP/1.1\r\n" H "Transfer-Encoding: \x0b"
     "chunked\r\n\r\n",
     -400},
    {"TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -400},
    {"TE obs-fold", "POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n chunked\r\n\r\n", -400},
    {"Transfer_Encoding is another field",
     "POST / HTTP/1.1\r\n" H "Transfer_Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello", OKV,
     HTTP_M_POST, "/", HTTP_BODY_LENGTH, 5, KA},
};

/* Compare two parse outcomes field by field (the resumed parse must equal the one-shot one). */
static int same_msg(const struct http_msg *a, const struct http_msg *b)
{
	if (a->head_len != b->head_len || a->method != b->method || a->body != b->body ||
	    a->flags != b->flags || a->content_length != b->content_length ||
	    a->n_headers != b->n_headers || a->version_minor != b->version_minor ||
	    a->path.off != b->path.off || a->path.len != b->path.len || a->status != b->status)
		return 0;
	if (memcmp(a->known, b->known, sizeof(a->known)))
		return 0;
	for (int i = 0; i < a->n_headers; i++)
		if (memcmp(&a->headers[i], &b->headers[i], sizeof(a->headers[i])))
			return 0;
	return 1;
}

static int parse_req(struct http_msg *m, const char *raw, size_t len)
{
	http_msg_init(m);
	return http_parse_request_head(m, raw, len);
}

/* Feed <raw> in two calls split at every point, and one byte at a time; all must agree. */
static int splits_agree(const char *raw, size_t len, int is_resp, int req_method)
{
	static struct http_msg one, m;
	int r1, r;

	http_msg_init(&one);
	r1 = is_resp ? http_parse_response_head(&one, raw, len, req_method)
		     : http_parse_request_head(&one, raw, len);
	for (size_t k = 0; k <= len; k++) {
		http_msg_init(&m);
		r = is_resp ? http_parse_response_head(&m, raw, k, req_method)
			    : http_parse_request_head(&m, raw, k);
		if (r == HTTP_PARSE_AGAIN)
			r = is_resp ? http_parse_response_head(&m, raw, len, req_method)
				    : http_parse_request_head(&m, raw, len);
		/* An early refusal on a prefix must be the refusal of the whole input. */
		if (r != r1 || (r > 0 && !same_msg(&m, &one)))
			return 0;
	}
	http_msg_init(&m);
	r = HTTP_PARSE_AGAIN;
	for (size_t k = 1; k <= len && r == HTTP_PARSE_AGAIN; k++)
		r = is_resp ? http_parse_response_head(&m, raw, k, req_method)
			    : http_parse_request_head(&m, raw, k);
	return r == r1 && (r <= 0 || same_msg(&m, &one));
}

static void test_request_table(void)
{
	static struct http_msg m;
	size_t n = sizeof(reqs) / sizeof(reqs[0]);

	og_diag("%zu request cases", n);
	OK(n >= 60, "request table has at least 60 cases (%zu)", n);
	for (size_t i = 0; i < n; i++) {
		const struct req_case *c = &reqs[i];
		size_t len = c->len ? c->len : strlen(c->raw);
		int r = parse_req(&m, c->raw, len);

		if (c->want < 0) {
			OK(r == c->want, "%s: refused with %d (got %d)", c->name, -c->want, r);
		} else {
			const char *start = c->raw + strspn(c->raw, "\r\n");
			const char *body = strstr(start, "\r\n\r\n");
			size_t hl = body ? (size_t)(body + 4 - c->raw) : 0;
			int good =
			    r > 0 && (size_t)r == hl && m.head_len == hl && m.method == c->method &&
			    m.body == c->body &&
			    (c->body != HTTP_BODY_LENGTH || m.content_length == c->cl) &&
			    (m.flags & HTTP_F_KEEP_ALIVE) == c->ka &&
			    (!c->path || (m.path.len == strlen(c->path) &&
					  !memcmp(c->raw + m.path.off, c->path, m.path.len)));

			OK(good, "%s: r=%d head=%zu method=%s body=%d cl=%llu ka=%d path=%.*s",
			   c->name, r, hl, http_method_name(m.method), m.body,
			   (unsigned long long)m.content_length, m.flags & HTTP_F_KEEP_ALIVE,
			   (int)m.path.len, c->raw + m.path.off);
		}
		OK(splits_agree(c->raw, len, 0, 0),
		   "%s: every byte split gives the one-shot result", c->name);
	}
}

static void test_details(void)
{
	static struct http_msg m;
	const char *r = "POST /o?id=7 HTTP/1.1\r\nHost: h:1\r\nX-Request-Id: abc\r\n"
			"Expect: 100-continue\r\nConnection: keep-alive, X-Foo\r\nX-Foo: 1\r\n"
			"Content-Length: 2\r\nKeep-Alive: timeout=5\r\n\r\nhi";
	int rc = parse_req(&m, r, strlen(r));

	OK(rc > 0 && (size_t)rc == strlen(r) - 2, "detail request parsed, head %d", rc);
	OK(http_span_ieq(r, m.query, "id=7"), "query span is id=7");
	OK(http_span_ieq(r, m.method_s, "POST"), "method span");
	OK(http_span_ieq(r, m.target, "/o?id=7"), "target span");
	OK(m.known[HTTP_H_HOST] == 0 && m.known[HTTP_H_X_REQUEST_ID] == 1 &&
	       m.known[HTTP_H_EXPECT] == 2 && m.known[HTTP_H_CONNECTION] == 3 &&
	       m.known[HTTP_H_CONTENT_LENGTH] == 5 && m.known[HTTP_H_KEEP_ALIVE] == 6 &&
	       m.known[HTTP_H_TRANSFER_ENCODING] == -1 && m.known[HTTP_H_UPGRADE] == -1,
	   "known[] indexes");
	OK(m.flags & HTTP_F_EXPECT_CONTINUE, "Expect: 100-continue flag");
	OK(m.flags & HTTP_F_CONN_HAS_TOKENS, "Connection lists a field name");
	OK(http_is_hop_by_hop(&m, r, 3) && http_is_hop_by_hop(&m, r, 4) &&
	       http_is_hop_by_hop(&m, r, 6) && !http_is_hop_by_hop(&m, r, 0) &&
	       !http_is_hop_by_hop(&m, r, 5),
	   "hop-by-hop: Connection, listed X-Foo, Keep-Alive; not Host, Content-Length");
	OK(http_find_header(&m, r, "x-foo") == 4 && http_find_header(&m, r, "nope") == -1,
	   "http_find_header");
	OK(http_span_ieq(r, m.headers[2].value, "100-continue"), "value span trimmed");
	OK(!strcmp(http_method_name(HTTP_M_PATCH), "PATCH") &&
	       !strcmp(http_method_name(99), "OTHER"),
	   "http_method_name");
	OK(!strcmp(http_reason(431), "Request Header Fields Too Large") &&
	       !strcmp(http_reason(799), "Unknown"),
	   "http_reason");

	const char *cc = "POST / HTTP/1.1\r\nHost: h\r\nConnection: Content-Length, host, x-a\r\n"
			 "Content-Length: 3\r\nX-A: 1\r\n\r\nabc";
	rc = parse_req(&m, cc, strlen(cc));
	OK(rc > 0 && !http_is_hop_by_hop(&m, cc, 0) && http_is_hop_by_hop(&m, cc, 1) &&
	       !http_is_hop_by_hop(&m, cc, 2) && http_is_hop_by_hop(&m, cc, 3),
	   "Connection: Content-Length, Host cannot make the length or Host hop-by-hop");

	const char *part = "POST / HTTP/1.1\r\nHost: h\r\nContent-Le";
	rc = parse_req(&m, part, strlen(part));
	OK(rc == HTTP_PARSE_AGAIN && m.pos == strlen(part),
	   "incomplete head: AGAIN, all bytes seen");

	const char *abs = "GET http://h.example:81 HTTP/1.1\r\nHost: x\r\n\r\n";
	rc = parse_req(&m, abs, strlen(abs));
	OK(rc > 0 && http_span_ieq(abs, m.authority, "h.example:81") &&
	       http_span_ieq(abs, m.path, "/"),
	   "absolute-form authority span, empty path reads as /");
	const char *absq = "GET http://h.example?a=b HTTP/1.1\r\nHost: x\r\n\r\n";
	rc = parse_req(&m, absq, strlen(absq));
	OK(rc > 0 && http_span_ieq(absq, m.authority, "h.example") &&
	       http_span_ieq(absq, m.path, "/") && http_span_ieq(absq, m.query, "a=b"),
	   "absolute-form with a query and no path: path /, query a=b");
}

/* Every byte value at every position of a 20-byte value: refused exactly when it is a CTL. */
static void test_value_bytes(void)
{
	static struct http_msg m;
	char req[128];
	int bad = 0;

	for (int b = 0; b < 256; b++) {
		if (b == '\r' || b == '\n')
			continue; /* line structure: covered by the bare CR / LF cases */
		for (int pos = 0; pos < 20; pos++) {
			int n = sprintf(req, "GET / HTTP/1.1\r\nHost: h\r\nX-V: ");
			int want_ok = b >= 0x20 ? b != 0x7f : b == '\t';

			memset(req + n, 'v', 20);
			req[n + pos] = (char)b;
			n += 20;
			n += sprintf(req + n, "\r\n\r\n");
			int rc = parse_req(&m, req, (size_t)n);
			if ((rc > 0) != want_ok) {
				if (!bad)
					og_diag("byte 0x%02x at %d: rc %d", b, pos, rc);
				bad++;
			}
		}
	}
	OK(!bad,
	   "value bytes: CTL (except HTAB) and DEL refused, all else kept, at every offset (%d "
	   "wrong)",
	   bad);
}

static void test_limits(void)
{
	static struct http_msg m;
	static char big[80000];
	size_t n;
	int rc;

	/* request line of exactly HTTP_MAX_REQUEST_LINE bytes is fine, one more is 414 */
	for (int extra = 0; extra <= 1; extra++) {
		size_t tl = HTTP_MAX_REQUEST_LINE - strlen("GET  HTTP/1.1") + extra;

		n = 0;
		n += sprintf(big, "GET /");
		memset(big + n, 'a', tl - 1);
		n += tl - 1;
		n += sprintf(big + n, " HTTP/1.1\r\nHost: h\r\n\r\n");
		rc = parse_req(&m, big, n);
		OK(extra ? rc == -414 : rc > 0, "request line of %zu bytes -> %d",
		   tl + strlen("GET  HTTP/1.1"), rc);
	}
	/* a long request line without its end is refused before the buffer fills */
	n = sprintf(big, "GET /");
	memset(big + n, 'a', 20000);
	rc = parse_req(&m, big, n + 20000);
	OK(rc == -414, "incomplete over-long request line -> 414 early (%d)", rc);
	/* over-long method: 400 */
	memset(big, 'A', 40);
	rc = parse_req(&m, big, 40);
	OK(rc == -400, "incomplete 40-byte method -> 400 (%d)", rc);

	/* header section: exactly at the limit OK, one byte over -> 431 */
	for (int extra = 0; extra <= 1; extra++) {
		size_t hs = HTTP_MAX_HEAD + extra, vl;

		n = sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
		/* header section = "Host: h\r\n" + "X-Big: " + v + "\r\n" + "\r\n" */
		vl = hs - strlen("Host: h\r\nX-Big: \r\n\r\n");
		memset(big + n, 'b', vl);
		n += vl;
		n += sprintf(big + n, "\r\n\r\n");
		rc = parse_req(&m, big, n);
		OK(extra ? rc == -431 : rc > 0, "header section of %zu bytes -> %d", hs, rc);
	}
	n = sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
	memset(big + n, 'b', 40000);
	rc = parse_req(&m, big, n + 40000);
	OK(rc == -431, "incomplete over-long header section -> 431 early (%d)", rc);

	/* HTTP_MAX_HEADERS fields OK, one more -> 431 */
	for (int extra = 0; extra <= 1; extra++) {
		n = sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\n");
		for (int i = 1; i < HTTP_MAX_HEADERS + extra; i++)
			n += sprintf(big + n, "X-%d: v\r\n", i);
		n += sprintf(big + n, "\r\n");
		rc = parse_req(&m, big, n);
		OK(extra ? rc == -431 : (rc > 0 && m.n_headers == HTTP_MAX_HEADERS),
		   "%d header fields -> %d", HTTP_MAX_HEADERS + extra, rc);
	}
	/* refusal is sticky */
	rc = http_parse_request_head(&m, big, n);
	OK(rc == -431, "a refused message stays refused on the next call");
}

static void test_pipelining(void)
{
	static struct http_msg m;
	const char *two = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
			  "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
			  "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	size_t len = strlen(two), off;
	int rc = parse_req(&m, two, len);

	OK(rc == (int)(strstr(two, "xyz") - two), "first head length %d", rc);
	OK(m.body == HTTP_BODY_LENGTH && m.content_length == 3 && http_span_ieq(two, m.path, "/a"),
	   "first request framing");
	off = rc + 3;
	rc = parse_req(&m, two + off, len - off);
	OK(rc > 0 && http_span_ieq(two + off, m.path, "/b") && (m.flags & HTTP_F_KEEP_ALIVE),
	   "second request parses from its offset");
	off += rc;
	rc = parse_req(&m, two + off, len - off);
	OK(rc > 0 && (size_t)rc == len - off && http_span_ieq(two + off, m.path, "/c") &&
	       !(m.flags & HTTP_F_KEEP_ALIVE),
	   "third request: Connection: close");
}

struct resp_case {
	const char *name;
	const char *raw;
	int req_method;
	int want; /* OKV or -502 */
	int status;
	int body;
	int ka;
};

static const struct resp_case resps[] = {
    {"200 CL", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", HTTP_M_GET, OKV, 200,
     HTTP_BODY_LENGTH, KA},
    {"200 chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_M_GET, OKV, 200,
     HTTP_BODY_CHUNKED, KA},
    {"200 until close", "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", HTTP_M_GET, OKV, 200, HTTP_BODY_EOF,
     CLOSE},
    {"gzip, chunked response", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
     HTTP_M_GET, OKV, 200, HTTP_BODY_CHUNKED, KA},
    {"TE not chunked: until close", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
     HTTP_M_GET, OKV, 200, HTTP_BODY_EOF, CLOSE},
    {"HEAD response has no body", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", HTTP_M_HEAD, OKV,
     200, HTTP_BODY_NONE, KA},
    {"204", "HTTP/1.1 204 No Content\r\n\r\n", HTTP_M_DELETE, OKV, 204, HTTP_BODY_NONE, KA},
    {"304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", HTTP_M_GET, OKV, 304,
     HTTP_BODY_NONE, KA},
    {"100 continue", "HTTP/1.1 100 Continue\r\n\r\n", HTTP_M_POST, OKV, 100, HTTP_BODY_NONE, KA},
    {"1.0 response close", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", HTTP_M_GET, OKV, 200,
     HTTP_BODY_LENGTH, CLOSE},
    {"1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx",
     HTTP_M_GET, OKV, 200, HTTP_BODY_LENGTH, KA},
    {"1.1 close", "HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", HTTP_M_GET,
     OKV, 500, HTTP_BODY_LENGTH, CLOSE},
    {"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", HTTP_M_GET, OKV, 200,
     HTTP_BODY_LENGTH, KA},
    {"empty reason", "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", HTTP_M_GET, OKV, 404,
     HTTP_BODY_LENGTH, KA},
    {"CL+TE response", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
     HTTP_M_GET, -502},
    {"differing CL response", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
     HTTP_M_GET, -502},
    {"HTTP/2 status", "HTTP/2.0 200 OK\r\n\r\n", HTTP_M_GET, -502},
    {"2-digit status", "HTTP/1.1 20 OK\r\n\r\n", HTTP_M_GET, -502},
    {"bare LF response", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", HTTP_M_GET, -502},
    {"obs-fold response", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", HTTP_M_GET, -502},
    {"SP before colon response", "HTTP/1.1 200 OK\r\nX : a\r\n\r\n", HTTP_M_GET, -502},
    {"TE on 1.0 response", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_M_GET,
     -502},
    {"leading CRLF response", "\r\nHTTP/1.1 200 OK\r\n\r\n", HTTP_M_GET, -502},
    {"101 without an Upgrade we sent", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n",
     HTTP_M_GET, -502},
};

static void test_responses(void)
{
	static struct http_msg m;

	for (size_t i = 0; i < sizeof(resps) / sizeof(resps[0]); i++) {
		const struct resp_case *c = &resps[i];
		size_t len = strlen(c->raw);
		int rc;

		http_msg_init(&m);
		rc = http_parse_response_head(&m, c->raw, len, c->req_method);
		if (c->want < 0)
			OK(rc == -502, "response %s: refused -502 (got %d)", c->name, rc);
		else
			OK(rc > 0 && m.status == c->status && m.body == c->body &&
			       (m.flags & HTTP_F_KEEP_ALIVE) == c->ka,
			   "response %s: rc=%d status=%u body=%d ka=%d", c->name, rc, m.status,
			   m.body, m.flags & HTTP_F_KEEP_ALIVE);
		OK(splits_agree(c->raw, len, 1, c->req_method), "response %s: splits agree",
		   c->name);
	}
}

struct chunk_case {
	const char *name;
	const char *raw;
	size_t len;
	long want;		 /* bytes of body (stop point) or -400 */
	unsigned long long data; /* data bytes, when want > 0 */
};

#define CK(name, raw, want, data)                                                                  \
	{                                                                                          \
		name, raw, sizeof(raw) - 1, want, data                                             \
	}
static const struct chunk_case chunks[] = {
    CK("one chunk", "5\r\nhello\r\n0\r\n\r\n", 15, 5),
    CK("two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 26, 11),
    CK("upper hex", "A\r\nhelloworld\r\n0\r\n\r\n", 20, 10),
    CK("empty body", "0\r\n\r\n", 5, 0),
    CK("trailer", "5\r\nhello\r\n0\r\nX-Sum: abc\r\n\r\n", 27, 5),
    CK("extension", "5;ext=value\r\nhello\r\n0\r\n\r\n", 25, 5),
    CK("ext quoted", "5 ; a=\"x\\\"y\" ;b\r\nhello\r\n0\r\n\r\n", 29, 5),
    CK("stops at the next message", "0\r\n\r\nGET / HTTP/1.1\r\n", 5, 0),
    CK("16 hex digits", "000000000000000A\r\n0123456789\r\n0\r\n\r\n", 35, 10),
    CK("bare semicolon", "5;\r\nhello\r\n0\r\n\r\n", -400, 0),
    CK("ext LF", "5;\nhello\r\n0\r\n\r\n", -400, 0),
    CK("ext NUL", "5;\0ext\r\nhello\r\n0\r\n\r\n", -400, 0),
    CK("ext bare CR", "5;a\rX\r\nhello\r\n0\r\n\r\n", -400, 0),
    CK("size leading SP", " 5\r\nhello\r\n0\r\n\r\n", -400, 0),
    CK("size trailing SP", "5 \r\nhello\r\n0\r\n\r\n", -400, 0),
    CK("size 0x", "0x5\r\nhello\r\n0\r\n\r\n", -400, 0),
    CK("size negative", "-1\r\nhello\r\n0\r\n\r\n", -400, 0),
    CK("size underscore", "1_0\r\nhello world!!!!!\r\n0\r\n\r\n", -400, 0),
    CK("size overflow 17 digits", "FFFFFFFFFFFFFFFF0\r\nhello\r\n0\r\n\r\n", -400, 0),
    CK("size empty", "\r\nhello\r\n0\r\n\r\n", -400, 0),
    CK("missing CRLF after data", "5\r\nhello0\r\n\r\n", -400, 0),
    CK("data too long", "5\r\nhello!!\r\n0\r\n\r\n", -400, 0),
    CK("LF after data", "5\r\nhello\n0\r\n\r\n", -400, 0),
    CK("bare CR after size", "5\rhello\r\n0\r\n\r\n", -400, 0),
    CK("LF-only final line", "5\r\nhello\r\n0\r\n\n", -400, 0),
    CK("trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n", -400, 0),
    CK("trailer SP before colon", "0\r\nX : a\r\n\r\n", -400, 0),
    CK("trailer NUL", "0\r\nX: a\0\r\n\r\n", -400, 0),
};

static long scan_all(const char *raw, size_t len, struct http_chunked *c)
{
	http_chunked_init(c);
	return http_chunked_scan(c, raw, len);
}

static void test_chunked(void)
{
	struct http_chunked c, s;
	static char ext[600];

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		const struct chunk_case *k = &chunks[i];
		size_t len = k->len;
		long r = scan_all(k->raw, len, &c);
		int agree = 1;

		if (k->want > 0)
			OK(r == k->want && c.done && c.body_bytes == k->data,
			   "chunked %s: %ld bytes, done=%d data=%llu", k->name, r, c.done,
			   (unsigned long long)c.body_bytes);
		else
			OK(r == -400, "chunked %s: refused (got %ld)", k->name, r);
		/* every split point: the two calls together give the same verdict */
		for (size_t cut = 0; cut <= len && agree; cut++) {
			long a, b = 0;

			http_chunked_init(&s);
			a = http_chunked_scan(&s, k->raw, cut);
			if (a >= 0 && !s.done)
				b = http_chunked_scan(&s, k->raw + cut, len - cut);
			if (k->want > 0)
				agree = a >= 0 && b >= 0 && a + b == k->want && s.done &&
					s.body_bytes == k->data;
			else
				agree = a == -400 || b == -400;
		}
		/* and one byte at a time */
		http_chunked_init(&s);
		long tot = 0, r1 = 0;
		for (size_t j = 0; j < len && !s.done; j++) {
			r1 = http_chunked_scan(&s, k->raw + j, 1);
			if (r1 < 0)
				break;
			tot += r1;
		}
		if (k->want > 0)
			agree = agree && tot == k->want && s.done;
		else
			agree = agree && r1 == -400;
		OK(agree, "chunked %s: every split point agrees", k->name);
	}

	/* extension length limit: HTTP_MAX_CHUNK_EXT bytes fine, more refused */
	for (int extra = 0; extra <= 1; extra++) {
		size_t n = 0, el = HTTP_MAX_CHUNK_EXT + extra;

		ext[n++] = '5';
		ext[n++] = ';';
		memset(ext + n, 'e', el - 1);
		n += el - 1;
		n += sprintf(ext + n, "\r\nhello\r\n0\r\n\r\n");
		long r = scan_all(ext, n, &c);
		OK(extra ? r == -400 : (r == (long)n && c.done),
		   "chunk extension of %zu bytes -> %ld", el, r);
	}
	/* a huge chunk streams through without per-byte work and counts exactly */
	static char data[70000];
	memset(data, 'x', sizeof(data));
	http_chunked_init(&c);
	long a = http_chunked_scan(&c, "10000\r\n", 7);
	long b = http_chunked_scan(&c, data, 0x10000);
	long d = http_chunked_scan(&c, "\r\n0\r\n\r\n", 7);
	OK(a == 7 && b == 0x10000 && d == 7 && c.done && c.body_bytes == 0x10000,
	   "64 KiB chunk streamed in pieces");
	OK(http_chunked_scan(&c, "junk", 4) == 0, "nothing more is taken after done");
	/* trailer section limit */
	static char tr[40000];
	size_t n = sprintf(tr, "0\r\nX: ");
	memset(tr + n, 'v', 33000);
	n += 33000;
	n += sprintf(tr + n, "\r\n\r\n");
	OK(scan_all(tr, n, &c) == -400, "trailer section over HTTP_MAX_HEAD refused");
}

int main(void)
{
	test_request_table();
	test_details();
	test_value_bytes();
	test_limits();
	test_pipelining();
	test_responses();
	test_chunked();
	return og_done();
}
