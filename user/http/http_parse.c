// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Strict, resumable HTTP/1.1 head parser and chunked scanner (RFC 9112/9110); see docs/http.md. */
#include <string.h>
#include <strings.h>

#include "http/http_parse.h"

/*
 * Character classes, one table lookup per byte. Built by macros so the table is
 * a compile-time constant (no init race, no constructor).
 */
#define C_TCHAR 0x01 /* token char, RFC 9110 5.6.2 */
#define C_FVAL	0x02 /* field-vchar / obs-text / SP / HTAB: a header value byte, RFC 9110 5.5 */
#define C_URI	0x04 /* request-target byte, RFC 3986 (no '#': fragments are refused) */
#define C_HEX	0x08
#define C_DIGIT 0x10
#define C_HOST	0x20 /* reg-name byte but '%': unreserved / sub-delims, RFC 3986 3.2.2 */
#define C_QD	0x40 /* qdtext, RFC 9110 5.6.4 */
#define C_PATH	0x80 /* C_URI but '%' and '?', the bytes a target scan must stop at */

#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_HEXL(c)  (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define IS_UNRES(c)                                                                                \
	(IS_ALPHA(c) || IS_DIGIT(c) || (c) == '-' || (c) == '.' || (c) == '_' || (c) == '~')
#define IS_SUBDELIM(c)                                                                             \
	((c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' || (c) == '(' || (c) == ')' ||      \
	 (c) == '*' || (c) == '+' || (c) == ',' || (c) == ';' || (c) == '=')
#define IS_TCHAR(c)                                                                                \
	(IS_ALPHA(c) || IS_DIGIT(c) || (c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' ||     \
	 (c) == '&' || (c) == '\'' || (c) == '*' || (c) == '+' || (c) == '-' || (c) == '.' ||      \
	 (c) == '^' || (c) == '_' || (c) == '`' || (c) == '|' || (c) == '~')
#define IS_VCHAR(c) (((c) >= 0x21 && (c) <= 0x7e) || (c) >= 0x80)
#define IS_URI(c)                                                                                  \
	(IS_UNRES(c) || IS_SUBDELIM(c) || (c) == ':' || (c) == '/' || (c) == '?' || (c) == '[' ||  \
	 (c) == ']' || (c) == '@' || (c) == '%')
#define CLS(c)                                                                                     \
	((IS_TCHAR(c) ? C_TCHAR : 0) | (IS_VCHAR(c) || (c) == ' ' || (c) == '\t' ? C_FVAL : 0) |   \
	 (IS_URI(c) ? C_URI : 0) | (IS_HEXL(c) ? C_HEX : 0) | (IS_DIGIT(c) ? C_DIGIT : 0) |        \
	 (IS_UNRES(c) || IS_SUBDELIM(c) ? C_HOST : 0) |                                            \
	 (IS_URI(c) && (c) != '%' && (c) != '?' ? C_PATH : 0) |                                    \
	 ((c) == '\t' || (c) == ' ' || (c) == 0x21 || ((c) >= 0x23 && (c) <= 0x5b) ||              \
		  ((c) >= 0x5d && (c) <= 0x7e) || (c) >= 0x80                                      \
	      ? C_QD                                                                               \
	      : 0))
#define R4(c)  CLS(c), CLS((c) + 1), CLS((c) + 2), CLS((c) + 3)
#define R16(c) R4(c), R4((c) + 4), R4((c) + 8), R4((c) + 12)
#define R64(c) R16(c), R16((c) + 16), R16((c) + 32), R16((c) + 48)
static const uint8_t cls[256] = {R64(0), R64(64), R64(128), R64(192)};

/* Transfer-Encoding summary bits (http_msg.te). */
#define TE_SEEN		 0x01
#define TE_LAST_CHUNKED	 0x02 /* the last coding seen so far is chunked */
#define TE_CHUNKED_TWICE 0x04
#define TE_OTHER	 0x08 /* a coding other than chunked: we decode none */
#define TE_BAD		 0x10 /* empty element, parameters on chunked, bad syntax */
#define TE_CHUNKED_ANY	 0x20

/* Connection token bits (http_msg.conn). */
#define CONN_CLOSE 0x01
#define CONN_KA	   0x02

enum { S_START = 0, S_HEADERS, S_DONE, S_ERROR };

/*
 * 1 when none of the 8 bytes at <p> is below 0x20 or equal to 0x7f, i.e. all are field-vchar,
 * obs-text or SP (HTAB, also valid, takes the byte-wise path). Classic SWAR zero-byte tests,
 * exact as booleans for thresholds <= 0x80.
 */
static inline int fval8(const uint8_t *p)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t x, y;

	memcpy(&x, p, 8);
	y = x ^ (ones * 0x7f);
	return !((((x - ones * 0x20) & ~x) | ((y - ones) & ~y)) & highs);
}

static inline int ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static inline uint64_t ld8(const void *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

static inline uint32_t ld4(const void *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return x;
}

/*
 * Case-insensitive compare of <n> bytes at <p> with a lower-case literal of letters,
 * digits and "-:/" (each has bit 0x20 set, so OR-ing 0x20 into <p> folds only its
 * case): whole words at a time, the last word overlapping, for names like
 * content-length that are compared on every head.
 */
static inline int tok_ieq(const uint8_t *p, const char *lit, size_t n)
{
	size_t i = 0;

	if (n >= 8) {
		for (; i + 8 <= n; i += 8)
			if ((ld8(p + i) | 0x2020202020202020ULL) != ld8(lit + i))
				return 0;
		return i == n || (ld8(p + n - 8) | 0x2020202020202020ULL) == ld8(lit + n - 8);
	}
	if (n >= 4)
		return (ld4(p) | 0x20202020u) == ld4(lit) &&
		       (ld4(p + n - 4) | 0x20202020u) == ld4(lit + n - 4);
	for (; i < n; i++)
		if ((p[i] | 0x20) != (uint8_t)lit[i])
			return 0;
	return 1;
}

/* End of the run of token chars at <q> (at most <end>): four table tests per step. */
static inline const uint8_t *tchar_run(const uint8_t *q, const uint8_t *end)
{
	while (end - q >= 4 && (cls[q[0]] & cls[q[1]] & cls[q[2]] & cls[q[3]] & C_TCHAR))
		q += 4;
	while (q < end && (cls[*q] & C_TCHAR))
		q++;
	return q;
}

static inline struct http_span mkspan(const uint8_t *base, const uint8_t *p, size_t n)
{
	struct http_span s = {(uint32_t)(p - base), (uint32_t)n};
	return s;
}

void http_msg_init(struct http_msg *m)
{
	/* Everything up to headers[] is small; headers[] is only read below n_headers. */
	memset(m, 0, offsetof(struct http_msg, headers));
	memset(m->known, 0xff, sizeof(m->known));
}

static int method_id(const uint8_t *p, size_t n)
{
	switch (n) {
	case 3:
		if (!memcmp(p, "GET", 3))
			return HTTP_M_GET;
		if (!memcmp(p, "PUT", 3))
			return HTTP_M_PUT;
		break;
	case 4:
		if (!memcmp(p, "POST", 4))
			return HTTP_M_POST;
		if (!memcmp(p, "HEAD", 4))
			return HTTP_M_HEAD;
		break;
	case 5:
		if (!memcmp(p, "PATCH", 5))
			return HTTP_M_PATCH;
		if (!memcmp(p, "TRACE", 5))
			return HTTP_M_TRACE;
		break;
	case 6:
		if (!memcmp(p, "DELETE", 6))
			return HTTP_M_DELETE;
		break;
	case 7:
		if (!memcmp(p, "OPTIONS", 7))
			return HTTP_M_OPTIONS;
		if (!memcmp(p, "CONNECT", 7))
			return HTTP_M_CONNECT;
		break;
	}
	return HTTP_M_OTHER;
}

/* pct-encoded needs two hex digits after '%' (RFC 3986 2.1). */
static inline int pct_ok(const uint8_t *q, const uint8_t *end)
{
	return end - q >= 3 && (cls[q[1]] & C_HEX) && (cls[q[2]] & C_HEX);
}

/*
 * uri-host [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2). No userinfo, no empty
 * host; <need_port> for CONNECT's authority-form. 0 when valid.
 */
static int host_check(const uint8_t *p, size_t n, int need_port)
{
	const uint8_t *q = p, *end = p + n;

	if (!n)
		return -1;
	if (*q == '[') {
		/* IP-literal: hex, ':' and '.'; IPvFuture: 'v' and unreserved/sub-delims */
		q++;
		while (q < end && *q != ']' && ((cls[*q] & C_HOST) || *q == ':'))
			q++;
		if (q == end || *q != ']' || q - p < 3)
			return -1;
		q++;
	} else {
		/* reg-name: runs of plain bytes, each pct-encoded triplet checked on its own */
		for (;;) {
			while (q < end && (cls[*q] & C_HOST))
				q++;
			if (q < end && *q == '%' && pct_ok(q, end)) {
				q += 3;
				continue;
			}
			break;
		}
		if (q == p)
			return -1;
	}
	if (q == end)
		return need_port ? -1 : 0;
	if (*q++ != ':')
		return -1;
	if (end - q > 5 || (need_port && q == end))
		return -1;
	for (; q < end; q++)
		if (!(cls[*q] & C_DIGIT))
			return -1;
	return 0;
}

/* request-target (RFC 9112 3.2): fills target/path/query/authority; 0 or -status. */
static int parse_target(struct http_msg *m, const uint8_t *base, const uint8_t *t, size_t n)
{
	const uint8_t *q = t, *end = t + n, *qm = NULL;

	m->target = mkspan(base, t, n);
	if (m->method == HTTP_M_CONNECT) {
		/* authority-form only; we do not tunnel (docs/http.md): 501 once it is well formed
		 */
		if (host_check(t, n, 1))
			return -400;
		m->authority = m->target;
		return -501;
	}
	if (n == 1 && *t == '*') { /* asterisk-form: OPTIONS only (RFC 9112 3.2.4) */
		if (m->method != HTTP_M_OPTIONS)
			return -400;
		m->path = m->target;
		return 0;
	}
	/* One pass over the whole target: every byte a URI char, '%' followed by two hex
	 * digits. Runs of plain bytes go at one table test each; '%' and '?' stop them. */
	for (;;) {
		while (q < end && (cls[*q] & C_PATH))
			q++;
		if (q == end)
			break;
		if (*q == '%') {
			if (!pct_ok(q, end))
				return -400;
			q += 3;
		} else if (*q == '?') {
			if (!qm)
				qm = q;
			q++;
		} else {
			return -400; /* '#', space, CTL, non-ASCII, '"', '<', '\\', ... */
		}
	}
	if (*t != '/') { /* absolute-form: http(s)://authority[path][?query] (RFC 9112 3.2.2) */
		const uint8_t *a, *ae;

		if (n >= 7 && tok_ieq(t, "http://", 7))
			a = t + 7;
		else if (n >= 8 && tok_ieq(t, "https://", 8))
			a = t + 8;
		else
			return -400;
		for (ae = a; ae < end && *ae != '/' && *ae != '?'; ae++)
			;
		if (host_check(a, ae - a, 0))
			return -400; /* empty host, userinfo, bad port */
		m->authority = mkspan(base, a, ae - a);
		if (ae == end || *ae == '?') {
			/*
			 * "http://h" or "http://h?q": the path is empty, which means "/" (RFC 9112
			 * 3.2.1). Point the span at the second '/' of "://" so path always starts
			 * with '/' and routers and the proxy need no special case.
			 */
			m->path = mkspan(base, a - 1, 1);
			if (ae < end)
				m->query = mkspan(base, ae + 1, end - ae - 1);
			return 0;
		}
		t = ae;
	}
	if (qm && qm >= t) {
		m->path = mkspan(base, t, qm - t);
		m->query = mkspan(base, qm + 1, end - qm - 1);
	} else {
		m->path = mkspan(base, t, end - t);
	}
	return 0;
}

/* request-line = method SP request-target SP HTTP-version (RFC 9112 3). 0 or -status. */
static int parse_request_line(struct http_msg *m, const uint8_t *base, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n, *q = p, *t, *v;
	size_t ml;

	/* The method is judged before the length, as partial() does on an unfinished line. */
	q = tchar_run(q, end);
	ml = q - p;
	if (!ml || q == end || *q != ' ' || ml > HTTP_MAX_METHOD)
		return -400;
	if (n > HTTP_MAX_REQUEST_LINE)
		return -414;
	m->method_s = mkspan(base, p, ml);
	m->method = method_id(p, ml);
	t = ++q;
	q = memchr(t, ' ', end - t);
	if (!q || q == t)
		return -400; /* HTTP/0.9 request, missing target, or a double space */
	v = q + 1;
	/* Version first: "PRI * HTTP/2.0" is a version problem (505), not a target one. */
	if (end - v == 8 && !memcmp(v, "HTTP/1.", 7) && (v[7] == '1' || v[7] == '0')) {
		m->version_minor = v[7] - '0';
	} else if (end - v == 8 && !memcmp(v, "HTTP/", 5) && IS_DIGIT(v[5]) && v[6] == '.' &&
		   IS_DIGIT(v[7])) {
		return -505;
	} else {
		return -400;
	}
	return parse_target(m, base, t, q - t);
}

/* status-line = HTTP-version SP 3DIGIT SP [reason] (RFC 9112 4); the reason may be absent. */
static int parse_status_line(struct http_msg *m, const uint8_t *base, const uint8_t *p, size_t n)
{
	const uint8_t *q;

	if (n > HTTP_MAX_REQUEST_LINE)
		return -502;
	if (n < 12 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return -502;
	if (p[9] < '1' || p[9] > '9' || !IS_DIGIT(p[10]) || !IS_DIGIT(p[11]))
		return -502;
	m->version_minor = p[7] - '0';
	m->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (n == 12) {
		m->reason = mkspan(base, p + 12, 0);
		return 0;
	}
	if (p[12] != ' ')
		return -502;
	for (q = p + 13; q < p + n; q++)
		if (!(cls[*q] & C_FVAL))
			return -502;
	m->reason = mkspan(base, p + 13, n - 13);
	return 0;
}

/* Content-Length = 1*DIGIT (RFC 9110 8.6): no sign, no list, no overflow; duplicates must agree. */
static int hdr_content_length(struct http_msg *m, const uint8_t *v, size_t n)
{
	uint64_t x = 0;

	if (!n)
		return -400;
	for (size_t i = 0; i < n; i++) {
		unsigned d = v[i] - '0';

		if (d > 9 || x > (UINT64_MAX / 2 - d) / 10) /* keep it below 2^63: fits off_t */
			return -400;
		x = x * 10 + d;
	}
	if (m->cl_seen && x != m->content_length)
		return -400;
	m->cl_seen = 1;
	m->content_length = x;
	return 0;
}

/* Transfer-Encoding = #transfer-coding (RFC 9112 6.1); summarised into m->te, judged at the end. */
static void hdr_transfer_encoding(struct http_msg *m, const uint8_t *v, size_t n)
{
	const uint8_t *q = v, *end = v + n;

	m->te |= TE_SEEN;
	for (;;) {
		const uint8_t *tk;
		size_t tl;
		int chunked;

		while (q < end && ows(*q))
			q++;
		tk = q;
		while (q < end && (cls[*q] & C_TCHAR))
			q++;
		tl = q - tk;
		if (!tl) { /* empty element (", chunked", "chunked,") or a bad byte: refuse */
			m->te |= TE_BAD;
			return;
		}
		chunked = tl == 7 && tok_ieq(tk, "chunked", 7);
		while (q < end && ows(*q))
			q++;
		if (q < end &&
		    *q == ';') { /* parameters: chunked has none; others we refuse anyway */
			if (chunked) {
				m->te |= TE_BAD;
				return;
			}
			while (q < end && *q != ',')
				q++;
		}
		if (chunked) {
			if (m->te & TE_CHUNKED_ANY)
				m->te |= TE_CHUNKED_TWICE;
			m->te |= TE_CHUNKED_ANY | TE_LAST_CHUNKED;
		} else {
			m->te = (m->te & ~TE_LAST_CHUNKED) | TE_OTHER;
		}
		if (q == end)
			return;
		if (*q != ',') {
			m->te |= TE_BAD;
			return;
		}
		q++;
	}
}

/* Connection = #connection-option (RFC 9110 7.6.1). */
static int hdr_connection(struct http_msg *m, const uint8_t *v, size_t n)
{
	const uint8_t *q = v, *end = v + n;

	while (q < end) {
		const uint8_t *tk;
		size_t tl;

		while (q < end && (ows(*q) || *q == ','))
			q++;
		if (q == end)
			break;
		tk = q;
		while (q < end && (cls[*q] & C_TCHAR))
			q++;
		tl = q - tk;
		if (!tl)
			return -400;
		if (tl == 5 && tok_ieq(tk, "close", 5))
			m->conn |= CONN_CLOSE;
		else if (tl == 10 && tok_ieq(tk, "keep-alive", 10))
			m->conn |= CONN_KA;
		else
			m->flags |= HTTP_F_CONN_HAS_TOKENS;
		while (q < end && ows(*q))
			q++;
		if (q < end && *q != ',')
			return -400;
	}
	return 0;
}

/* Which known header a field name is (by length, then case-insensitively), or -1. */
static int known_id(const uint8_t *p, size_t n)
{
	switch (n) {
	case 2:
		return tok_ieq(p, "te", 2) ? HTTP_H_TE : -1;
	case 4:
		return tok_ieq(p, "host", 4) ? HTTP_H_HOST : -1;
	case 6:
		return tok_ieq(p, "expect", 6) ? HTTP_H_EXPECT : -1;
	case 7:
		if (tok_ieq(p, "upgrade", 7))
			return HTTP_H_UPGRADE;
		return tok_ieq(p, "trailer", 7) ? HTTP_H_TRAILER : -1;
	case 10:
		if (tok_ieq(p, "connection", 10))
			return HTTP_H_CONNECTION;
		return tok_ieq(p, "keep-alive", 10) ? HTTP_H_KEEP_ALIVE : -1;
	case 12:
		return tok_ieq(p, "x-request-id", 12) ? HTTP_H_X_REQUEST_ID : -1;
	case 14:
		return tok_ieq(p, "content-length", 14) ? HTTP_H_CONTENT_LENGTH : -1;
	case 15:
		return tok_ieq(p, "x-forwarded-for", 15) ? HTTP_H_X_FORWARDED_FOR : -1;
	case 16:
		return tok_ieq(p, "proxy-connection", 16) ? HTTP_H_PROXY_CONNECTION : -1;
	case 17:
		return tok_ieq(p, "transfer-encoding", 17) ? HTTP_H_TRANSFER_ENCODING : -1;
	}
	return -1;
}

/* field-line = field-name ":" OWS field-value OWS (RFC 9112 5). 0 or -status. */
static int parse_field_line(struct http_msg *m, const uint8_t *base, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n, *q = p, *v, *ve;
	struct http_header *h;
	size_t nl;
	int k;

	/* A line starting with whitespace is obs-fold, or whitespace after the start line. */
	q = tchar_run(q, end);
	nl = q - p;
	if (!nl || q == end || *q != ':')
		return -400; /* empty name, no colon, whitespace before colon, bad name byte */
	q++;
	while (q < end && ows(*q))
		q++;
	v = q;
	/* Values are most of a head: 8 bytes per step while none is a CTL, then byte by byte;
	 * a tail under 8 bytes goes in one step too, as the last 8 bytes of the value. */
	for (;;) {
		const uint8_t *lim;

		while (end - q >= 8 && fval8(q))
			q += 8;
		if (q < end && end - q < 8 && end - v >= 8 && fval8(end - 8)) {
			q = end;
			break;
		}
		lim = end - q > 8 ? q + 8 : end;
		while (q < lim && (cls[*q] & C_FVAL))
			q++;
		if (q < lim || q == end)
			break;
	}
	if (q != end)
		return -400; /* NUL, bare CR, other CTL */
	ve = end;
	while (ve > v && ows(ve[-1]))
		ve--;
	if (m->n_headers >= HTTP_MAX_HEADERS)
		return -431;
	h = &m->headers[m->n_headers];
	h->name = mkspan(base, p, nl);
	h->value = mkspan(base, v, ve - v);
	h->kid = (int8_t)(k = known_id(p, nl));
	if (k >= 0) {
		if (m->known[k] < 0)
			m->known[k] = (int16_t)m->n_headers;
		switch (k) {
		case HTTP_H_HOST:
			if (!m->is_response && (++m->n_host > 1 || host_check(v, ve - v, 0)))
				return -400;
			break;
		case HTTP_H_CONTENT_LENGTH:
			if (hdr_content_length(m, v, ve - v))
				return -400;
			break;
		case HTTP_H_TRANSFER_ENCODING:
			hdr_transfer_encoding(m, v, ve - v);
			break;
		case HTTP_H_CONNECTION:
			if (hdr_connection(m, v, ve - v))
				return -400;
			break;
		case HTTP_H_EXPECT:
			/* RFC 9110 10.1.1: ignore it on HTTP/1.0; 417 for an expectation we cannot
			 * meet */
			if (!m->is_response && m->version_minor == 1) {
				if (ve - v == 12 && tok_ieq(v, "100-continue", 12))
					m->flags |= HTTP_F_EXPECT_CONTINUE;
				else
					return -417;
			}
			break;
		}
	}
	m->n_headers++;
	return 0;
}

static void set_keep_alive(struct http_msg *m)
{
	int ka = m->version_minor == 1 ? !(m->conn & CONN_CLOSE)
				       : (m->conn & CONN_KA) && !(m->conn & CONN_CLOSE);

	if (ka)
		m->flags |= HTTP_F_KEEP_ALIVE;
}

/* Framing of a request (RFC 9112 6.3 and 6.1). 0 or -status. */
static int finish_request(struct http_msg *m)
{
	if (m->version_minor == 1 && m->n_host == 0)
		return -400; /* RFC 9112 3.2 */
	if (m->te) {
		if (m->cl_seen || m->version_minor == 0)
			return -400; /* RFC 9112 6.1: CL with TE; TE on HTTP/1.0 */
		if ((m->te & (TE_BAD | TE_CHUNKED_TWICE)) || !(m->te & TE_LAST_CHUNKED))
			return -400; /* RFC 9112 6.3 item 4: chunked must be final, once */
		if (m->te & TE_OTHER)
			return -501; /* RFC 9112 6.1: a coding we do not implement */
		m->body = HTTP_BODY_CHUNKED;
	} else if (m->cl_seen) {
		m->body = HTTP_BODY_LENGTH;
	} else {
		m->body = HTTP_BODY_NONE;
	}
	set_keep_alive(m);
	return 0;
}

/* Framing of a response (RFC 9112 6.3) to a request with method <req_method>. 0 or -502. */
static int finish_response(struct http_msg *m, int req_method)
{
	if (m->te && (m->cl_seen || m->version_minor == 0 || (m->te & (TE_BAD | TE_CHUNKED_TWICE))))
		return -502; /* possible response smuggling: refuse rather than guess */
	if (m->status == 101)
		return -502; /* we never forward Upgrade, so no upstream may switch protocols */
	if (req_method == HTTP_M_HEAD || m->status < 200 || m->status == 204 || m->status == 304 ||
	    (req_method == HTTP_M_CONNECT && m->status < 300))
		m->body = HTTP_BODY_NONE;
	else if (m->te)
		m->body = (m->te & TE_LAST_CHUNKED) ? HTTP_BODY_CHUNKED : HTTP_BODY_EOF;
	else if (m->cl_seen)
		m->body = HTTP_BODY_LENGTH;
	else
		m->body = HTTP_BODY_EOF;
	if (m->body != HTTP_BODY_EOF)
		set_keep_alive(m);
	return 0;
}

static int fail(struct http_msg *m, int rc)
{
	if (m->is_response)
		rc = -502;
	m->state = S_ERROR;
	m->err = (uint16_t)-rc;
	return rc;
}

/*
 * The head is still incomplete: refuse early what can never become valid, so a
 * slow or hostile peer cannot hold a buffer. Only the unfinished line is looked at.
 */
static int partial(struct http_msg *m, const uint8_t *base, size_t len)
{
	size_t ll = len - m->line_start;

	if (m->state == S_START) {
		const uint8_t *p = base + m->line_start;
		size_t i, lim = ll < HTTP_MAX_METHOD + 1 ? ll : HTTP_MAX_METHOD + 1;

		if (!m->is_response) {
			/* The method prefix: a TLS hello or binary noise gets its 400 now, not at a
			 * timeout. */
			for (i = 0; i < lim && (cls[p[i]] & C_TCHAR); i++)
				;
			if (i < lim && !(p[i] == ' ' || (i == 0 && p[0] == '\r' && ll == 1)))
				return fail(m, -400);
			if (i == HTTP_MAX_METHOD + 1)
				return fail(m, -400);
		}
		if (ll > HTTP_MAX_REQUEST_LINE + 1)
			return fail(m, -414);
	} else if (ll) {
		uint8_t c0 = base[m->line_start];

		/* obs-fold or junk starts the line: refuse now (parse_head checks it first too) */
		if (!(cls[c0] & C_TCHAR) && !(c0 == '\r' && ll == 1))
			return fail(m, -400);
		/* a lone CR may still become the final CRLF or a bad line: decide when it ends */
		if (ll > 1 && len - m->hdr_start > HTTP_MAX_HEAD)
			return fail(m, -431);
	}
	return HTTP_PARSE_AGAIN;
}

static int parse_head(struct http_msg *m, const char *buf, size_t len, int req_method)
{
	const uint8_t *base = (const uint8_t *)buf;

	if (m->state == S_DONE)
		return (int)m->head_len;
	if (m->state == S_ERROR)
		return -(int)m->err;
	if (len < m->pos)
		return HTTP_PARSE_AGAIN; /* the buffer only grows between calls; a shorter one is a
					    caller bug */
	if (len > UINT32_MAX / 2)
		len = UINT32_MAX / 2; /* spans are 32-bit; a head is far below this anyway */
	for (;;) {
		const uint8_t *lf = NULL, *ls = base + m->line_start;
		size_t n;
		int rc;

		if (m->pos < len)
			lf = memchr(base + m->pos, '\n', len - m->pos);
		if (!lf) {
			m->pos = (uint32_t)len; /* the next call searches only the new bytes */
			return partial(m, base, len);
		}
		if (lf == ls || lf[-1] != '\r')
			return fail(m, -400); /* bare LF (RFC 9112 2.2: we choose to reject) */
		n = lf - 1 - ls;
		m->pos = m->line_start = (uint32_t)(lf + 1 - base);
		if (m->state == S_START) {
			if (!n) { /* empty line before the request line: RFC 9112 2.2 lets us skip
				     it */
				if (m->is_response || m->line_start > 64)
					return fail(m, -400);
				continue;
			}
			rc = m->is_response ? parse_status_line(m, base, ls, n)
					    : parse_request_line(m, base, ls, n);
			if (rc)
				return fail(m, rc);
			m->hdr_start = m->line_start;
			m->state = S_HEADERS;
			continue;
		}
		if (n && !(cls[*ls] & C_TCHAR))
			return fail(m, -400); /* obs-fold (RFC 9112 5.2), empty name, junk */
		if (m->line_start - m->hdr_start > HTTP_MAX_HEAD)
			return fail(m, -431);
		if (n) {
			rc = parse_field_line(m, base, ls, n);
			if (rc)
				return fail(m, rc);
			continue;
		}
		rc = m->is_response ? finish_response(m, req_method) : finish_request(m);
		if (rc)
			return fail(m, rc);
		m->state = S_DONE;
		m->head_len = m->line_start;
		return (int)m->head_len;
	}
}

int http_parse_request_head(struct http_msg *m, const char *buf, size_t len)
{
	m->is_response = 0;
	return parse_head(m, buf, len, 0);
}

int http_parse_response_head(struct http_msg *m, const char *buf, size_t len, int req_method)
{
	m->is_response = 1;
	return parse_head(m, buf, len, req_method);
}

int http_span_ieq(const char *buf, struct http_span s, const char *lit)
{
	const unsigned char *p = (const unsigned char *)buf + s.off;
	size_t i;

	for (i = 0; i < s.len; i++) {
		unsigned char a = p[i], b = (unsigned char)lit[i];

		if (!b)
			return 0;
		if (a >= 'A' && a <= 'Z')
			a |= 0x20;
		if (b >= 'A' && b <= 'Z')
			b |= 0x20;
		if (a != b)
			return 0;
	}
	return lit[i] == '\0';
}

int http_find_header(const struct http_msg *m, const char *buf, const char *name)
{
	for (int i = 0; i < m->n_headers; i++)
		if (http_span_ieq(buf, m->headers[i].name, name))
			return i;
	return -1;
}

/* 1 when the comma-separated Connection values of <m> name <s>. O(fields); only on HAS_TOKENS. */
static int conn_lists(const struct http_msg *m, const char *buf, struct http_span s)
{
	for (int i = 0; i < m->n_headers; i++) {
		struct http_span v = m->headers[i].value;
		uint32_t a = v.off, e = v.off + v.len;

		if (!http_span_ieq(buf, m->headers[i].name, "connection"))
			continue;
		while (a < e) {
			uint32_t b = a;

			while (b < e && buf[b] != ',')
				b++;
			uint32_t x = a, y = b;
			while (x < y && ows((uint8_t)buf[x]))
				x++;
			while (y > x && ows((uint8_t)buf[y - 1]))
				y--;
			if (y - x == s.len && !strncasecmp(buf + x, buf + s.off, s.len))
				return 1;
			a = b + 1;
		}
	}
	return 0;
}

int http_is_hop_by_hop(const struct http_msg *m, const char *buf, int i)
{
	const struct http_span n = m->headers[i].name;

	switch (m->headers[i].kid) {
	case HTTP_H_CONNECTION:
	case HTTP_H_KEEP_ALIVE:
	case HTTP_H_PROXY_CONNECTION:
	case HTTP_H_TE:
	case HTTP_H_TRANSFER_ENCODING:
	case HTTP_H_UPGRADE:
		return 1;
	case HTTP_H_CONTENT_LENGTH:
	case HTTP_H_HOST:
		/*
		 * "Connection: Content-Length" must not make a proxy drop the length while it
		 * still forwards the body: the origin would read the body as a second request.
		 */
		return 0;
	}
	return (m->flags & HTTP_F_CONN_HAS_TOKENS) && conn_lists(m, buf, n);
}

/* ---- chunked bodies (RFC 9112 7.1) ---- */

enum {
	CH_SIZE0 = 0, /* first hex digit of chunk-size */
	CH_SIZE,      /* more hex digits */
	CH_WS,	      /* BWS after size or ext value: only SP/HTAB or ';' may follow */
	CH_EXT_NAME0, /* after ';': BWS, then a token */
	CH_EXT_NAME,
	CH_EXT_NAME_WS, /* BWS after a name: '=' or ';' */
	CH_EXT_VAL0,	/* after '=': BWS, then token or quoted-string */
	CH_EXT_VAL,
	CH_EXT_QS,
	CH_EXT_QS_ESC,
	CH_EXT_QS_END,
	CH_SIZE_LF, /* CR seen, LF must follow */
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TR_START, /* start of a trailer line or of the final CRLF */
	CH_TR_NAME,
	CH_TR_VAL,
	CH_TR_LF,
	CH_FINAL_LF,
	CH_DONE,
	CH_ERROR,
};

void http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
}

long http_chunked_scan(struct http_chunked *c, const char *in, size_t len)
{
	const uint8_t *p = (const uint8_t *)in, *end = p + len;

	if (c->state == CH_ERROR)
		return -400;
	while (p < end) {
		uint8_t ch;

		if (c->state ==
		    CH_DATA) { /* the bulk of the bytes: skipped without a per-byte loop */
			size_t take =
			    (size_t)(end - p) < c->remaining ? (size_t)(end - p) : c->remaining;

			p += take;
			c->remaining -= take;
			c->body_bytes += take;
			if (!c->remaining)
				c->state = CH_DATA_CR;
			continue;
		}
		if (c->state == CH_DONE)
			break;
		ch = *p++;
		if (c->state >= CH_TR_START && ++c->trailer_bytes > HTTP_MAX_HEAD)
			goto bad;
		if (c->state >= CH_WS && c->state <= CH_EXT_QS_END && ch != '\r' &&
		    ++c->ext_len > HTTP_MAX_CHUNK_EXT)
			goto bad;
		switch (c->state) {
		case CH_SIZE0:
			if (!(cls[ch] & C_HEX))
				goto bad; /* sign, space, "0x", empty */
			c->remaining = (cls[ch] & C_DIGIT) ? ch - '0' : (ch | 0x20) - 'a' + 10;
			c->line_len = 1;
			c->ext_len = 0;
			c->state = CH_SIZE;
			break;
		case CH_SIZE:
			if (cls[ch] & C_HEX) {
				if (++c->line_len > 16)
					goto bad; /* overflow: at most 16 hex digits, no padding */
				c->remaining =
				    (c->remaining << 4) |
				    ((cls[ch] & C_DIGIT) ? ch - '0' : (ch | 0x20) - 'a' + 10);
			} else if (ch == '\r') {
				c->state = CH_SIZE_LF;
			} else if (ch == ';') {
				c->state = CH_EXT_NAME0;
				c->ext_len = 1;
			} else if (ows(ch)) {
				c->state = CH_WS;
				c->ext_len = 1;
			} else {
				goto bad;
			}
			break;
		case CH_WS:
			if (ch == ';')
				c->state = CH_EXT_NAME0;
			else if (!ows(ch))
				goto bad; /* trailing whitespace before CRLF, junk after the size */
			break;
		case CH_EXT_NAME0:
			if (cls[ch] & C_TCHAR)
				c->state = CH_EXT_NAME;
			else if (!ows(ch))
				goto bad; /* "5;" with no name, control bytes */
			break;
		case CH_EXT_NAME:
			if (cls[ch] & C_TCHAR)
				break;
			if (ch == '=')
				c->state = CH_EXT_VAL0;
			else if (ch == ';')
				c->state = CH_EXT_NAME0;
			else if (ows(ch))
				c->state = CH_EXT_NAME_WS;
			else if (ch == '\r')
				c->state = CH_SIZE_LF;
			else
				goto bad;
			break;
		case CH_EXT_NAME_WS:
			if (ch == '=')
				c->state = CH_EXT_VAL0;
			else if (ch == ';')
				c->state = CH_EXT_NAME0;
			else if (!ows(ch))
				goto bad;
			break;
		case CH_EXT_VAL0:
			if (cls[ch] & C_TCHAR)
				c->state = CH_EXT_VAL;
			else if (ch == '"')
				c->state = CH_EXT_QS;
			else if (!ows(ch))
				goto bad;
			break;
		case CH_EXT_VAL:
		case CH_EXT_QS_END:
			if (c->state == CH_EXT_VAL && (cls[ch] & C_TCHAR))
				break;
			if (ch == ';')
				c->state = CH_EXT_NAME0;
			else if (ows(ch))
				c->state = CH_WS;
			else if (ch == '\r')
				c->state = CH_SIZE_LF;
			else
				goto bad;
			break;
		case CH_EXT_QS:
			if (ch == '"')
				c->state = CH_EXT_QS_END;
			else if (ch == '\\')
				c->state = CH_EXT_QS_ESC;
			else if (!(cls[ch] & C_QD))
				goto bad;
			break;
		case CH_EXT_QS_ESC:
			if (!(cls[ch] & C_FVAL))
				goto bad;
			c->state = CH_EXT_QS;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				goto bad; /* bare CR */
			c->state = c->remaining ? CH_DATA : CH_TR_START;
			break;
		case CH_DATA_CR:
			if (ch != '\r')
				goto bad; /* data longer than its size, or a bare LF */
			c->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				goto bad;
			c->state = CH_SIZE0;
			break;
		case CH_TR_START:
			if (ch == '\r')
				c->state = CH_FINAL_LF;
			else if (cls[ch] & C_TCHAR)
				c->state = CH_TR_NAME;
			else
				goto bad; /* obs-fold, bare LF, empty name */
			break;
		case CH_TR_NAME:
			if (ch == ':')
				c->state = CH_TR_VAL;
			else if (!(cls[ch] & C_TCHAR))
				goto bad; /* whitespace before the colon, bad name byte */
			break;
		case CH_TR_VAL:
			if (ch == '\r')
				c->state = CH_TR_LF;
			else if (!(cls[ch] & C_FVAL))
				goto bad;
			break;
		case CH_TR_LF:
			if (ch != '\n')
				goto bad;
			c->state = CH_TR_START;
			break;
		case CH_FINAL_LF:
			if (ch != '\n')
				goto bad;
			c->state = CH_DONE;
			c->done = 1;
			return (long)(p - (const uint8_t *)in);
		default:
			goto bad;
		}
	}
	return (long)(p - (const uint8_t *)in);
bad:
	c->state = CH_ERROR;
	return -400;
}

const char *http_method_name(int method)
{
	static const char *const names[HTTP_M__COUNT] = {
	    [HTTP_M_OTHER] = "OTHER",	  [HTTP_M_GET] = "GET",		[HTTP_M_HEAD] = "HEAD",
	    [HTTP_M_POST] = "POST",	  [HTTP_M_PUT] = "PUT",		[HTTP_M_DELETE] = "DELETE",
	    [HTTP_M_PATCH] = "PATCH",	  [HTTP_M_OPTIONS] = "OPTIONS", [HTTP_M_TRACE] = "TRACE",
	    [HTTP_M_CONNECT] = "CONNECT",
	};

	if (method < 0 || method >= HTTP_M__COUNT)
		return "OTHER";
	return names[method];
}

const char *http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 417:
		return "Expectation Failed";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Unknown";
}
