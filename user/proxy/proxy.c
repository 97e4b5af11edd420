// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reverse proxy exchange: head rewrite, body streaming both ways with backpressure, safe retries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "front/conn.h"
#include "core/hooks.h"
#include "lib/iow.h"
#include "proxy/fault.h"
#include "proxy/fault_ov.h"
#include "proxy/proxy.h"
#include "proxy/upstream.h"

enum { RS_HEAD = 0, RS_BODY, RS_DONE };
enum { FAIL_CONNECT = 0, FAIL_CONNECT_TIMEOUT, FAIL_RESET, FAIL_TIMEOUT, FAIL_BAD };

static const char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";
static const char crlf[] = "\r\n";
static const char last_chunk[] = "0\r\n\r\n";

static void proxy_attempt(struct og_conn *c, struct og_buf *hb, int prev_status,
			  const char *prev_reason);
static int fault_start(struct og_conn *c, struct og_buf *hb, int any_ov);
static void proxy_go(struct og_conn *c, struct og_buf *hb);
static void proxy_send(struct og_conn *c);
static void proxy_resp_process(struct og_upconn *u);
static int body_collect(struct og_conn *c);
static void proxy_upstream_event(struct og_upconn *u, short what);
static void proxy_upstream_timeout(struct og_upconn *u);

/* The proxy's side of a pooled connection: upstream events come back here, and the end
 * of their callback reclaims the client connections they closed. */
static const struct og_upc_owner proxy_upc_owner = {
    .event = proxy_upstream_event,
    .timeout = proxy_upstream_timeout,
    .cb_end = conn_reap,
};

const struct proxy_guard *proxy_guard;

void proxy_set_guard(const struct proxy_guard *g)
{
	proxy_guard = g;
}

/* Body bytes of the upstream's response (or its end) for the guard, if it holds a claim. */
static inline void guard_body(struct og_conn *c, const char *data, size_t len, int done)
{
	if (c->rq->guard)
		proxy_guard->resp_body(c, data, len, done);
}

