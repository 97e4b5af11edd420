// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Idempotency-Key on proxied routes: the proxy guard that claims, replays and captures. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "front/conn.h"
#include "lanes/idem.h"
#include "lanes/idem_guard.h"
#include "proxy/proxy.h"

#define GF_DONE	    0x01 /* the upstream's whole response was read */
#define GF_OVERFLOW 0x02 /* it did not fit the entry: not replayable */
#define GF_CHUNKED  0x04 /* the captured body is chunked framing (decoded at the end) */

/* c->rq->guard: what the guard holds for the request */
#define G_CLAIM 1 /* the claim on its key: it is proxied, its answer captured */
#define G_CHECK 2 /* a pin on its first's entry: its body is read, then compared */

/* Room after a stored head for the fields a replay adds (Content-Length, ...). */
#define REPLAY_EXTRA 160

static const char hdr_replayed[] = "Idempotent-Replayed: true\r\n";

static struct idem_table *route_table(const struct og_conn *c)
{
	return c->rq->rt->routes[c->rq->route].idem;
}

/* Who sent the request, as the route's scope says. */
static void fill_scope(struct idem_table *t, const struct cfg_idem *ci, const struct og_conn *c,
		       const struct http_msg *m, const char *buf, struct idem_id *id)
{
	if (ci->scope == CFG_IDEM_SCOPE_NONE) {
		id->scope_len = 0;
		return;
	}
	if (ci->scope == CFG_IDEM_SCOPE_HEADER) {
		int i = http_find_header(m, buf, ci->scope_header);

		if (i >= 0) {
			const char *v = http_span_ptr(buf, m->headers[i].value);
			uint64_t h1 = idem_hash(t, 0, v, m->headers[i].value.len);
			uint64_t h2 = idem_hash(t, h1, v, m->headers[i].value.len);

			memcpy(id->scope, &h1, 8);
			memcpy(id->scope + 8, &h2, 8);
			id->scope_len = 16;
			return;
		}
		/* no such header: the client's address stands in (never a shared namespace) */
	}
	if (c->peer.v4.sin_family == AF_INET6) {
		memcpy(id->scope, &c->peer.v6.sin6_addr, 16);
		id->scope_len = 16;
	} else {
		memcpy(id->scope, &c->peer.v4.sin_addr, 4);
		id->scope_len = 4;
	}
}

/* Answer the replay in wb[0 .. head + body): the stored head, our fields, the body. */
static void send_replay(struct og_conn *c, uint32_t head_len, uint32_t body_len)
{
	char *d = c->rq->wb->data, extra[REPLAY_EXTRA];
	int n =
	    snprintf(extra, sizeof(extra), "Content-Length: %u\r\n%s%s\r\n", body_len, hdr_replayed,
		     (c->flags & CF_CLOSE)  ? "Connection: close\r\n"
		     : (c->flags & CF_KA10) ? "Connection: keep-alive\r\n"
					    : "");

	memmove(d + head_len + n, d + head_len, body_len);
	memcpy(d + head_len, extra, (size_t)n);
	conn_send_whole(c, (d[9] - '0') * 100 + (d[10] - '0') * 10 + (d[11] - '0'), d,
			head_len + (size_t)n + body_len);
}

/* A large response buffer in c->rq->wb (a replay is copied there). 0, or -ENOMEM. */
static int wb_large(struct og_conn *c)
{
	struct og_worker_priv *p = c->p;

	if (c->rq->wb && c->rq->wb->cap >= OG_BUF_LARGE_CAP)
		return 0;
	buf_put(&p->bufs, c->rq->wb);
	c->rq->wb = buf_get(&p->bufs, OG_BUF_LARGE_CAP);
	return c->rq->wb ? 0 : -ENOMEM;
}

/* Answer the request as verdict <v> says (not IDEM_CLAIMED / IDEM_CHECK_BODY); a replay is in
 * wb: <hl> bytes of head, <bl> of body. */
