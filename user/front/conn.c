// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Client connection state machine: plain events, own buffers, in-order pipelining, lingering close.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "front/conn.h"
#include "core/hooks.h"
#include "lib/iow.h"
#include "http/normalize.h"
#include "proxy/proxy.h"
#include "front/respond.h"
#include "http/resp_fmt.h"
#include "config/router.h"
#include "proxy/upstream.h"

#define LINGER_MS	 2000 /* how long a closing connection reads leftovers before close() */
#define DEFAULT_MAX_BODY (1024 * 1024)

static void conn_event(evutil_socket_t fd, short what, void *arg);
static void conn_timeout(struct og_timer *t, uint64_t now_ms);
static void conn_process(struct og_conn *c);
static void conn_process_loop(struct og_conn *c);
static void conn_linger(struct og_conn *c);
static int discard_buffered(struct og_conn *c);
static void request_account(struct og_conn *c);
static struct og_req *req_get(struct og_conn *c);
static void req_put(struct og_conn *c);

static struct http_msg *msg_new(struct og_worker_priv *p)
{
	struct http_msg *m = p->msg_free;

	if (m) {
		p->msg_free = *(struct http_msg **)m;
		return m;
	}
	return malloc(sizeof(*m));
}

static void msg_put(struct og_worker_priv *p, struct http_msg *m)
{
	*(struct http_msg **)m = p->msg_free;
	p->msg_free = m;
}

/* The request record for a new request on <c> (reused across pipelined requests). */
static struct og_req *req_get(struct og_conn *c)
{
	struct og_worker_priv *p = c->p;
	struct og_req *rq = c->rq;
	struct og_buf *wb = NULL;

	if (rq) {
		wb = rq->wb; /* keep the output buffer of the previous pipelined answer */
		buf_put(&p->bufs, rq->lb);
	} else if ((rq = p->req_free) != NULL) {
		p->req_free = rq->next_free;
	} else if (!(rq = malloc(sizeof(*rq)))) {
		return NULL;
	}
	memset(rq, 0, sizeof(*rq));
	rq->wb = wb;
	rq->route = -1;
	rq->up_srv = -1;
	rq->last_srv = -1;
	c->rq = rq;
	return rq;
}

/* Give <c>'s request record (and its buffers) back: the connection is idle or closing. */
static void req_put(struct og_conn *c)
{
	struct og_worker_priv *p = c->p;
	struct og_req *rq = c->rq;

	if (!rq)
		return;
	buf_put(&p->bufs, rq->wb);
	buf_put(&p->bufs, rq->lb);
	rq->wb = rq->lb = NULL;
	rq->next_free = p->req_free;
	p->req_free = rq;
	c->rq = NULL;
}

void conn_want(struct og_conn *c, short mask)
{
	if (c->evmask == mask || c->state == CS_CLOSED)
		return;
	if (c->evmask)
		event_del(&c->ev);
	c->evmask = mask;
	if (mask) {
		event_assign(&c->ev, c->p->w->base, c->fd, mask | EV_PERSIST, conn_event, c);
		event_add(&c->ev, NULL);
	}
}

static void set_idle(struct og_conn *c, int idle)
{
	if (idle && !(c->flags & CF_IDLE)) {
		c->flags |= CF_IDLE;
		OG_WSTAT_ADD(c->p->w, conns_idle, 1);
	} else if (!idle && (c->flags & CF_IDLE)) {
		c->flags &= ~CF_IDLE;
		OG_WSTAT_ADD(c->p->w, conns_idle, -1);
	}
}

/* Was <fd> accepted on one of order_reserve's ports? (asked only near the limit) */
static int on_order_port(int fd, const struct config *cfg)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	uint16_t port;

	if (getsockname(fd, (struct sockaddr *)&ss, &l))
		return 0;
	port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
	for (int i = 0; i < cfg->order_reserve.n_ports; i++)
		if (cfg->order_reserve.ports[i] == port)
			return 1;
	return 0;
}

int conn_shed_one(struct og_worker_priv *p)
{
	struct og_conn *head = NULL, *idle = NULL;

	/* the list is newest first: the last match is the oldest */
	for (struct og_conn *c = p->conns; c; c = c->next) {
		if (c->state != CS_HEAD || (c->flags & CF_INPROC))
			continue;
		if (c->rlen > c->rpos)
			head = c; /* part of a head, waiting for the rest (slowloris) */
		else if (!c->rq)
			idle = c; /* idle keep-alive */
	}
	if (!head)
		head = idle;
	if (!head)
		return 0;
	OG_WSTAT_ADD(p->w, conns_closed[OG_CLOSE_SHED], 1);
	conn_close(head);
	return 1;
}

