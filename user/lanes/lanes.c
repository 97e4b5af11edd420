// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Lanes on the request path: L4 and L7 lane, cancels and kill switch, buckets, in-flight. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "core/hooks.h"
#include "front/conn.h"
#include "lanes/bucket.h"
#include "lanes/kern.h"
#include "lanes/lanes.h"
#include "lanes/lstate.h"
#include "lanes/slow.h"

int lanes_cidr_match(const struct cfg_cidr *v, int n, int family, const uint8_t *a)
{
	for (int i = 0; i < n; i++) {
		unsigned bits = v[i].prefix_len, full = bits / 8, rest = bits % 8;

		if (v[i].family != family)
			continue;
		if (memcmp(v[i].addr, a, full))
			continue;
		if (rest && ((v[i].addr[full] ^ a[full]) & (uint8_t)(0xff00 >> rest)))
			continue;
		return 1;
	}
	return 0;
}

unsigned lanes_tier(const char *s, uint32_t len)
{
	/* exact, lower case: the header is ours and documented so */
	if (len == 5 && !memcmp(s, "order", 5))
		return OG_LANE_ORDER;
	if (len == 6 && !memcmp(s, "normal", 6))
		return OG_LANE_NORMAL;
	if (len == 4 && !memcmp(s, "bulk", 4))
		return OG_LANE_BULK;
	return OG_LANE_NONE;
}

/* The client's address as (family, bytes); IPv4-mapped IPv6 counts as IPv4. */
static const uint8_t *peer_addr(const struct og_conn *c, int *family)
{
	if (c->peer.v4.sin_family == AF_INET6) {
		const uint8_t *b = c->peer.v6.sin6_addr.s6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&c->peer.v6.sin6_addr)) {
			*family = AF_INET;
			return b + 12;
		}
		*family = AF_INET6;
		return b;
	}
	*family = AF_INET;
	return (const uint8_t *)&c->peer.v4.sin_addr;
}

/* The local port the client connected to (one getsockname per connection, when needed). */
static unsigned local_port(const struct og_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(c->fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* L4 lane and trust of <c>, computed at its first request and kept for its life (a reload
 * that changes lanes applies to new connections). */
static uint8_t conn_l4(struct og_conn *c, const struct config *cfg)
{
	const struct cfg_lane *o = &cfg->lanes.lane[OG_LANE_ORDER];
	uint8_t v = OG_LANE_NORMAL;
	int fam;
	const uint8_t *a;

	if (c->lane_l4 & LC_KNOWN)
		return c->lane_l4;
	a = peer_addr(c, &fam);
	if (o->n_src_cidrs && lanes_cidr_match(o->src_cidrs, o->n_src_cidrs, fam, a))
		v = OG_LANE_ORDER;
	if (v != OG_LANE_ORDER && o->n_dst_ports) {
		unsigned port = local_port(c);

		for (int i = 0; i < o->n_dst_ports; i++)
			if (o->dst_ports[i] == port)
				v = OG_LANE_ORDER;
	}
	if (cfg->lanes.n_trusted &&
	    lanes_cidr_match(cfg->lanes.trusted, cfg->lanes.n_trusted, fam, a))
		v |= LC_TRUSTED;
	c->lane_l4 = v | LC_KNOWN;
	return c->lane_l4;
}

/* The flow as og_xdp keys it on ingress: client -> gateway. */
static int flow_key(const struct og_conn *c, struct og_flow_key *k)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(k, 0, sizeof(*k));
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len))
		return -errno;
	k->proto = IPPROTO_TCP;
	if (c->peer.v4.sin_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&c->peer.v6.sin6_addr)) {
		k->family = AF_INET6;
		k->sport = c->peer.v6.sin6_port;
		memcpy(k->saddr, &c->peer.v6.sin6_addr, 16);
		k->dport = ((struct sockaddr_in6 *)&ss)->sin6_port;
		memcpy(k->daddr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		return 0;
	}
	k->family = AF_INET;
	if (c->peer.v4.sin_family == AF_INET6) {
		k->sport = c->peer.v6.sin6_port;
		memcpy(k->saddr, c->peer.v6.sin6_addr.s6_addr + 12, 4);
		k->dport = ((struct sockaddr_in6 *)&ss)->sin6_port;
		memcpy(k->daddr, ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr + 12, 4);
	} else {
		k->sport = c->peer.v4.sin_port;
		k->saddr[0] = c->peer.v4.sin_addr.s_addr;
		k->dport = ((struct sockaddr_in *)&ss)->sin_port;
		k->daddr[0] = ((struct sockaddr_in *)&ss)->sin_addr.s_addr;
	}
	return 0;
}