static uint32_t fnv1a(const void *data, size_t len)
{
	const unsigned char *b = data;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static int method_idempotent(int m)
{
	return m == HTTP_M_GET || m == HTTP_M_HEAD || m == HTTP_M_PUT || m == HTTP_M_DELETE ||
	       m == HTTP_M_OPTIONS || m == HTTP_M_TRACE;
}

static inline char *put(char *o, const void *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}
#define PUTS(o, lit) put(o, lit, sizeof(lit) - 1)

static char *put_hex(char *o, uint64_t v, int digits)
{
	static const char hx[] = "0123456789abcdef";

	for (int i = digits - 1; i >= 0; i--) {
		o[i] = hx[v & 15];
		v >>= 4;
	}
	return o + digits;
}

/* Is the client one of trusted_proxies (whose X-Forwarded-For is believed)? */
static int peer_trusted(const struct og_conn *c)
{
	const struct config *cfg = c->rq->rt->cfg;
	int v6 = c->peer.v4.sin_family == AF_INET6;
	const void *a =
	    v6 ? (const void *)&c->peer.v6.sin6_addr : (const void *)&c->peer.v4.sin_addr;

	for (int i = 0; i < cfg->n_trusted; i++)
		if (cfg_cidr_match(&cfg->trusted[i], v6 ? AF_INET6 : AF_INET, a))
			return 1;
	return 0;
}

/* Rewrite the request head for the upstream into <out> (<cap> bytes). Returns the length,
 * or -1 when it does not fit. */
static int build_req_head(struct og_conn *c, const struct http_msg *m, const char *buf, char *out,
			  size_t cap)
{
	char *o = out, *end = out + cap;
	char peer[64];
	int plen = conn_peer_text(c, peer, sizeof(peer));
	int xff_seen = 0, trust = peer_trusted(c);

	if ((size_t)m->head_len + 256 + (size_t)plen > cap)
		return -1;
	o = put(o, http_span_ptr(buf, m->method_s), m->method_s.len);
	*o++ = ' ';
	o = put(o, http_span_ptr(buf, m->target), m->target.len);
	o = c->rq->vminor ? PUTS(o, " HTTP/1.1\r\n") : PUTS(o, " HTTP/1.0\r\n");
	for (int i = 0; i < m->n_headers; i++) {
		const struct http_header *h = &m->headers[i];

		if (http_is_hop_by_hop(m, buf, i))
			continue;
		if (i == m->known[HTTP_H_EXPECT])
			continue; /* we answer 100-continue ourselves */
		if (h->kid == HTTP_H_X_FORWARDED_FOR) {
			if (!trust)
				continue; /* anyone could have written it: only our own goes up */
			/* every X-Forwarded-For line folds into the one we append below */
			if (o + h->value.len + 32 > end)
				return -1;
			o = xff_seen ? PUTS(o, ", ") : PUTS(o, "X-Forwarded-For: ");
			o = put(o, http_span_ptr(buf, h->value), h->value.len);
			xff_seen = 1;
			continue;
		}
		if (xff_seen == 1) {
			o = PUTS(o, ", ");
			o = put(o, peer, plen);
			o = PUTS(o, "\r\n");
			xff_seen = 2;
		}
		o = put(o, http_span_ptr(buf, h->name), h->name.len);
		o = PUTS(o, ": ");
		o = put(o, http_span_ptr(buf, h->value), h->value.len);
		o = PUTS(o, "\r\n");
	}
	if (o + 160 + plen > end)
		return -1;
	if (xff_seen == 1) {
		o = PUTS(o, ", ");
		o = put(o, peer, plen);
		o = PUTS(o, "\r\n");
	} else if (!xff_seen) {
		o = PUTS(o, "X-Forwarded-For: ");
		o = put(o, peer, plen);
		o = PUTS(o, "\r\n");
	}
	if (m->known[HTTP_H_X_REQUEST_ID] < 0) {
		/* unique per process run: start time, worker, sequence */
		char *id;

		o = PUTS(o, "X-Request-Id: ");
		id = o;
		o = put_hex(o, og_d.start_wall_s, 8);
		o = put_hex(o, (uint64_t)c->p->w->id, 2);
		o = put_hex(o, ++c->p->proxy->reqid_seq, 14);
		conn_log_req_id(c, id, (size_t)(o - id));
		o = PUTS(o, "\r\n");
	}
	if (m->body == HTTP_BODY_CHUNKED)
		o = PUTS(o, "Transfer-Encoding: chunked\r\n");
	if (!c->rq->vminor)
		o = PUTS(o, "Connection: close\r\n");
	o = PUTS(o, "\r\n");
	return (int)(o - out);
}

/* Rewrite the response head for the client into c->rq->wb. Returns the length or -1. */
static int build_resp_head(struct og_conn *c, struct og_upconn *u, const struct http_msg *m,
			   const char *buf)
{
	struct og_buf *wb = c->rq->wb;
	char *o, *end;

	if (wb && (size_t)m->head_len + 256 > wb->cap - 64) {
		buf_put(&c->p->bufs, wb); /* a small buffer from an earlier answer: too small */
		wb = c->rq->wb = NULL;
	}
	if (!wb)
		wb = c->rq->wb = buf_get(&c->p->bufs, (size_t)m->head_len + 256 + 64);
	if (!wb || (size_t)m->head_len + 256 > wb->cap - 64)
		return -1;
	o = wb->data;
	end = wb->data + wb->cap - 64;
	o = PUTS(o, "HTTP/1.1 ");
	*o++ = (char)('0' + m->status / 100);
	*o++ = (char)('0' + m->status / 10 % 10);
	*o++ = (char)('0' + m->status % 10);
	*o++ = ' ';
	o = put(o, http_span_ptr(buf, m->reason), m->reason.len);
	o = PUTS(o, "\r\n");
	for (int i = 0; i < m->n_headers; i++) {
		const struct http_header *h = &m->headers[i];

		if (http_is_hop_by_hop(m, buf, i))
			continue;
		if (o + h->name.len + h->value.len + 4 > end)
			return -1;
		o = put(o, http_span_ptr(buf, h->name), h->name.len);
		o = PUTS(o, ": ");
		o = put(o, http_span_ptr(buf, h->value), h->value.len);
		o = PUTS(o, "\r\n");
	}
	if (o + 64 > end)
		return -1;
	u->chunk_wrap = 0;
	if (m->body == HTTP_BODY_CHUNKED) {
		o = PUTS(o, "Transfer-Encoding: chunked\r\n");
	} else if (m->body == HTTP_BODY_EOF) {
		if (c->rq->vminor) {
			o = PUTS(o, "Transfer-Encoding: chunked\r\n");
			u->chunk_wrap = 1;
		} else {
			c->flags |= CF_CLOSE; /* HTTP/1.0: the close delimits the body */
		}
	}
	if (c->flags & CF_CLOSE)
		o = PUTS(o, "Connection: close\r\n");
	else if (c->flags & CF_KA10)
		o = PUTS(o, "Connection: keep-alive\r\n");
	o = PUTS(o, "\r\n");
	return (int)(o - wb->data);
}

static void upconn_uncount(struct og_upconn *u)
{
	struct og_worker_priv *p = u->p;

	if (u->counted && u->rt == p->rt)
		p->proxy->pools[u->flat].inflight--;
	u->counted = 0;
}

static const char *fail_reason(int kind, int err)
{
	switch (kind) {
	case FAIL_CONNECT:
		return err == ECONNREFUSED ? "connect-refused" : "connect-failed";
	case FAIL_CONNECT_TIMEOUT:
		return "connect-timeout";
	case FAIL_TIMEOUT:
		return "upstream-timeout";
	case FAIL_BAD:
		return "bad-upstream-response";
	default:
		return "upstream-reset";
	}
}

/* An attempt ended (<status> 0 = transport failure): the request records who answered and
 * how long it took (for its own report), the hooks hear of the attempt. */
static void upstream_attempt_done(struct og_worker_priv *p, struct og_conn *c, int ups, int srv,
				  int status, uint64_t ns)
{
	og_hooks.upstream_done(p->w, ups, srv, status, ns);
	if (c) {
		c->rq->up_ns = ns;
		c->rq->up_srv = (int16_t)(ups << 8 | srv);
	}
}

/* The attempt on <u> failed: retry when that cannot duplicate the request, else answer. */
static void upstream_fail(struct og_upconn *u, int kind, int err)
{
	struct og_conn *c = u->c;
	struct og_worker_priv *p = u->p;
	struct og_buf *hb = u->wb;
	int sent = u->sent_any, got = u->got_any, reused = u->reused;
	int srv = u->srv, ups = u->ups, status, can_retry, stale;
	struct og_rt *rt = u->rt;

	/* A pooled connection the origin closed in the meantime says nothing about the
	 * server: do not count it against the breaker. */
	if (!(reused && kind == FAIL_RESET && !got))
		upstream_report(p, rt, ups, srv, 0);
	upstream_attempt_done(p, c, ups, srv, 0, og_elapsed_ns(worker_cb_ns(p), u->t_sent_ns));
	upconn_uncount(u);
	u->wb = NULL;
	upstream_close(u);
	c->rq->up = NULL;
	if (c->flags & CF_RESP_STARTED) {
		buf_put(&p->bufs, hb);
		conn_close(c);
		return;
	}
	stale = reused && kind == FAIL_RESET && !got;
	can_retry =
	    (c->rq->attempts <= rt->ups[ups].cfg->retries || stale) && hb && !c->rq->body_sent &&
	    (kind == FAIL_CONNECT || kind == FAIL_CONNECT_TIMEOUT || !sent ||
	     (kind == FAIL_RESET && !got &&
	      /* a key lets the upstream dedupe a resend, unless the gateway holds the key
	       * itself (route idempotency): it promises the upstream sees it once */
	      (method_idempotent(c->rq->method) || (stale && c->rq->idem_key && !c->rq->guard))));
	if (can_retry) {
		OG_WSTAT_ADD(p->w, up_retries, 1);
		c->rq->last_srv = (int16_t)srv;
		if (stale && rt == p->rt) {
			/* the origin closed its idle connections (restart, idle timeout): the rest
			 * of this pool is likely stale too; retry on a fresh one, free of charge */
			upstream_purge_server(p, ups, srv);
			c->rq->last_srv = -1;
			c->rq->attempts--;
		}
		status = kind == FAIL_TIMEOUT || kind == FAIL_CONNECT_TIMEOUT ? 504 : 502;
		proxy_attempt(c, hb, status, fail_reason(kind, err));
		return;
	}
	buf_put(&p->bufs, hb);
	OG_WSTAT_ADD(p->w, up_errors, 1);
	status = kind == FAIL_TIMEOUT || kind == FAIL_CONNECT_TIMEOUT ? 504 : 502;
	/* The request body may be half read: conn_respond_error closes in that case. */
	c->rpos += c->rq->body_ready;
	c->rq->body_ready = 0;
	conn_respond_error(c, status, fail_reason(kind, err), 0);
}

static void proxy_start_upstream_timer(struct og_upconn *u, int connect)
{
	const struct cfg_upstream *cu = u->rt->ups[u->ups].cfg;

	tw_arm(&u->p->tw, &u->tm,
	       u->p->now_ms + (connect ? cu->connect_timeout_ms : cu->timeout_ms));
}

/* Start one attempt with request head <hb> (c->rq->up_head_len bytes). A retry (after an
 * answer <prev_status>/<prev_reason>) goes only to another server, unless the failure was a
 * stale pooled connection (last_srv -1); with none left, the first failure is the answer. */
static void proxy_attempt(struct og_conn *c, struct og_buf *hb, int prev_status,
			  const char *prev_reason)
{
	struct og_worker_priv *p = c->p;
	struct og_rt *rt = c->rq->rt;
	int ups = rt->cfg->routes[c->rq->route].upstream;

	for (;;) {
		const char *reason = NULL;
		int srv = upstream_pick(p, rt, ups, c->rq->up_hash, c->rq->last_srv, &reason);
		struct og_upconn *u;

		if (srv >= 0 && srv == c->rq->last_srv) {
			srv = -1; /* the only usable server is the one that just failed */
			reason = NULL;
		}
		if (srv < 0) {
			buf_put(&p->bufs, hb);
			OG_WSTAT_ADD(p->w, up_errors, 1);
			if (prev_status)
				conn_respond_error(c, prev_status, prev_reason, 0);
			else
				conn_respond_error(c, 503, reason, 0);
			return;
		}
		if (upstream_full(p, rt, ups, srv)) {
			/* no idle connection and no room for another: say so at once rather
			 * than pile connections onto a server that is not keeping up */
			buf_put(&p->bufs, hb);
			OG_WSTAT_ADD(p->w, up_errors, 1);
			conn_respond_error(c, 503, "pool-exhausted", 0);
			return;
		}
		c->rq->attempts++;
		u = upstream_get(p, rt, ups, srv, &proxy_upc_owner);
		if (!u) {
			int e = errno;

			upstream_report(p, rt, ups, srv, 0);
			if (c->rq->attempts <= rt->ups[ups].cfg->retries) {
				c->rq->last_srv = (int16_t)srv;
				prev_status = 502;
				prev_reason = fail_reason(FAIL_CONNECT, e);
				continue;
			}
			buf_put(&p->bufs, hb);
			OG_WSTAT_ADD(p->w, up_errors, 1);
			conn_respond_error(c, 502, fail_reason(FAIL_CONNECT, e), 0);
			return;
		}
		u->c = c;
		c->rq->up = u;
		u->wb = hb;
		u->wpos = 0;
		u->wlen = c->rq->up_head_len;
		u->rs = RS_HEAD;
		u->sent_any = u->got_any = u->req_done = 0;
		u->keepalive = 0;
		u->status = 0;
		u->rpos = u->rlen = 0;
		u->counted = rt == p->rt;
		u->t_sent_ns = worker_cb_ns(p);
		if (u->counted)
			p->proxy->pools[u->flat].inflight++;
		if (u->state == UC_CONNECTING) {
			upstream_want(u, EV_WRITE);
			proxy_start_upstream_timer(u, 1);
			return;
		}
		proxy_send(c);
		return;
	}
}

/* Is the request body small enough to read whole before anything goes upstream? A
 * chunked one is read until it ends or outgrows the limit, then streams. */
static int want_buffer(struct og_conn *c, const struct http_msg *m, int head_len)
{
	uint32_t lim = c->rq->rt->cfg->routes[c->rq->route].request_buffer;

	if (!lim || m->body == HTTP_BODY_NONE)
		return 0;
	if (m->body == HTTP_BODY_LENGTH)
		return m->content_length <= lim &&
		       (uint64_t)head_len + 512 + m->content_length <= OG_BUF_LARGE_CAP;
	return 1;
}

/* A buffered request ends before it went anywhere: nothing reached the upstream. */
static void proxy_buffer_refuse(struct og_conn *c, int status, const char *reason)
{
	buf_put(&c->p->bufs, c->rq->up_hb);
	c->rq->up_hb = NULL;
	c->rq->buffering = 0;
	c->rq->body_kind = HTTP_BODY_NONE; /* the rest is never read: the connection closes */
	conn_respond_error(c, status, reason, 1);
}

/* Room for <take> more body bytes behind the head in up_hb (a large buffer when the small
 * one is full). 0, or -ENOSPC when the body outgrew the route's request_buffer (stream it). */
static int buffer_room(struct og_conn *c, uint32_t take)
{
	struct og_buf *hb = c->rq->up_hb, *nb;
	uint32_t lim = c->rq->rt->cfg->routes[c->rq->route].request_buffer;

	if (c->rq->body_buffered + take > lim)
		return -ENOSPC;
	if (c->rq->up_head_len + take <= hb->cap)
		return 0;
	if (hb->cls || c->rq->up_head_len + take > OG_BUF_LARGE_CAP)
		return -ENOSPC;
	nb = buf_get(&c->p->bufs, OG_BUF_LARGE_CAP);
	if (!nb)
		return -ENOSPC;
	memcpy(nb->data, hb->data, c->rq->up_head_len);
	buf_put(&c->p->bufs, hb);
	c->rq->up_hb = nb;
	return 0;
}

/* The request body is as complete as it gets before anything goes upstream: <len> bytes at
 * <data> (chunked framing when <chunked>), all of it when <whole>. The guard may answer the
 * request here (a repeat compared with its first); then <hb> is let go and 1 returned. */
static int guard_req_body(struct og_conn *c, struct og_buf *hb, const char *data, uint32_t len,
			  int chunked, int whole)
{
	struct og_worker_priv *p = c->p;

	if (!c->rq->guard || !proxy_guard->req_body(c, data, len, chunked, whole))
		return 0;
	buf_put(&p->bufs, hb); /* only now: <data> points into it */
	return 1;
}

/*
 * Read a small request body whole into up_hb behind the rewritten head, then go upstream
 * with one self-contained request (which a retry can also resend). An incomplete or
 * invalid body never reaches the upstream: EOF -> 400, the body timer -> 408, bad
 * framing -> 400, over max_body -> 413, each with a close. A chunked body that outgrows
 * request_buffer streams from there on as an unbuffered one does.
 */
static void proxy_buffer(struct og_conn *c)
{
	struct og_worker_priv *p = c->p;
	struct og_buf *hb;
	int chunked = c->rq->body_kind == HTTP_BODY_CHUNKED, all = 0;

	for (;;) {
		int r = body_collect(c), whole = r == 0;
		uint32_t take = c->rq->body_ready;
		ssize_t n;

		if (r < 0 && r != -EAGAIN) {
			proxy_buffer_refuse(c, r == -EMSGSIZE ? 413 : 400,
					    r == -EMSGSIZE ? "body-too-large" : "bad-chunked-body");
			return;
		}
		if (take) {
			if (buffer_room(c, take))
				break; /* stream the rest */
			memcpy(c->rq->up_hb->data + c->rq->up_head_len, c->rb->data + c->rpos,
			       take);
			c->rq->up_head_len += take;
			c->rq->body_buffered += take;
			c->rpos += take;
			c->rq->body_ready = 0;
			if (c->rq->body_kind == HTTP_BODY_LENGTH)
				c->rq->body_left -= take;
		}
		if (whole) {
			c->rq->body_kind = HTTP_BODY_NONE;
			all = 1;
			break;
		}
		n = conn_read(c);
		if (n > 0)
			continue;
		if (n == -EAGAIN) {
			conn_want(c, EV_READ);
			tw_arm(&p->tw, &c->tm, p->now_ms + c->rq->rt->cfg->body_timeout_ms);
			return;
		}
		if (n == 0) {
			c->flags |= CF_PEER_EOF;
			proxy_buffer_refuse(c, 400, "incomplete-body");
			return;
		}
		conn_close(c);
		return;
	}
	hb = c->rq->up_hb;
	c->rq->up_hb = NULL;
	c->rq->buffering = 0;
	tw_disarm(&p->tw, &c->tm);
	if (guard_req_body(c, hb, hb->data + c->rq->up_head_len - c->rq->body_buffered,
			   c->rq->body_buffered, chunked, all))
		return;
	proxy_attempt(c, hb, 0, NULL);
}

void proxy_start(struct og_conn *c, const struct http_msg *m, const char *buf, int head_len)
{
	struct og_worker_priv *p = c->p;
	const struct cfg_upstream *cu =
	    &c->rq->rt->cfg->upstreams[c->rq->rt->cfg->routes[c->rq->route].upstream];
	struct og_buf *hb;
	int n, any_ov;

	tw_disarm(&p->tw, &c->tm); /* the head is in: the upstream's timers rule now */
	if (!c->rq->t_start_ns)
		c->rq->t_start_ns = worker_cb_ns(p); /* a proxied request outlives this callback */
	if (c->rq->rt->routes[c->rq->route].idem && proxy_guard &&
	    proxy_guard->begin(c, m, buf, head_len))
		return; /* answered (replay, or refused) without the upstream */
	c->rq->attempts = 0;
	c->rq->last_srv = -1;
	c->rq->body_ready = 0;
	c->rq->body_sent = 0;
	c->rq->up_hash = 0;
	if (cu->balance == CFG_BAL_HASH_HEADER && cu->hash_header) {
		int i = http_find_header(m, buf, cu->hash_header);

		if (i >= 0)
			c->rq->up_hash =
			    fnv1a(http_span_ptr(buf, m->headers[i].value), m->headers[i].value.len);
	} else if (cu->balance == CFG_BAL_HASH_SOURCE) {
		c->rq->up_hash = c->peer.v4.sin_family == AF_INET6
				     ? fnv1a(&c->peer.v6.sin6_addr, 16)
				     : fnv1a(&c->peer.v4.sin_addr, 4);
	}
	c->rq->idem_key = http_find_header(m, buf, "idempotency-key") >= 0;
	c->rq->buffering = want_buffer(c, m, head_len);
	c->rq->body_buffered = 0;
	hb = buf_get(
	    &p->bufs,
	    (size_t)head_len + 512 +
		(c->rq->buffering && m->body == HTTP_BODY_LENGTH ? (size_t)m->content_length : 0));
	n = hb ? build_req_head(c, m, buf, hb->data, hb->cap) : -1;
	c->rpos += head_len;
	if (n < 0) {
		buf_put(&p->bufs, hb);
		c->rq->buffering = 0;
		c->rq->body_kind = HTTP_BODY_NONE;
		conn_respond_error(c, 431, "headers-too-large", 1);
		return;
	}
	c->rq->up_head_len = (uint32_t)n;
	/* The client waits for our go before sending the body it announced. */
	if ((m->flags & HTTP_F_EXPECT_CONTINUE) && m->body != HTTP_BODY_NONE && c->rq->vminor &&
	    c->rlen == c->rpos) {
		if (write(c->fd, continue_100, sizeof(continue_100) - 1) !=
		    (ssize_t)sizeof(continue_100) - 1) {
			buf_put(&p->bufs, hb);
			c->rq->buffering = 0;
			conn_close(c);
			return;
		}
	}
	/* no fault configured and no override anywhere: one relaxed load */
	any_ov = fault_ov_any();
	if ((any_ov || c->rq->rt->cfg->routes[c->rq->route].has_fault) &&
	    fault_start(c, hb, any_ov))
		return;
	proxy_go(c, hb);
}

/* Go upstream with head <hb>: after reading a small body whole, or at once. */
static void proxy_go(struct og_conn *c, struct og_buf *hb)
{
	if (c->rq->buffering) {
		c->rq->up_hb = hb;
		proxy_buffer(c);
		return;
	}
	if (guard_req_body(c, hb, NULL, 0, 0, c->rq->body_kind == HTTP_BODY_NONE))
		return;
	proxy_attempt(c, hb, 0, NULL);
}

/* Apply the route's injected faults to the request whose upstream head is <hb>: a POST
 * /faults override while one lasts (<any_ov>: some may exist), else the route's fault:
 * section. Returns 1 when it took the request (aborted, or holding it for a delay), 0 to
 * proxy it now. */
static int fault_start(struct og_conn *c, struct og_buf *hb, int any_ov)
{
	struct og_worker_priv *p = c->p;
	const struct cfg_route *r = &c->rq->rt->cfg->routes[c->rq->route];
	const struct cfg_fault *f = r->has_fault ? &r->fault : NULL;
	struct cfg_fault ov;
	struct fault_choice ch;

	if (any_ov && fault_ov_get(c->rq->rt->gen, c->rq->route, p->now_ms, &ov))
		f = &ov;
	if (!f)
		return 0;
	ch = fault_pick(f);

	if (!ch.abort_status && !ch.delay_ms)
		return 0;
	fault_count(c->rq->route, &ch);
	if (ch.abort_status) {
		buf_put(&p->bufs, hb);
		c->rq->buffering = 0;
		conn_respond_error(c, (int)ch.abort_status, "fault-abort", 0);
		return 1;
	}
	/* the client is not read while held (its body waits in the socket); the client timer
	 * is ours until the upstream's take over, and proxy_client_timeout resumes the request */
	c->rq->held = hb;
	c->rq->fault_wait = 1;
	conn_want(c, 0);
	/* from a fresh clock: the tick's may be late on a busy machine, which would shorten it */
	tw_arm(&p->tw, &c->tm, worker_clock(p) + ch.delay_ms);
	return 1;
}

/* How much request body is ready to send at rb[rpos..]. Returns 0 when the whole body has
 * been taken (ready may still be > 0), -EAGAIN when more must be read, -EBADMSG on bad
 * chunked framing, -EMSGSIZE when the body exceeds the route's max_body. */
static int body_collect(struct og_conn *c)
{
	uint32_t avail = c->rlen - c->rpos;

	switch (c->rq->body_kind) {
	case HTTP_BODY_LENGTH:
		c->rq->body_ready = c->rq->body_left < avail ? (uint32_t)c->rq->body_left : avail;
		return c->rq->body_ready == c->rq->body_left ? 0 : -EAGAIN;
	case HTTP_BODY_CHUNKED:
		if (!c->rq->ck.done && avail > c->rq->body_ready) {
			long n =
			    http_chunked_scan(&c->rq->ck, c->rb->data + c->rpos + c->rq->body_ready,
					      avail - c->rq->body_ready);

			if (n < 0)
				return -EBADMSG;
			c->rq->body_ready += (uint32_t)n;
			if (c->rq->ck.body_bytes > c->rq->rt->cfg->routes[c->rq->route].max_body)
				return -EMSGSIZE;
		}
		return c->rq->ck.done ? 0 : -EAGAIN;
	default:
		c->rq->body_ready = 0;
		return 0;
	}
}

/* Push the request (head, then body as it arrives) to the upstream until done or blocked. */
static void proxy_send(struct og_conn *c)
{
	struct og_upconn *u = c->rq->up;
	struct og_worker_priv *p = c->p;

	for (;;) {
		struct iovec iov[2];
		int niov = 0, r = body_collect(c), whole = r == 0;
		ssize_t w;

		if (r < 0 && r != -EAGAIN) {
			/* the upstream saw part of a request we now refuse: it cannot be reused */
			upconn_uncount(u);
			upstream_close(u);
			c->rq->up = NULL;
			c->rq->body_kind = HTTP_BODY_NONE;
			conn_respond_error(c, r == -EMSGSIZE ? 413 : 400,
					   r == -EMSGSIZE ? "body-too-large" : "bad-chunked-body",
					   1);
			return;
		}
		if (u->wpos < u->wlen) {
			iov[niov].iov_base = u->wb->data + u->wpos;
			iov[niov++].iov_len = u->wlen - u->wpos;
		}
		if (c->rq->body_ready) {
			iov[niov].iov_base = c->rb->data + c->rpos;
			iov[niov++].iov_len = c->rq->body_ready;
		}
		if (niov == 0) {
			if (whole) {
				u->req_done = 1;
				c->rq->body_kind = HTTP_BODY_NONE;
				upstream_want(u, EV_READ);
				if (!u->got_any)
					proxy_start_upstream_timer(u, 0);
				/* keep reading the client: EOF and pipelined requests are noticed
				 */
				tw_disarm(&p->tw, &c->tm);
				if (!(c->flags & CF_PEER_EOF))
					conn_want(c, EV_READ);
				return;
			}
			ssize_t n = conn_read(c);

			if (n > 0) {
				tw_arm(&p->tw, &c->tm, p->now_ms + c->rq->rt->cfg->body_timeout_ms);
				continue;
			}
			if (n == -EAGAIN) {
				conn_want(c, EV_READ);
				upstream_want(u, EV_READ);
				/* the client's body timer rules while we wait for its bytes */
				tw_disarm(&p->tw, &u->tm);
				tw_arm(&p->tw, &c->tm, p->now_ms + c->rq->rt->cfg->body_timeout_ms);
				return;
			}
			/* the client went away in the middle of its body */
			conn_close(c);
			return;
		}
		w = og_gather_write(u->fd, iov, niov, p->front->gather);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* backpressure: stop reading the client until the upstream drains
				 */
				upstream_want(u, EV_READ | EV_WRITE);
				conn_want(c, 0);
				proxy_start_upstream_timer(u, 0);
				return;
			}
			upstream_fail(u, FAIL_RESET, errno);
			return;
		}
		u->sent_any = 1;
		c->rq->up_sent = 1;
		if (u->wpos < u->wlen) {
			uint32_t h = u->wlen - u->wpos;

			if ((size_t)w < h) {
				u->wpos += (uint32_t)w;
				continue;
			}
			u->wpos = u->wlen;
			w -= h;
		}
		if (w > 0) {
			c->rq->body_sent = 1;
			c->rpos += (uint32_t)w;
			c->rq->body_ready -= (uint32_t)w;
			if (c->rq->body_kind == HTTP_BODY_LENGTH)
				c->rq->body_left -= (uint64_t)w;
		}
	}
}