/* Room for one more client connection on <fd>? Up to max_connections (bounded by what the
 * descriptor limit allows) minus the order reserve anyone may use; the reserve only
 * connections on order_reserve's ports. Without room, the oldest incomplete head (then the
 * oldest idle connection) is shed for the new one; with nothing to shed, no. */
static int conn_room(struct og_worker_priv *p, int fd, const struct config *cfg)
{
	uint32_t cap = cfg->max_connections, res = 0;

	if (og_d.conn_cap && og_d.conn_cap < cap)
		cap = og_d.conn_cap;
	if (cfg->order_reserve.n_ports)
		res = (uint32_t)((uint64_t)cap * cfg->order_reserve.percent / 100);
	if (p->n_conns < cap - res)
		return 1;
	if (p->n_conns < cap && res && on_order_port(fd, cfg))
		return 1;
	return conn_shed_one(p);
}

void conn_accept(struct og_worker_priv *p, int fd, const struct sockaddr *peer, socklen_t plen,
		 int read_now)
{
	struct og_conn *c = p->conn_free;
	const struct og_rt *rt = p->rt;

	if (!conn_room(p, fd, rt->cfg)) {
		OG_WSTAT_ADD(p->w, conns_closed[OG_CLOSE_LIMIT], 1);
		close(fd);
		return;
	}
	if (c) {
		p->conn_free = c->next;
		p->n_conn_free--;
	} else {
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
	}
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->fd = fd;
	c->tm.cb = conn_timeout;
	if (plen > sizeof(c->peer))
		plen = sizeof(c->peer);
	memcpy(&c->peer, peer, plen);
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	p->n_conns++;
	OG_WSTAT_ADD(p->w, conns_accepted, 1);
	OG_WSTAT_ADD(p->w, conns_active, 1);
	set_idle(c, 1);
	c->idle_since_ms = p->now_ms;
	tw_arm(&p->tw, &c->tm, p->now_ms + rt->cfg->header_timeout_ms);
	conn_want(c, EV_READ);
	/* A client sends its request right after the handshake, so by the time we accept
	 * it is usually here: read now and save a loop pass. */
	if (read_now)
		conn_event(fd, EV_READ, c);
}

void conn_close(struct og_conn *c)
{
	struct og_worker_priv *p = c->p;

	if (c->state == CS_CLOSED)
		return;
	if (c->rq && (c->state == CS_PROXY || c->rq->up))
		proxy_abort(c);
	if (c->rq && c->rq->rt)
		request_account(c); /* status 0 when closed unanswered */
	if (c->evmask)
		event_del(&c->ev);
	c->evmask = 0;
	tw_disarm(&p->tw, &c->tm);
	if (c->lane_pin)
		og_hooks.conn_close(c);
	close(c->fd);
	c->fd = -1;
	set_idle(c, 0);
	buf_put(&p->bufs, c->rb);
	c->rb = NULL;
	req_put(c);
	if (c->msg) {
		msg_put(p, c->msg);
		c->msg = NULL;
	}
	/* unlink from the live list, park on the zombie list until the callback ends */
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->state = CS_CLOSED;
	c->next = p->zombies;
	p->zombies = c;
	p->n_conns--;
	OG_WSTAT_ADD(p->w, conns_active, -1);
	worker_conn_closed(p);
}

void conn_reap(struct og_worker_priv *p)
{
	if (p->up_zombies)
		upstream_reap(p);
	while (p->zombies) {
		struct og_conn *c = p->zombies;

		p->zombies = c->next;
		if (p->n_conn_free < 1024) {
			c->next = p->conn_free;
			p->conn_free = c;
			p->n_conn_free++;
		} else {
			free(c);
		}
	}
}