/* Keep the kernel's pin of <c>'s flow equal to its L7 lane when that differs from L4. */
static void pin_update(struct og_conn *c, struct lanes_worker *lw, unsigned l7, unsigned l4)
{
	unsigned want = l7 != l4 ? l7 : OG_LANE_NONE;
	struct og_flow_key k;
	int r;

	if (want == c->lane_pin || flow_key(c, &k))
		return;
	r = want ? kern_pin(&k, (uint8_t)want) : kern_unpin(&k);
	if (r == -ENODEV)
		return; /* no xdp: section, no kernel writer: userspace only */
	if (r) {
		LANES_ADD(&lw->pin_fail, 1);
		return;
	}
	if (want)
		LANES_ADD(&lw->pins, 1);
	c->lane_pin = (uint8_t)want;
}

void lanes_conn_close(struct og_conn *c)
{
	struct og_flow_key k;

	if (!c->lane_pin || flow_key(c, &k))
		return;
	if (kern_unpin(&k))
		LANES_ADD(&og_lanes.w[c->p->w->id].pin_fail, 1);
	c->lane_pin = 0;
}

static int is_exempt(const struct cfg_limits *l, const struct http_msg *m, const char *buf)
{
	const char *path = buf + m->path.off;

	if (l->kill_path && m->path.len == l->kill_path_len &&
	    !memcmp(path, l->kill_path, l->kill_path_len))
		return 1;
	if (l->cancel_method && m->method_s.len == strlen(l->cancel_method) &&
	    !memcmp(buf + m->method_s.off, l->cancel_method, m->method_s.len) &&
	    (!l->cancel_prefix || (m->path.len >= l->cancel_prefix_len &&
				   !memcmp(path, l->cancel_prefix, l->cancel_prefix_len))))
		return 1;
	return 0;
}

/* The bucket key of this request under <lm>: route name, then source or header value. */
static uint64_t limit_key(const struct og_conn *c, const struct cfg_limit *lm,
			  const struct http_msg *m, const char *buf)
{
	uint64_t h = lm->key_seed;

	if (lm->key_kind == CFG_LKEY_SOURCE) {
		int fam;
		const uint8_t *a = peer_addr(c, &fam);

		h = bucket_hash(h, a, fam == AF_INET ? 4 : 16);
	} else if (lm->key_kind == CFG_LKEY_HEADER) {
		int i = http_find_header(m, buf, lm->key_header);

		/* requests without the header share one bucket: they cannot dodge the limit */
		h = bucket_hash(h, "\n", 1);
		if (i >= 0)
			h = bucket_hash(h, buf + m->headers[i].value.off, m->headers[i].value.len);
	}
	return h ? h : 1;
}

/* A POST /limits override of route <route> for this request's generation, or 0. */
static uint64_t route_override(const struct og_conn *c, int route)
{
	struct lanes_route_ov *o = &og_lanes.route_ov;

	if (atomic_load_explicit(&o->gen, memory_order_acquire) != c->rq->rt->gen)
		return 0;
	return atomic_load_explicit(&o->v[route], memory_order_relaxed);
}

/* Tell the slow loop <c>'s source got a 429: one repeatedly refused gets an og_throttle. */
static void note_reject(const struct og_conn *c)
{
	struct og_addr_key k = {0};
	int fam;
	const uint8_t *a = peer_addr(c, &fam);

	k.family = (uint8_t)fam;
	memcpy(k.addr, a, fam == AF_INET ? 4 : 16);
	lanes_slow_note_reject(&k);
}

static const char *refuse(struct og_conn *c, struct lanes_worker *lw, const struct config *cfg,
			  unsigned lane, enum lane_reason why, uint64_t wait_ns)
{
	if (cfg->limits.dry_run) {
		LANES_ADD(&lw->dry_run[lane][why], 1);
		return NULL;
	}
	LANES_ADD(&lw->rejected[lane][why], 1);
	note_reject(c);
	c->rq->retry_after = (uint16_t)(wait_ns ? (wait_ns + 999999999ull) / 1000000000ull : 1);
	if (!c->rq->retry_after)
		c->rq->retry_after = 1;
	return lanes_reason_name(why);
}