static void answer(struct og_conn *c, enum idem_verdict v, uint32_t hl, uint32_t bl)
{
	switch (v) {
	case IDEM_REPLAY:
		send_replay(c, hl, bl);
		return;
	case IDEM_IN_FLIGHT:
		conn_respond_error(c, 409, "idempotency-in-flight", 0);
		return;
	case IDEM_NOT_REPLAYABLE:
		conn_respond_error(c, 409, "idempotency-not-replayable", 0);
		return;
	case IDEM_KEY_REUSED:
		conn_respond_error(c, 422, "idempotency-key-reused", 0);
		return;
	default:
		conn_respond_error(c, 503, "idempotency-table-full", 0);
	}
}

static int guard_begin(struct og_conn *c, const struct http_msg *m, const char *buf, int head_len)
{
	struct idem_table *t = route_table(c);
	const struct cfg_idem *ci = &c->rq->rt->cfg->routes[c->rq->route].idem;
	struct og_worker_priv *p = c->p;
	struct idem_id id;
	uint32_t slot = 0, tag = 0, hl = 0, bl = 0;
	uint64_t cl;
	enum idem_verdict v;
	int i;

	/* only methods that change something: a GET with a key is just a GET */
	if (m->method != HTTP_M_POST && m->method != HTTP_M_PATCH)
		return 0;
	i = http_find_header(m, buf, "idempotency-key");
	if (i < 0)
		return 0;
	c->rpos += head_len; /* from here on this request is answered by us or proxied */
	id.key = http_span_ptr(buf, m->headers[i].value);
	id.key_len = m->headers[i].value.len;
	if (!id.key_len || id.key_len > ci->max_key) {
		conn_respond_error(c, 400, "idempotency-key-invalid", 0);
		return 1;
	}
	fill_scope(t, ci, c, m, buf, &id);
	/* the same key must come with the same request: method, target and length now, the
	 * body bytes once read (guard_req_body); no body counts as length 0, chunked as none */
	cl = m->body == HTTP_BODY_LENGTH ? m->content_length
	     : m->body == HTTP_BODY_NONE ? 0
					 : UINT64_MAX;
	id.fp = idem_hash(t, 0, http_span_ptr(buf, m->method_s), m->method_s.len);
	id.fp = idem_hash(t, id.fp, http_span_ptr(buf, m->target), m->target.len);
	id.fp = idem_hash(t, id.fp, &cl, sizeof(cl));
	id.body_fp = 0;
	if (wb_large(c)) {
		conn_close(c);
		return 1;
	}
	v = idem_begin(t, &id, p->now_ms, &slot, &tag, c->rq->wb->data, &hl, &bl);
	if (v == IDEM_CLAIMED || v == IDEM_CHECK_BODY) {
		c->rpos -= head_len; /* proxy_start consumes it */
		c->rq->guard = v == IDEM_CLAIMED ? G_CLAIM : G_CHECK;
		c->rq->guard_slot = slot;
		c->rq->guard_tag = tag;
		c->rq->guard_flags = 0;
		c->rq->guard_head = c->rq->guard_body = 0;
		return 0;
	}
	/* a client waiting for 100 Continue may never send its body: close after */
	if (v == IDEM_REPLAY && (m->flags & HTTP_F_EXPECT_CONTINUE) && m->body != HTTP_BODY_NONE) {
		c->flags |= CF_CLOSE;
		c->rq->body_kind = HTTP_BODY_NONE;
	}
	answer(c, v, hl, bl);
	return 1;
}

static void capture(struct og_conn *c, const void *data, size_t len)
{
	struct idem_table *t = route_table(c);
	uint32_t cap = idem_table_params(t)->max_response,
		 used = c->rq->guard_head + c->rq->guard_body;

	if (c->rq->guard_flags & GF_OVERFLOW)
		return;
	if (len > cap - used) {
		c->rq->guard_flags |= GF_OVERFLOW;
		return;
	}
	memcpy(idem_resp_area(t, c->rq->guard_slot) + used, data, len);
	c->rq->guard_body += (uint32_t)len;
}