ssize_t conn_read(struct og_conn *c)
{
	struct og_worker_priv *p = c->p;
	struct og_buf *b = c->rb;
	ssize_t n;

	if (!b) {
		b = c->rb = buf_get(&p->bufs, OG_BUF_SMALL_CAP);
		if (!b)
			return -ENOMEM;
		c->rpos = c->rlen = 0;
	}
	if (c->rpos == c->rlen)
		c->rpos = c->rlen = 0;
	if (c->rlen == b->cap) {
		if (c->rpos > 0) {
			memmove(b->data, b->data + c->rpos, c->rlen - c->rpos);
			c->rlen -= c->rpos;
			c->rpos = 0;
		} else if (b->cls == 0) {
			struct og_buf *nb = buf_get(&p->bufs, OG_BUF_LARGE_CAP);

			if (!nb)
				return -ENOMEM;
			memcpy(nb->data, b->data, c->rlen);
			buf_put(&p->bufs, b);
			b = c->rb = nb;
		} else {
			return -ENOBUFS;
		}
	}
	n = og_read(c->fd, b->data + c->rlen, b->cap - c->rlen);
	if (n > 0) {
		/* a request's clock starts with the read that brought its first byte: the
		 * pass's cached clock, which is when epoll saw the bytes waiting */
		c->t_read_ns = worker_cb_ns(p);
		if (c->rpos == c->rlen)
			c->t_head_ns = c->t_read_ns;
		c->rlen += n;
		if (c->rq)
			c->rq->bytes_in += n;
		OG_WSTAT_ADD(p->w, bytes_in, n);
		return n;
	}
	if (n == 0)
		return 0;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
}

int conn_flush(struct og_conn *c)
{
	struct og_worker_priv *p = c->p;

	while (c->rq->oi < c->rq->nout) {
		ssize_t n = og_gather_write(c->fd, &c->rq->out[c->rq->oi], c->rq->nout - c->rq->oi,
					    p->gather);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		c->rq->bytes_out += n;
		OG_WSTAT_ADD(p->w, bytes_out, n);
		og_iov_advance(c->rq->out, &c->rq->oi, c->rq->nout, (size_t)n);
	}
	if (c->rq->oi == c->rq->nout) {
		c->rq->oi = c->rq->nout = 0;
		c->rq->out_volatile = 0;
		c->rq->out_cached = 0;
		return 0;
	}
	/* The worker's cached copy is rewritten when the second turns: point at the pieces. */
	if (c->rq->out_cached)
		respond_direct_unshare(c);
	/* Short write: memory that changes under us (the worker's Date line) gets copied. */
	for (int i = c->rq->oi; i < c->rq->nout; i++) {
		if (!(c->rq->out_volatile & (1u << i)))
			continue;
		if (!c->rq->wb)
			c->rq->wb = buf_get(&p->bufs, OG_BUF_SMALL_CAP);
		if (!c->rq->wb || c->rq->out[i].iov_len > 64)
			return -ENOMEM;
		/* the top of wb is reserved for such copies (heads are written from offset 0) */
		char *dst = c->rq->wb->data + c->rq->wb->cap - 64;
		memcpy(dst, c->rq->out[i].iov_base, c->rq->out[i].iov_len);
		c->rq->out[i].iov_base = dst;
	}
	c->rq->out_volatile = 0;
	if (!c->rq->t_start_ns)
		c->rq->t_start_ns = worker_cb_ns(p); /* outlives its callback: see conn_dispatch */
	tw_arm(&p->tw, &c->tm, p->now_ms + (c->rq->rt ? c->rq->rt : p->rt)->cfg->write_timeout_ms);
	conn_want(c, EV_WRITE);
	return -EAGAIN;
}

int conn_peer_text(const struct og_conn *c, char *out, size_t outlen)
{
	const void *a = c->peer.v4.sin_family == AF_INET6 ? (const void *)&c->peer.v6.sin6_addr
							  : (const void *)&c->peer.v4.sin_addr;

	if (c->peer.v4.sin_family == AF_INET && outlen >= 16) {
		/* per proxied request: glibc's inet_ntop goes through sprintf */
		const unsigned char *b = a;
		char *o = out;

		for (int i = 0; i < 4; i++) {
			unsigned v = b[i];

			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
			if (i < 3)
				*o++ = '.';
		}
		*o = 0;
		return (int)(o - out);
	}
	if (!inet_ntop(c->peer.v4.sin_family, a, out, outlen)) {
		out[0] = 0;
		return 0;
	}
	return (int)strlen(out);
}