/* The exchange is over: pool or close the upstream side, then let the client continue. */
static void proxy_finish(struct og_conn *c, struct og_upconn *u)
{
	struct og_worker_priv *p = c->p;
	int reusable = u->keepalive && u->req_done && u->rlen == u->rpos;

	upstream_attempt_done(p, c, u->ups, u->srv, u->status,
			      og_elapsed_ns(worker_cb_ns(p), u->t_sent_ns));
	upconn_uncount(u);
	u->c = NULL;
	c->rq->up = NULL;
	upstream_release(u, reusable);
	if (c->rq->body_kind != HTTP_BODY_NONE) {
		/* answered before the whole body came: the rest is read and dropped */
		c->rpos += c->rq->body_ready;
		if (c->rq->body_kind == HTTP_BODY_LENGTH)
			c->rq->body_left -= c->rq->body_ready;
		c->rq->body_ready = 0;
	}
	tw_disarm(&p->tw, &c->tm);
	conn_request_done(c);
	conn_continue(c);
}

/* Move what the upstream sent to the client; returns after a flush or when blocked. */
static void proxy_resp_process(struct og_upconn *u)
{
	struct og_conn *c = u->c;
	struct og_worker_priv *p = u->p;
	int n = 0;

	if (u->rs == RS_HEAD) {
		for (;;) {
			struct http_msg *m = u->msg;
			int r;

			if (!m) {
				m = p->front->msg;
				http_msg_init(m);
			}
			r = http_parse_response_head(m, u->rb->data + u->rpos, u->rlen - u->rpos,
						     c->rq->method);
			if (r == HTTP_PARSE_AGAIN) {
				if (!u->msg) {
					/* keep this partial head; the worker gets a fresh scratch
					 */
					struct http_msg *fresh = malloc(sizeof(*fresh));

					if (!fresh) {
						upstream_fail(u, FAIL_BAD, 0);
						return;
					}
					u->msg = m;
					p->front->msg = fresh;
				}
				return;
			}
			if (r < 0 || (m->body == HTTP_BODY_CHUNKED && !c->rq->vminor)) {
				if (u->msg) {
					free(u->msg);
					u->msg = NULL;
				}
				upstream_fail(u, FAIL_BAD, 0);
				return;
			}
			if (m->status < 200) {
				u->rpos +=
				    (uint32_t)r; /* 1xx: we answered 100-continue ourselves */
				if (u->msg) {
					free(u->msg);
					u->msg = NULL;
				}
				continue;
			}
			u->status = m->status;
			u->resp_body = m->body;
			u->resp_left = m->body == HTTP_BODY_LENGTH ? m->content_length : 0;
			u->keepalive = (m->flags & HTTP_F_KEEP_ALIVE) && m->body != HTTP_BODY_EOF;
			if (m->body == HTTP_BODY_CHUNKED)
				http_chunked_init(&u->rck);
			if (p->draining)
				c->flags |= CF_CLOSE;
			n = build_resp_head(c, u, m, u->rb->data + u->rpos);
			if (u->msg) {
				free(u->msg);
				u->msg = NULL;
			}
			if (n < 0) {
				upstream_fail(u, FAIL_BAD, 0);
				return;
			}
			upstream_report(p, u->rt, u->ups, u->srv, u->status);
			if (c->rq->guard) {
				proxy_guard->resp_head(c, m, u->rb->data + u->rpos);
				if (m->body == HTTP_BODY_NONE)
					proxy_guard->resp_body(c, NULL, 0, 1);
			}
			u->rpos += (uint32_t)r;
			c->rq->status = u->status;
			c->flags |= CF_RESP_STARTED;
			c->rq->out[0].iov_base = c->rq->wb->data;
			c->rq->out[0].iov_len = (size_t)n;
			c->rq->nout = 1;
			c->rq->oi = 0;
			u->rs = m->body == HTTP_BODY_NONE ? RS_DONE : RS_BODY;
			break;
		}
	}
	if (u->rs == RS_BODY && u->rlen > u->rpos) {
		uint32_t avail = u->rlen - u->rpos, take = avail;
		int done = 0;

		if (u->resp_body == HTTP_BODY_LENGTH) {
			if (u->resp_left < take)
				take = (uint32_t)u->resp_left;
			u->resp_left -= take;
			done = u->resp_left == 0;
		} else if (u->resp_body == HTTP_BODY_CHUNKED) {
			long k = http_chunked_scan(&u->rck, u->rb->data + u->rpos, avail);

			if (k < 0) {
				upstream_fail(u, FAIL_BAD, 0);
				return;
			}
			take = (uint32_t)k;
			done = u->rck.done;
		}
		if (take || done)
			guard_body(c, u->rb->data + u->rpos, take, done);
		if (take) {
			if (u->chunk_wrap) {
				char *e = u->chunkhdr;
				int len = snprintf(e, sizeof(u->chunkhdr), "%x\r\n", take);

				c->rq->out[c->rq->nout].iov_base = e;
				c->rq->out[c->rq->nout++].iov_len = (size_t)len;
			}
			c->rq->out[c->rq->nout].iov_base = u->rb->data + u->rpos;
			c->rq->out[c->rq->nout++].iov_len = take;
			if (u->chunk_wrap) {
				c->rq->out[c->rq->nout].iov_base = (void *)crlf;
				c->rq->out[c->rq->nout++].iov_len = 2;
			}
			u->rpos += take;
		}
		if (done)
			u->rs = RS_DONE;
	}
	if (c->rq->nout) {
		switch (conn_flush(c)) {
		case 0:
			break;
		case -EAGAIN:
			upstream_want(u, u->evmask & ~EV_READ); /* backpressure */
			return;
		default:
			conn_close(c); /* client gone: proxy_abort drops the upstream side */
			return;
		}
	}
	if (u->rs == RS_DONE)
		proxy_finish(c, u);
}