static void guard_resp_head(struct og_conn *c, const struct http_msg *m, const char *buf)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "HTTP/1.1 %03d ", m->status);

	/* kept: status line and end-to-end fields; the framing is the replay's own */
	capture(c, line, (size_t)n);
	capture(c, http_span_ptr(buf, m->reason), m->reason.len);
	capture(c, "\r\n", 2);
	for (int i = 0; i < m->n_headers; i++) {
		const struct http_header *h = &m->headers[i];

		if (http_is_hop_by_hop(m, buf, i) || h->kid == HTTP_H_CONTENT_LENGTH ||
		    h->kid == HTTP_H_TRANSFER_ENCODING ||
		    http_span_ieq(buf, h->name, "idempotent-replayed"))
			continue;
		capture(c, http_span_ptr(buf, h->name), h->name.len);
		capture(c, ": ", 2);
		capture(c, http_span_ptr(buf, h->value), h->value.len);
		capture(c, "\r\n", 2);
	}
	c->rq->guard_head = c->rq->guard_body;
	c->rq->guard_body = 0;
	if (m->body == HTTP_BODY_CHUNKED)
		c->rq->guard_flags |= GF_CHUNKED;
}

/* Walk the chunked body at <b> (<len> bytes, already validated by the proxy), handing each
 * piece of data to <fn> in order; returns the decoded length, or -1 when it does not parse.
 * Trailers are dropped, like the proxy's own framing. */
static long chunks_walk(const char *b, size_t len, void (*fn)(void *ctx, const char *d, size_t n),
			void *ctx)
{
	size_t in = 0, out = 0;

	for (;;) {
		uint64_t sz = 0;
		int digits = 0;

		while (in < len && ((b[in] >= '0' && b[in] <= '9') ||
				    ((b[in] | 32) >= 'a' && (b[in] | 32) <= 'f'))) {
			sz = sz * 16 +
			     (uint64_t)(b[in] <= '9' ? b[in] - '0' : (b[in] | 32) - 'a' + 10);
			if (++digits > 15)
				return -1;
			in++;
		}
		if (!digits)
			return -1;
		while (in < len && b[in] != '\n') /* extensions */
			in++;
		if (++in > len)
			return -1;
		if (!sz)
			return (long)out;
		if (sz > len - in)
			return -1;
		fn(ctx, b + in, sz);
		out += sz;
		in += sz;
		if (in < len && b[in] == '\r')
			in++;
		if (in >= len || b[in] != '\n')
			return -1;
		in++;
	}
}

struct dechunk_ctx {
	char *out; /* decoded bytes go here: never ahead of the walk, so in place is safe */
};

static void dechunk_piece(void *ctx, const char *d, size_t n)
{
	struct dechunk_ctx *x = ctx;

	memmove(x->out, d, n);
	x->out += n;
}

/* Decode the chunked body at <b> (<len> bytes) in place; the decoded length or -1. */
static long dechunk(char *b, size_t len)
{
	struct dechunk_ctx x = {b};

	return chunks_walk(b, len, dechunk_piece, &x);
}

struct hash_ctx {
	const struct idem_table *t;
	uint64_t h;
};

static void hash_piece(void *ctx, const char *d, size_t n)
{
	struct hash_ctx *x = ctx;

	x->h = idem_hash_more(x->t, x->h, d, n);
}

/* The fingerprint of a request body: its bytes (chunked framing decoded, so the same bytes
 * in other chunks are the same body). 0 when chunked framing does not parse. */
static uint64_t body_hash(const struct idem_table *t, const char *data, uint32_t len, int chunked)
{
	struct hash_ctx x = {t, idem_hash_more(t, 0, "body", 4)};

	if (!chunked)
		x.h = idem_hash_more(t, x.h, data, len);
	else if (chunks_walk(data, len, hash_piece, &x) < 0)
		return 0;
	return idem_hash(t, x.h, NULL, 0);
}

/*
 * The request body is read as far as it will be before going upstream. The owner of a claim
 * records its hash when it has it whole (else the key keeps only method, target and length).
 * A repeat pinned to its first compares: replay, 409 not-replayable or 422; a body it could
 * not read whole (it outgrew the buffer, or the route streams) cannot be the first's.
 */