/* Tell the hooks what happened to the current request (one record, one call). */
static void request_report(const struct og_conn *c)
{
	const struct og_req *rq = c->rq;
	struct og_req_detail d;
	struct og_req_event e;

	e.route = rq->route;
	e.up_srv = rq->up_srv;
	e.status = rq->status;
	e.lane = rq->lane;
	e.lane_flags = rq->lane_flags;
	/* first byte of the head to last byte of the response: a fresh clock read, so a
	 * direct answer given in the pass that read its head is not 0 */
	e.dur_ns = rq->t_start_ns ? og_elapsed_ns(worker_now_ns(c->p), rq->t_start_ns) : 0;
	e.up_ns = rq->up_ns;
	e.bytes_in = rq->bytes_in;
	e.bytes_out = rq->bytes_out;
	e.cfg = rq->rt->cfg;
	e.client = (const struct sockaddr *)&c->peer;
	e.detail = NULL;
	if (rq->lb) {
		/* capture_log's layout: u16 id_len, u16 method_len, u16 path_len, pad, id[64],
		 * method, path; no lb when the parser refused the head */
		const uint16_t *h = (const uint16_t *)rq->lb->data;

		d.req_id = rq->lb->data + 8;
		d.req_id_len = h[0];
		d.method = rq->lb->data + 72;
		d.method_len = h[1];
		d.path = d.method + h[1];
		d.path_len = h[2];
		e.detail = &d;
	}
	og_hooks.request_done(c->p->w, &e);
}

/* The request is over from the client's point of view: report it, drop the runtime ref. */
static void request_account(struct og_conn *c)
{
	struct og_worker_priv *p = c->p;

	if (!c->rq || !c->rq->rt)
		return;
	if (c->rq->guard)
		proxy_guard->end(c); /* before the runtime (and the guard's table) is let go */
	OG_WSTAT_ADD(p->w, responses[c->rq->status / 100 <= 5 ? c->rq->status / 100 : 0], 1);
	request_report(c);
	worker_rt_put(p, c->rq->rt);
	c->rq->rt = NULL;
	if (c->rq->lb) {
		buf_put(&p->bufs, c->rq->lb);
		c->rq->lb = NULL;
	}
}

void conn_request_done(struct og_conn *c)
{
	struct og_worker_priv *p = c->p;

	request_account(c);
	c->rq->up = NULL;
	if (c->flags & CF_CLOSE) {
		conn_linger(c);
		return;
	}
	/* The request body may still be arriving (direct answer before the body): drop it. */
	if (c->rq->body_kind != HTTP_BODY_NONE) {
		int r = discard_buffered(c);

		if (r == -EAGAIN) {
			c->state = CS_DISCARD;
			tw_arm(&p->tw, &c->tm, p->now_ms + p->rt->cfg->body_timeout_ms);
			conn_want(c, EV_READ);
			return;
		}
		if (r < 0) {
			conn_linger(c);
			return;
		}
		c->rq->body_kind = HTTP_BODY_NONE;
	}
	c->state = CS_HEAD;
	c->flags &= CF_KEEP;
	c->rq->status = 0;
	if (c->rq->wb && c->rq->nout == 0) {
		buf_put(&p->bufs, c->rq->wb);
		c->rq->wb = NULL;
	}
	conn_want(c, EV_READ);
}

/* Shut our write side after the response and read leftovers until EOF, like nginx's
 * lingering close, so a client still sending does not get a reset that eats the answer. */
static void conn_linger(struct og_conn *c)
{
	struct og_worker_priv *p = c->p;

	request_account(c);
	if (c->flags & CF_PEER_EOF) {
		conn_close(c);
		return;
	}
	shutdown(c->fd, SHUT_WR);
	c->state = CS_LINGER;
	c->rq->body_kind = HTTP_BODY_NONE;
	tw_arm(&p->tw, &c->tm, p->now_ms + LINGER_MS);
	conn_want(c, EV_READ);
}

