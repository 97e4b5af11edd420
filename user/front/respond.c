// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Direct responses precomputed per route, error responses, and the per-worker Date line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "front/conn.h"
#include "front/respond.h"

static const char crlf[] = "\r\n";
static const char hdr_close[] = "Connection: close\r\n";
static const char hdr_ka[] = "Connection: keep-alive\r\n";

int respond_build_route(struct og_route_rt *rr, const struct cfg_route *r)
{
	size_t cap = 256 + r->body_len, len;
	int has_ct = 0;
	char *b;

	for (int i = 0; i < r->n_resp_headers; i++) {
		cap += strlen(r->resp_headers[i].name) + strlen(r->resp_headers[i].value) + 4;
		if (!strcasecmp(r->resp_headers[i].name, "content-type"))
			has_ct = 1;
	}
	b = malloc(cap);
	if (!b)
		return -ENOMEM;
	len = snprintf(b, cap, "HTTP/1.1 %u %s\r\nServer: ordergate\r\n", r->status,
		       http_reason(r->status));
	for (int i = 0; i < r->n_resp_headers; i++)
		len += snprintf(b + len, cap - len, "%s: %s\r\n", r->resp_headers[i].name,
				r->resp_headers[i].value);
	if (!has_ct)
		len += snprintf(b + len, cap - len, "Content-Type: text/plain\r\n");
	/* 1xx/204/304 carry no body and no Content-Length */
	if (!(r->status < 200 || r->status == 204 || r->status == 304))
		len += snprintf(b + len, cap - len, "Content-Length: %zu\r\n", r->body_len);
	rr->resp_head_len = (uint32_t)len;
	memcpy(b + len, crlf, 2);
	len += 2;
	if (!(r->status < 200 || r->status == 204 || r->status == 304)) {
		memcpy(b + len, r->body, r->body_len);
		len += r->body_len;
	}
	rr->resp = b;
	rr->resp_len = (uint32_t)len;
	return 0;
}

void respond_free_route(struct og_route_rt *rr)
{
	free(rr->resp);
	rr->resp = NULL;
}

int respond_error_fmt(char *buf, size_t cap, int status, const char *reason, int close, int ka10,
		      int head, const char *date_line, size_t date_len, unsigned retry_after)
{
	char body[160], ra[40] = "";
	int blen =
	    snprintf(body, sizeof(body), "%d %s (%s)\n", status, http_reason(status), reason);
	int n;

	if (retry_after)
		snprintf(ra, sizeof(ra), "Retry-After: %u\r\n", retry_after);
	n = snprintf(buf, cap,
		     "HTTP/1.1 %d %s\r\nServer: ordergate\r\n%.*sContent-Type: text/plain\r\n"
		     "Content-Length: %d\r\nx-ordergate-reason: %s\r\n%s%s\r\n%s",
		     status, http_reason(status), (int)date_len, date_line, blen, reason, ra,
		     close  ? hdr_close
		     : ka10 ? hdr_ka
			    : "",
		     head ? "" : body);

	return n < (int)cap ? n : (int)cap - 1;
}

/* Route <rr>'s answer for <c> as pieces: head, Date, Connection (if any), body. */
static void respond_pieces(struct og_conn *c, const struct og_route_rt *rr)
{
	struct og_worker_priv *p = c->p;
	int i = 0;

	c->rq->out[i].iov_base = rr->resp;
	c->rq->out[i++].iov_len = rr->resp_head_len;
	c->rq->out[i].iov_base = p->date_line;
	c->rq->out[i++].iov_len = p->date_len;
	c->rq->out_volatile = 1u << 1;
	c->rq->out_cached = 0;
	if (c->flags & CF_CLOSE) {
		c->rq->out[i].iov_base = (void *)hdr_close;
		c->rq->out[i++].iov_len = sizeof(hdr_close) - 1;
	} else if (c->flags & CF_KA10) {
		c->rq->out[i].iov_base = (void *)hdr_ka;
		c->rq->out[i++].iov_len = sizeof(hdr_ka) - 1;
	}
	c->rq->out[i].iov_base = rr->resp + rr->resp_head_len;
	c->rq->out[i++].iov_len = (c->flags & CF_HEAD) ? 2 : rr->resp_len - rr->resp_head_len;
	c->rq->nout = (uint8_t)i;
	c->rq->oi = 0;
}

void respond_direct(struct og_conn *c, const struct og_route_rt *rr)
{
	struct og_worker_priv *p = c->p;
	int route = c->rq->route;
	struct og_dresp *d = &p->dresp[route & (OG_DRESP_SLOTS - 1)];

	if ((c->flags & (CF_CLOSE | CF_KA10 | CF_HEAD)) ||
	    rr->resp_len + p->date_len > OG_DRESP_MAX) {
		respond_pieces(c, rr);
		return;
	}
	if (d->gen != c->rq->rt->gen || d->route != route || d->sec != p->date_sec) {
		char *o = d->data;

		memcpy(o, rr->resp, rr->resp_head_len);
		o += rr->resp_head_len;
		memcpy(o, p->date_line, p->date_len);
		o += p->date_len;
		memcpy(o, rr->resp + rr->resp_head_len, rr->resp_len - rr->resp_head_len);
		d->len = (uint16_t)(rr->resp_len + p->date_len);
		d->gen = c->rq->rt->gen;
		d->route = (int16_t)route;
		d->sec = p->date_sec;
	}
	c->rq->out[0].iov_base = d->data;
	c->rq->out[0].iov_len = d->len;
	c->rq->nout = 1;
	c->rq->oi = 0;
	c->rq->out_volatile = 0;
	c->rq->out_cached = 1;
}

void respond_direct_unshare(struct og_conn *c)
{
	const struct og_route_rt *rr = &c->rq->rt->routes[c->rq->route];
	size_t done = rr->resp_len + c->p->date_len - c->rq->out[0].iov_len;

	respond_pieces(c, rr);
	og_iov_advance(c->rq->out, &c->rq->oi, c->rq->nout, done);
}

void respond_date_refresh(struct og_worker_priv *p)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now == p->date_sec)
		return;
	p->date_sec = now;
	gmtime_r(&now, &tm);
	p->date_len = (uint32_t)strftime(p->date_line, sizeof(p->date_line),
					 "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
}