static int guard_req_body(struct og_conn *c, const char *data, uint32_t len, int chunked, int whole)
{
	struct idem_table *t = route_table(c);
	uint64_t h = whole ? body_hash(t, data, len, chunked) : 0;
	uint32_t hl = 0, bl = 0;
	enum idem_verdict v;

	if (c->rq->guard == G_CLAIM) {
		/* an empty body with a length is all in the head's fingerprint: its repeats are
		 * answered at once; a chunked one may decode to anything, so it is kept */
		if (h && (len || chunked))
			idem_set_body(t, c->rq->guard_slot, c->rq->guard_tag, h);
		return 0;
	}
	if (wb_large(c)) {
		idem_unpin(t, c->rq->guard_slot, c->rq->guard_tag);
		c->rq->guard = 0;
		conn_close(c);
		return 1;
	}
	v = idem_check_body(t, c->rq->guard_slot, c->rq->guard_tag, h, c->rq->wb->data, &hl, &bl);
	c->rq->guard = 0; /* unpinned */
	answer(c, v, hl, bl);
	return 1;
}

static void guard_resp_body(struct og_conn *c, const char *data, size_t len, int done)
{
	if (len)
		capture(c, data, len);
	if (!done)
		return;
	c->rq->guard_flags |= GF_DONE;
	if ((c->rq->guard_flags & (GF_CHUNKED | GF_OVERFLOW)) == GF_CHUNKED) {
		struct idem_table *t = route_table(c);
		long n = dechunk(idem_resp_area(t, c->rq->guard_slot) + c->rq->guard_head,
				 c->rq->guard_body);

		if (n < 0)
			c->rq->guard_flags |= GF_OVERFLOW;
		else
			c->rq->guard_body = (uint32_t)n;
	}
}

static void guard_end(struct og_conn *c)
{
	struct idem_table *t = route_table(c);
	enum idem_end_kind k;

	if (c->rq->guard == G_CHECK) { /* gave up before its body came: let the entry go */
		idem_unpin(t, c->rq->guard_slot, c->rq->guard_tag);
		c->rq->guard = 0;
		return;
	}
	if ((c->rq->guard_flags & (GF_DONE | GF_OVERFLOW)) == GF_DONE)
		k = IDEM_END_STORE;
	else if (c->rq->up_sent || (c->rq->guard_flags & GF_DONE))
		k = IDEM_END_UNKNOWN; /* it may have acted: never let the key through again */
	else
		k = IDEM_END_RELEASE; /* nothing reached an upstream: a retry may go through */
	idem_end(t, c->rq->guard_slot, c->rq->guard_tag, k, c->p->now_ms, c->rq->guard_head,
		 c->rq->guard_body);
	c->rq->guard = 0;
}

static const struct proxy_guard idem_ops = {
    .begin = guard_begin,
    .req_body = guard_req_body,
    .resp_head = guard_resp_head,
    .resp_body = guard_resp_body,
    .end = guard_end,
};

static void drop_tables(struct og_rt *rt)
{
	for (int i = 0; i < rt->cfg->n_routes; i++) {
		idem_table_put(rt->routes[i].idem);
		rt->routes[i].idem = NULL;
	}
}

int idem_guard_attach(struct og_rt *rt, const struct og_rt *prev)
{
	proxy_set_guard(&idem_ops);
	rt->ext_free = drop_tables;
	for (int i = 0; i < rt->cfg->n_routes; i++) {
		const struct cfg_route *r = &rt->cfg->routes[i];
		struct idem_params ip;
		struct idem_table *t = NULL;

		if (!r->has_idem)
			continue;
		ip.window_ms = r->idem.window_ms;
		ip.max_entries = r->idem.max_entries;
		ip.max_key = r->idem.max_key;
		ip.max_response = r->idem.max_response;
		for (int j = 0; prev && j < prev->cfg->n_routes && !t; j++)
			if (prev->routes[j].idem && !strcmp(prev->cfg->routes[j].name, r->name) &&
			    idem_table_same(prev->routes[j].idem, &ip)) {
				t = prev->routes[j].idem;
				idem_table_get(t);
			}
		if (!t)
			t = idem_table_new(&ip);
		if (!t)
			return -ENOMEM;
		rt->routes[i].idem = t;
	}
	return 0;
}