void conn_respond_error(struct og_conn *c, int status, const char *reason, int close)
{
	struct og_worker_priv *p = c->p;
	int n;

	og_hooks.error(p->w, reason);
	if (c->flags & CF_RESP_STARTED) {
		/* Part of a response is out already: closing is the only honest signal. */
		c->rq->status = c->rq->status ? c->rq->status : (uint16_t)status;
		conn_close(c);
		return;
	}
	if (close || p->draining)
		c->flags |= CF_CLOSE;
	/* A body we did not read would be parsed as the next request: close instead. */
	if (c->rq->body_kind != HTTP_BODY_NONE)
		c->flags |= CF_CLOSE;
	if (!c->rq->wb)
		c->rq->wb = buf_get(&p->bufs, OG_BUF_SMALL_CAP);
	if (!c->rq->wb) {
		conn_close(c);
		return;
	}
	n = resp_fmt_error(c->rq->wb->data, c->rq->wb->cap - 64, status, reason,
			   c->flags & CF_CLOSE, (c->flags & CF_KA10) != 0,
			   (c->flags & CF_HEAD) != 0, p->date_line, p->date_len,
			   status == 429 ? c->rq->retry_after : 0);
	c->rq->body_kind = HTTP_BODY_NONE;
	conn_send_whole(c, status, c->rq->wb->data, (size_t)n);
}

void conn_send_whole(struct og_conn *c, int status, char *data, size_t len)
{
	c->rq->status = (uint16_t)status;
	c->flags |= CF_RESP_STARTED;
	c->rq->out[0].iov_base = data;
	c->rq->out[0].iov_len = len;
	c->rq->nout = 1;
	c->rq->oi = 0;
	c->rq->out_volatile = 0;
	c->rq->out_cached = 0;
	c->state = CS_WRITING;
	switch (conn_flush(c)) {
	case 0:
		conn_request_done(c);
		conn_continue(c);
		break;
	case -EAGAIN:
		break;
	default:
		conn_close(c);
	}
}

/* Refuse a request the parser rejected: its status, Connection: close, lingering close. */
static void conn_reject(struct og_conn *c, int status, const char *reason)
{
	OG_WSTAT_ADD(c->p->w, parse_errors, 1);
	if (!req_get(c)) {
		conn_close(c);
		return;
	}
	if (!c->rq->rt) {
		/* no head was accepted: a fresh request record for metrics and the log */
		c->rq->rt = worker_rt_get(c->p);
		c->rq->t_start_ns = c->t_head_ns ? c->t_head_ns : worker_cb_ns(c->p);
		c->rq->route = -1;
		c->rq->up_srv = -1;
		c->rq->bytes_in = c->rlen - c->rpos;
		c->rq->bytes_out = 0;
		c->rq->status = 0;
	}
	c->rq->body_kind = HTTP_BODY_NONE;
	conn_respond_error(c, status, reason, 1);
}

static const char *reject_reason(int status)
{
	switch (status) {
	case 400:
		return "bad-request";
	case 408:
		return "request-timeout";
	case 413:
		return "body-too-large";
	case 414:
		return "uri-too-long";
	case 417:
		return "expectation-failed";
	case 431:
		return "headers-too-large";
	case 501:
		return "not-implemented";
	case 505:
		return "version-not-supported";
	default:
		return "bad-request";
	}
}

/* Consume the request body bytes already buffered (after a direct answer). Returns 0 when
 * the body is complete, -EAGAIN when more must be read, -EBADMSG on bad chunked framing. */
static int discard_buffered(struct og_conn *c)
{
	uint32_t avail = c->rlen - c->rpos;

	if (c->rq->body_kind == HTTP_BODY_LENGTH) {
		uint64_t take = c->rq->body_left < avail ? c->rq->body_left : avail;

		c->rpos += (uint32_t)take;
		c->rq->body_left -= take;
		return c->rq->body_left == 0 ? 0 : -EAGAIN;
	}
	if (c->rq->body_kind == HTTP_BODY_CHUNKED) {
		long n = http_chunked_scan(&c->rq->ck, c->rb ? c->rb->data + c->rpos : "", avail);

		if (n < 0)
			return -EBADMSG;
		c->rpos += (uint32_t)n;
		return c->rq->ck.done ? 0 : -EAGAIN;
	}
	return 0;
}