const char *lanes_admit(struct og_conn *c, const struct http_msg *m, const char *buf,
			const struct config *cfg, int route)
{
	struct lanes_worker *lw = &og_lanes.w[c->p->w->id];
	const struct cfg_route *rt = route >= 0 ? &cfg->routes[route] : NULL;
	unsigned l4 = OG_LANE_NORMAL, lane;
	int exempt = is_exempt(&cfg->limits, m, buf);

	if (cfg->lanes.present) {
		uint8_t cl = conn_l4(c, cfg);

		l4 = cl & LC_LANE;
		lane = l4;
		if (rt && rt->lane) {
			lane = rt->lane;
		} else {
			int i = http_find_header(m, buf, "x-traffic-tier");

			if (i >= 0 && !(cl & LC_TRUSTED)) {
				LANES_ADD(&lw->tier_untrusted, 1);
			} else if (i >= 0) {
				unsigned t = lanes_tier(buf + m->headers[i].value.off,
							m->headers[i].value.len);

				if (t) {
					lane = t;
					LANES_ADD(&lw->tier_honoured, 1);
				} else {
					LANES_ADD(&lw->tier_invalid, 1);
				}
			}
		}
		pin_update(c, lw, lane, l4);
	} else {
		lane = OG_LANE_NORMAL; /* route limits without lanes: one lane for the counters */
	}
	c->rq->lane = (uint8_t)lane;
	c->rq->lane_flags = exempt ? LQ_EXEMPT : 0;
	LANES_ADD(&lw->requests[lane], 1);
	if (exempt) {
		LANES_ADD(&lw->exempt[lane], 1);
	} else if (rt) {
		uint64_t wait = 0, ov = route_override(c, route);
		uint32_t rps = ov ? (uint32_t)(ov >> 32) : rt->limit.rps;
		uint32_t burst = ov ? (uint32_t)ov : rt->limit.burst;
		enum bucket_verdict v = BUCKET_OK;

		if (rt->has_limit || ov)
			v = bucket_take(&og_buckets, limit_key(c, &rt->limit, m, buf),
					worker_cb_ns(c->p), rps, burst, 0, &wait);

		/* dry_run too takes tokens for what it admits within the limit, so what it
		 * counts as would-be refused is what enforcing would refuse */
		if (v == BUCKET_TABLE_FULL)
			LANES_ADD(&lw->bucket_full, 1);
		else if (v == BUCKET_LIMITED && refuse(c, lw, cfg, lane, LR_RATE_LIMITED, wait))
			return lanes_reason_name(LR_RATE_LIMITED);
	}
	if (cfg->lanes.present) {
		struct lane_live *ll = &og_lanes.lane[lane];
		uint32_t limit = atomic_load_explicit(&ll->limit, memory_order_relaxed);
		int32_t n = atomic_fetch_add_explicit(&ll->inflight, 1, memory_order_relaxed) + 1;

		c->rq->lane_flags |= LQ_INFLIGHT;
		if (limit && (uint32_t)n > limit && !exempt &&
		    refuse(c, lw, cfg, lane, LR_LANE_SHED, 0)) {
			atomic_fetch_sub_explicit(&ll->inflight, 1, memory_order_relaxed);
			c->rq->lane_flags &= (uint8_t)~LQ_INFLIGHT;
			return lanes_reason_name(LR_LANE_SHED);
		}
	}
	LANES_ADD(&lw->admitted[lane], 1);
	return NULL;
}

void lanes_request_done(struct og_worker *w, const struct og_req_event *e)
{
	struct lanes_worker *lw = &og_lanes.w[w->id];
	unsigned lane = e->lane;

	if (!lane || lane >= OG_LANE_MAX)
		return;
	histo_record(&lw->dur[lane], e->dur_ns);
	if (e->status >= 500 || e->status == 0)
		LANES_ADD(&lw->errors[lane], 1);
	/* reported once per request (the front drops the request's runtime right after) */
	if (e->lane_flags & LQ_INFLIGHT)
		atomic_fetch_sub_explicit(&og_lanes.lane[lane].inflight, 1, memory_order_relaxed);
}