/* The upstream closed a close-delimited body: finish the client's response. */
static void proxy_eof_done(struct og_upconn *u)
{
	struct og_conn *c = u->c;

	u->keepalive = 0;
	u->rs = RS_DONE;
	guard_body(c, NULL, 0, 1);
	if (u->chunk_wrap) {
		c->rq->out[c->rq->nout].iov_base = (void *)last_chunk;
		c->rq->out[c->rq->nout++].iov_len = sizeof(last_chunk) - 1;
		switch (conn_flush(c)) {
		case 0:
			break;
		case -EAGAIN:
			upstream_want(u, 0);
			return;
		default:
			conn_close(c);
			return;
		}
	}
	proxy_finish(c, u);
}

static void proxy_recv(struct og_upconn *u)
{
	struct og_conn *c = u->c;
	struct og_worker_priv *p = u->p;
	ssize_t n;

	if (c->rq->nout) {
		upstream_want(u, u->evmask & ~EV_READ);
		return;
	}
	if (!u->rb) {
		u->rb = buf_get(&p->bufs, OG_BUF_LARGE_CAP);
		if (!u->rb) {
			upstream_fail(u, FAIL_BAD, 0);
			return;
		}
		u->rpos = u->rlen = 0;
	}
	if (u->rpos == u->rlen)
		u->rpos = u->rlen = 0;
	if (u->rlen == u->rb->cap) {
		if (u->rpos == 0) {
			upstream_fail(u, FAIL_BAD, 0); /* a head larger than our buffer */
			return;
		}
		memmove(u->rb->data, u->rb->data + u->rpos, u->rlen - u->rpos);
		u->rlen -= u->rpos;
		u->rpos = 0;
	}
	n = og_read(u->fd, u->rb->data + u->rlen, u->rb->cap - u->rlen);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		upstream_fail(u, FAIL_RESET, errno);
		return;
	}
	if (n == 0) {
		if (u->rs == RS_BODY && u->resp_body == HTTP_BODY_EOF) {
			proxy_eof_done(u);
			return;
		}
		upstream_fail(u, FAIL_RESET, 0);
		return;
	}
	u->got_any = 1;
	u->rlen += (uint32_t)n;
	proxy_start_upstream_timer(u, 0);
	proxy_resp_process(u);
}