/* Keep what the access log needs of this request (the input buffer moves on). */
static void capture_log(struct og_conn *c, const struct http_msg *m, const char *buf)
{
	struct og_buf *lb = c->rq->lb;
	uint16_t *h;
	uint32_t ml = m->method_s.len, pl = m->target.len;

	if (!lb)
		lb = c->rq->lb = buf_get(&c->p->bufs, OG_BUF_SMALL_CAP);
	if (!lb)
		return;
	h = (uint16_t *)lb->data;
	if (ml > 64)
		ml = 64;
	if (pl > lb->cap - 72 - ml)
		pl = lb->cap - 72 - ml;
	h[0] = 0;
	if (m->known[HTTP_H_X_REQUEST_ID] >= 0) {
		struct http_span v = m->headers[m->known[HTTP_H_X_REQUEST_ID]].value;

		h[0] = (uint16_t)(v.len < 64 ? v.len : 64);
		memcpy(lb->data + 8, buf + v.off, h[0]);
	}
	h[1] = (uint16_t)ml;
	h[2] = (uint16_t)pl;
	memcpy(lb->data + 72, buf + m->method_s.off, ml);
	memcpy(lb->data + 72 + ml, buf + m->target.off, pl);
}

/* The request id the proxy generated, for the access log. */
void conn_log_req_id(struct og_conn *c, const char *id, size_t len)
{
	if (!c->rq->lb || len > 64)
		return;
	memcpy(c->rq->lb->data + 8, id, len);
	((uint16_t *)c->rq->lb->data)[0] = (uint16_t)len;
}

/* A complete head is in rb at rpos: route it and answer or hand it to the proxy. */
static void conn_dispatch(struct og_conn *c, struct http_msg *m, int head_len)
{
	struct og_worker_priv *p = c->p;
	const char *buf = c->rb->data + c->rpos;
	struct og_rt *rt;
	const struct config *cfg;
	uint64_t max_body;
	int route;

	if (!req_get(c)) {
		conn_close(c);
		return;
	}
	/* from the read that brought the head's first byte; a pipelined head behind this one
	 * came with the last read at the latest */
	c->rq->t_start_ns = c->t_head_ns;
	c->t_head_ns = c->t_read_ns;
	c->rq->up_srv = -1;
	c->rq->up_ns = 0;
	if (og_hook_detail_on())
		capture_log(c, m, buf);
	c->rq->bytes_in = head_len;
	c->rq->bytes_out = 0;
	OG_WSTAT_ADD(p->w, requests, 1);
	c->rq->rt = rt = worker_rt_get(p);
	cfg = rt->cfg;
	c->rq->method = m->method;
	c->rq->vminor = m->version_minor;
	c->rq->body_kind = m->body;
	c->rq->body_left = m->body == HTTP_BODY_LENGTH ? m->content_length : 0;
	if (m->body == HTTP_BODY_CHUNKED)
		http_chunked_init(&c->rq->ck);
	c->flags &= CF_KEEP;
	if (m->method == HTTP_M_HEAD)
		c->flags |= CF_HEAD;
	if (!(m->flags & HTTP_F_KEEP_ALIVE) || p->draining)
		c->flags |= CF_CLOSE;
	else if (m->version_minor == 0)
		c->flags |= CF_KA10;

	/* Route on the normalised path and forward that same target: a route policy must
	 * not depend on how the client spelled the path. */
	if (http_msg_normalize(m, c->rb->data + c->rpos) < 0) {
		c->rpos += head_len;
		c->rq->body_kind = HTTP_BODY_NONE; /* never read: the connection closes */
		OG_WSTAT_ADD(p->w, parse_errors, 1);
		conn_respond_error(c, 400, "bad-path", 1);
		return;
	}
	c->rq->route = (int16_t)(route = router_match(cfg, m, buf));
	max_body = route >= 0 ? cfg->routes[route].max_body : DEFAULT_MAX_BODY;
	if (m->body == HTTP_BODY_LENGTH && m->content_length > max_body) {
		c->rpos += head_len;
		c->rq->body_kind = HTTP_BODY_NONE; /* never read: the connection closes */
		conn_respond_error(c, 413, "body-too-large", 1);
		return;
	}
	if (cfg->lanes_active) {
		const char *why = og_hooks.admit(c, m, buf, cfg, route);

		if (why) {
			c->rpos += head_len;
			if ((m->flags & HTTP_F_EXPECT_CONTINUE) && m->body != HTTP_BODY_NONE)
				c->rq->body_kind = HTTP_BODY_NONE; /* never sent: closes */
			conn_respond_error(c, 429, why, 0);
			return;
		}
	}
	if (route >= 0 && !cfg->routes[route].is_respond) {
		c->state = CS_PROXY;
		proxy_start(c, m, buf, head_len);
		return;
	}
	/* Direct answer (or 404): the client may be waiting for 100 Continue to send the
	 * body it announced; we answer without it, so it may never send it: close then. */
	c->rpos += head_len;
	if ((m->flags & HTTP_F_EXPECT_CONTINUE) && m->body != HTTP_BODY_NONE) {
		c->flags |= CF_CLOSE;
		c->rq->body_kind = HTTP_BODY_NONE;
	}
	if (route < 0) {
		conn_respond_error(c, 404, "no-route", 0);
		return;
	}
	c->state = CS_WRITING;
	c->rq->status = cfg->routes[route].status;
	c->flags |= CF_RESP_STARTED;
	respond_direct(c, &rt->routes[route]);
	switch (conn_flush(c)) {
	case 0:
		conn_request_done(c);
		break;
	case -EAGAIN:
		break;
	default:
		conn_close(c);
	}
}

/* Parse and serve every complete request in rb, in order, while responses go out at once. */
void conn_continue(struct og_conn *c)
{
	if (c->state == CS_HEAD && !(c->flags & CF_INPROC))
		conn_process(c);
}

static void conn_process(struct og_conn *c)
{
	c->flags |= CF_INPROC;
	conn_process_loop(c);
	if (c->state != CS_CLOSED)
		c->flags &= ~CF_INPROC;
}

static void conn_process_loop(struct og_conn *c)
{
	struct og_worker_priv *p = c->p;

	while (c->state == CS_HEAD) {
		uint32_t avail = c->rlen - c->rpos;
		struct http_msg *m;
		int r;

		if (avail == 0) {
			if (c->msg) {
				msg_put(p, c->msg);
				c->msg = NULL;
			}
			if (c->rb) {
				buf_put(&p->bufs, c->rb);
				c->rb = NULL;
				c->rpos = c->rlen = 0;
			}
			req_put(c);
			if (c->flags & CF_PEER_EOF) {
				conn_close(c);
				return;
			}
			set_idle(c, 1);
			c->idle_since_ms = p->now_ms;
			tw_arm(&p->tw, &c->tm, p->now_ms + p->rt->cfg->keepalive_timeout_ms);
			return;
		}
		if (c->flags & CF_IDLE)
			set_idle(c, 0);
		m = c->msg;
		if (!m) {
			m = p->msg;
			http_msg_init(m);
		}
		r = http_parse_request_head(m, c->rb->data + c->rpos, avail);
		if (r == HTTP_PARSE_AGAIN) {
			if (!c->msg) {
				struct http_msg *fresh = msg_new(p);

				if (!fresh) {
					conn_close(c);
					return;
				}
				c->msg = m;
				p->msg = fresh;
				/* first bytes of a head that did not come whole: the rest must come
				 * within the header timeout. A head that comes in one read (the
				 * usual case) costs no timer work. */
				tw_arm(&p->tw, &c->tm, p->now_ms + p->rt->cfg->header_timeout_ms);
			}
			if (c->flags & CF_PEER_EOF) {
				conn_reject(c, 400, "incomplete-request");
				return;
			}
			return;
		}
		if (r < 0) {
			conn_reject(c, -r, reject_reason(-r));
			return;
		}
		conn_dispatch(c, m, r);
		if (c->msg) {
			msg_put(p, c->msg);
			c->msg = NULL;
		}
		if (c->state == CS_CLOSED)
			return;
	}
}

static void conn_on_read(struct og_conn *c)
{
	ssize_t n;

	for (;;) {
		switch (c->state) {
		case CS_HEAD:
			n = conn_read(c);
			if (n > 0) {
				conn_process(c);
				return;
			}
			if (n == -EAGAIN) {
				if (c->rlen == 0 && !c->msg && c->rb) {
					/* nothing came: an idle connection holds no buffer */
					buf_put(&c->p->bufs, c->rb);
					c->rb = NULL;
				}
				return;
			}
			if (n == -ENOBUFS) {
				conn_reject(c, 431, "headers-too-large");
				return;
			}
			if (n == 0 && c->rlen > c->rpos) {
				c->flags |= CF_PEER_EOF;
				conn_reject(c, 400, "incomplete-request");
				return;
			}
			conn_close(c); /* EOF or error between requests: a quiet close is right */
			return;
		case CS_DISCARD: {
			int r = discard_buffered(c);

			if (r < 0 && r != -EAGAIN) {
				c->flags |= CF_CLOSE;
				c->rq->body_kind = HTTP_BODY_NONE;
				conn_linger(c);
				return;
			}
			if (r == 0) {
				c->rq->body_kind = HTTP_BODY_NONE;
				c->state = CS_HEAD;
				conn_process(c);
				return;
			}
			n = conn_read(c);
			if (n > 0)
				continue;
			if (n != -EAGAIN)
				conn_close(c);
			return;
		}
		case CS_LINGER: {
			char sink[4096];

			do {
				n = read(c->fd, sink, sizeof(sink));
			} while (n > 0);
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				conn_close(c);
			return;
		}
		case CS_PROXY:
			proxy_client_event(c, EV_READ);
			return;
		default:
			conn_want(c, c->evmask & ~EV_READ);
			return;
		}
	}
}