static void proxy_upstream_event(struct og_upconn *u, short what)
{
	struct og_conn *c = u->c;

	if (!c) {
		upstream_close(u);
		return;
	}
	if (u->state == UC_CONNECTING) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err) {
			upstream_fail(u, FAIL_CONNECT, err);
			return;
		}
		u->state = UC_BUSY;
		proxy_send(c);
		return;
	}
	if ((what & EV_WRITE) && !u->req_done) {
		proxy_send(c);
		if (c->state != CS_PROXY || c->rq->up != u)
			return;
	}
	if (what & EV_READ)
		proxy_recv(u);
}

static void proxy_upstream_timeout(struct og_upconn *u)
{
	struct og_conn *c = u->c;

	if (!c) {
		upstream_close(u);
		return;
	}
	if (c->rq->nout) {
		/* waiting on the client, not on the upstream: the client's write timer rules */
		proxy_start_upstream_timer(u, 0);
		return;
	}
	upstream_fail(u, u->state == UC_CONNECTING ? FAIL_CONNECT_TIMEOUT : FAIL_TIMEOUT, 0);
}

void proxy_client_event(struct og_conn *c, short what)
{
	struct og_upconn *u = c->rq->up;

	if (!u) {
		if (c->rq->buffering && (what & EV_READ))
			proxy_buffer(c);
		else if (!c->rq->buffering)
			conn_close(c);
		return;
	}
	if (what & EV_WRITE) {
		switch (conn_flush(c)) {
		case 0:
			break;
		case -EAGAIN:
			return;
		default:
			conn_close(c);
			return;
		}
		if (u->rs == RS_DONE) {
			proxy_finish(c, u);
			return;
		}
		conn_want(c, (c->flags & CF_PEER_EOF) ? 0 : EV_READ);
		upstream_want(u, EV_READ | (u->evmask & EV_WRITE));
		tw_disarm(&c->p->tw, &c->tm);
		if (u->rlen > u->rpos)
			proxy_resp_process(u);
		return;
	}
	if (!(what & EV_READ))
		return;
	if (u->state == UC_BUSY && !u->req_done && !(u->evmask & EV_WRITE)) {
		proxy_send(c);
		return;
	}
	if (u->state == UC_CONNECTING || !u->req_done) {
		conn_want(c, 0); /* body waits until the upstream can take it */
		return;
	}
	/* request sent: bytes now are a pipelined request (kept) or the client's EOF */
	ssize_t n = conn_read(c);

	if (n == 0) {
		c->flags |= CF_PEER_EOF;
		conn_want(c, 0);
	} else if (n == -ENOBUFS) {
		conn_want(c, 0);
	} else if (n < 0 && n != -EAGAIN) {
		conn_close(c);
	}
}