static void conn_event(evutil_socket_t fd, short what, void *arg)
{
	struct og_conn *c = arg;
	struct og_worker_priv *p = c->p;

	/* p->now_ms comes from the 16 ms tick: as fine as the timer wheel, and no clock
	 * read per event */
	if (what & EV_WRITE) {
		if (c->state == CS_PROXY) {
			proxy_client_event(c, EV_WRITE);
		} else if (c->state == CS_WRITING) {
			switch (conn_flush(c)) {
			case 0:
				conn_request_done(c);
				if (c->state == CS_HEAD)
					conn_process(c);
				break;
			case -EAGAIN:
				break;
			default:
				conn_close(c);
			}
		}
	}
	if ((what & EV_READ) && c->state != CS_CLOSED)
		conn_on_read(c);
	if (!(what & EV_TIMEOUT)) /* EV_TIMEOUT marks internal calls: the caller reaps */
		conn_reap(p);
}

static void conn_timeout(struct og_timer *t, uint64_t now_ms)
{
	struct og_conn *c = (struct og_conn *)((char *)t - offsetof(struct og_conn, tm));

	switch (c->state) {
	case CS_HEAD:
		if (c->rlen > c->rpos) {
			OG_WSTAT_ADD(c->p->w, timeouts, 1);
			OG_WSTAT_ADD(c->p->w, conns_closed[OG_CLOSE_HEADER_TIMEOUT], 1);
			conn_reject(c, 408, "request-timeout");
		} else {
			conn_close(c); /* keep-alive idle: a silent close is right */
		}
		break;
	case CS_PROXY:
		proxy_client_timeout(c);
		break;
	default:
		/* write blocked, body stalled, or linger over */
		if (c->state != CS_LINGER)
			OG_WSTAT_ADD(c->p->w, timeouts, 1);
		if (c->state == CS_WRITING)
			OG_WSTAT_ADD(c->p->w, conns_closed[OG_CLOSE_WRITE_TIMEOUT], 1);
		else if (c->state == CS_DISCARD)
			OG_WSTAT_ADD(c->p->w, conns_closed[OG_CLOSE_BODY_TIMEOUT], 1);
		conn_close(c);
	}
}

void conn_drain_sweep(struct og_worker_priv *p, uint64_t idle_ms)
{
	struct og_conn *c, *next;

	for (c = p->conns; c; c = next) {
		next = c->next;
		if (c->state == CS_HEAD && c->rlen == c->rpos && (c->flags & CF_IDLE) &&
		    c->idle_since_ms + idle_ms <= p->now_ms)
			conn_close(c);
		else if (c->state == CS_PROXY && !(c->flags & CF_RESP_STARTED))
			c->flags |= CF_CLOSE; /* the response will say Connection: close */
		/* A response already on its way without "close" finishes as keep-alive: closing
		 * after it would race the client's next request. That request gets the close. */
	}
}

static int front_init(struct og_worker_priv *p, struct og_rt *rt)
{
	respond_date_refresh(p);
	return 0;
}

static uint32_t front_busy(struct og_worker_priv *p)
{
	return p->n_conns;
}

static void front_close_all(struct og_worker_priv *p)
{
	while (p->conns)
		conn_close(p->conns);
}

/* The front's part of the worker loop (core/worker.h). */
static const struct og_worker_mod front_mod = {
    .init = front_init,
    .tick = respond_date_refresh,
    .drain = conn_drain_sweep,
    .busy = front_busy,
    .close_all = front_close_all,
    .reap = conn_reap,
    .shed = conn_shed_one,
};

int conn_register(void)
{
	worker_accept_register(conn_accept);
	return worker_mod_register(&front_mod);
}