void proxy_client_timeout(struct og_conn *c)
{
	if (c->rq->fault_wait) {
		/* an injected delay is over: go on as if it never happened */
		struct og_buf *hb = c->rq->held;

		c->rq->held = NULL;
		c->rq->fault_wait = 0;
		proxy_go(c, hb);
		return;
	}
	OG_WSTAT_ADD(c->p->w, timeouts, 1);
	OG_WSTAT_ADD(c->p->w,
		     conns_closed[c->rq->nout || !c->rq->up || (c->flags & CF_RESP_STARTED)
				      ? OG_CLOSE_WRITE_TIMEOUT
				      : OG_CLOSE_BODY_TIMEOUT],
		     1);
	if (c->rq->buffering) {
		proxy_buffer_refuse(c, 408, "body-timeout");
		return;
	}
	if (c->rq->nout || !c->rq->up || (c->flags & CF_RESP_STARTED)) {
		conn_close(c); /* write blocked too long */
		return;
	}
	/* the request body stalled */
	upconn_uncount(c->rq->up);
	upstream_close(c->rq->up);
	c->rq->up = NULL;
	conn_respond_error(c, 408, "body-timeout", 1);
}

void proxy_abort(struct og_conn *c)
{
	struct og_upconn *u = c->rq->up;

	if (c->rq->held) { /* closed while an injected delay held the request */
		buf_put(&c->p->bufs, c->rq->held);
		c->rq->held = NULL;
		c->rq->fault_wait = 0;
	}
	buf_put(&c->p->bufs, c->rq->up_hb);
	c->rq->up_hb = NULL;
	c->rq->buffering = 0;
	if (!u)
		return;
	buf_put(&c->p->bufs, u->wb);
	u->wb = NULL;
	upconn_uncount(u);
	upstream_close(u);
	c->rq->up = NULL;
}
