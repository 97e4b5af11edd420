// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The daemon's kernel link: reserved workers, attach/adopt + writer + slow loop, admin views. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "core/worker.h"
#include "lanes/kern.h"
#include "lanes/klink.h"
#include "lanes/reserve.h"
#include "lib/log.h"

static struct {
	int started;
	char pin_dir[256];
	pthread_mutex_t mu; /* admin's map handles (one admin thread; cheap insurance) */
	struct dp_maps am;
	int am_open;
	struct klink_l4 l4; /* what klink_apply_l4 wrote last */
} L = {.mu = PTHREAD_MUTEX_INITIALIZER};

void klink_opts_default(struct klink_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->slow_ms = 1000;
	slow_params_default(&o->slow);
	o->nice = 10;
}

static int parse_list(char *v, struct klink_opts *o, int ports, char *err, size_t errlen)
{
	for (char *save = NULL, *t = strtok_r(v, "+", &save); t; t = strtok_r(NULL, "+", &save)) {
		if (ports) {
			char *end;
			unsigned long p = strtoul(t, &end, 10);

			if (*end || !p || p > 65535 || o->n_order_ports == 64) {
				snprintf(err, errlen, "ORDERGATE_RESERVE: bad port \"%s\"", t);
				return -EINVAL;
			}
			o->order_ports[o->n_order_ports++] = (uint16_t)p;
		} else {
			if (o->n_order_src == 64 ||
			    dp_prefix_parse(t, &o->order_src[o->n_order_src], NULL, err, errlen))
				return -EINVAL;
			o->n_order_src++;
		}
	}
	return 0;
}

static int kv_u64(const char *k, const char *v, const char *want, uint64_t *out)
{
	char *end;

	if (strcmp(k, want))
		return 0;
	*out = strtoull(v, &end, 10);
	return *end ? -EINVAL : 1;
}

int klink_opts_env(struct klink_opts *o, char *err, size_t errlen)
{
	const char *x = getenv("ORDERGATE_XDP"), *r = getenv("ORDERGATE_RESERVE");
	const char *s = getenv("ORDERGATE_SLOW");
	static char ifname[16], pin[256];
	char buf[1024], *save = NULL;

	if (x && *x) {
		const char *at = strchr(x, '@'), *colon = strchr(x, ':');
		size_t n = strcspn(x, ":@");

		if (n == 0 || n >= sizeof(ifname)) {
			snprintf(err, errlen, "ORDERGATE_XDP: bad interface in \"%s\"", x);
			return -EINVAL;
		}
		memcpy(ifname, x, n);
		ifname[n] = 0;
		o->ifname = ifname;
		if (colon && (!at || colon < at)) {
			size_t m = at ? (size_t)(at - colon - 1) : strlen(colon + 1);

			if (!strncmp(colon + 1, "native", m) && m == 6)
				o->mode = DP_XDP_NATIVE;
			else if (!strncmp(colon + 1, "generic", m) && m == 7)
				o->mode = DP_XDP_GENERIC;
			else if (!strncmp(colon + 1, "auto", m) && m == 4)
				o->mode = DP_XDP_AUTO;
			else {
				snprintf(err, errlen,
					 "ORDERGATE_XDP: mode is auto, native or generic");
				return -EINVAL;
			}
		}
		if (at) {
			snprintf(pin, sizeof(pin), "%s", at + 1);
			o->pin_dir = pin;
		}
	}
	if (r && *r) {
		snprintf(buf, sizeof(buf), "%s", r);
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(t, '=');
			uint64_t u;

			if (!eq)
				goto bad_r;
			*eq = 0;
			if (!strcmp(t, "workers") && kv_u64(t, eq + 1, "workers", &u) == 1)
				o->reserve_workers = (uint32_t)u;
			else if (!strcmp(t, "nice") && kv_u64(t, eq + 1, "nice", &u) == 1 && u < 20)
				o->nice = (int)u;
			else if (!strcmp(t, "ports") || !strcmp(t, "src")) {
				/* strtok_r state is per list: the inner lists use '+' */
				char inner[512];

				snprintf(inner, sizeof(inner), "%s", eq + 1);
				if (parse_list(inner, o, !strcmp(t, "ports"), err, errlen))
					return -EINVAL;
			} else
				goto bad_r;
		}
	}
	if (s && *s) {
		snprintf(buf, sizeof(buf), "%s", s);
		save = NULL;
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(t, '=');
			uint64_t u = 0;
			int ok = 0;

			if (!eq)
				goto bad_s;
			*eq = 0;
			ok |= kv_u64(t, eq + 1, "ms", &u) == 1 && (o->slow_ms = (uint32_t)u, 1);
			ok |= kv_u64(t, eq + 1, "syn", &o->slow.syn_rate) == 1;
			ok |= kv_u64(t, eq + 1, "pps", &o->slow.pkt_rate) == 1;
			ok |= kv_u64(t, eq + 1, "rejects", &o->slow.reject_rate) == 1;
			ok |= kv_u64(t, eq + 1, "ttl_ms", &o->slow.ttl_ms) == 1;
			ok |= kv_u64(t, eq + 1, "throttle_pps", &o->slow.throttle_pps) == 1;
			ok |= kv_u64(t, eq + 1, "throttle_burst", &o->slow.throttle_burst) == 1;
			ok |= kv_u64(t, eq + 1, "calm_ticks", &u) == 1 &&
			      (o->slow.calm_ticks = (uint32_t)u, 1);
			if (!ok)
				goto bad_s;
		}
	}
	return 0;
bad_r:
	snprintf(err, errlen,
		 "ORDERGATE_RESERVE: want workers=N,ports=P+P,src=CIDR+CIDR,nice=N (0..19)");
	return -EINVAL;
bad_s:
	snprintf(err, errlen,
		 "ORDERGATE_SLOW: want ms,syn,pps,rejects,ttl_ms,throttle_pps,"
		 "throttle_burst,calm_ticks = numbers");
	return -EINVAL;
}

int klink_prepare(const struct klink_opts *o, char *err, size_t errlen)
{
	struct reserve_opts r = {.n_workers = o->n_workers,
				 .n_reserved = o->reserve_workers,
				 .order_ports = o->order_ports,
				 .n_order_ports = o->n_order_ports,
				 .order_src = o->order_src,
				 .n_order_src = o->n_order_src,
				 .nice = o->nice};
	int ret;

	if (!o->reserve_workers)
		return 0;
	ret = reserve_setup(&r, err, errlen);
	if (ret)
		return ret;
	worker_policy.wants = reserve_wants;
	worker_policy.opened = reserve_opened;
	worker_policy.thread_start = reserve_thread_start;
	og_log("info",
	       "event=reserve_workers reserved=%u workers=%d order_ports=%d "
	       "order_src=%d nice=%d",
	       o->reserve_workers, o->n_workers, o->n_order_ports, o->n_order_src, o->nice);
	return 0;
}

int klink_start(const struct klink_opts *o, char *err, size_t errlen)
{
	struct kern_opts ko = {.ifname = o->ifname,
			       .mode = o->mode,
			       .pin_dir = o->pin_dir,
			       .tick = slow_tick,
			       .tick_ms = o->slow_ms ? o->slow_ms : 1000};
	struct kern_stats ks;
	int ret;

	if (!o->ifname)
		return 0;
	ret = slow_init(&o->slow);
	if (ret) {
		snprintf(err, errlen, "slow loop: out of memory");
		return ret;
	}
	ret = kern_start(&ko, err, errlen);
	if (ret) {
		slow_fini();
		return ret;
	}
	kern_stats_read(&ks);
	snprintf(L.pin_dir, sizeof(L.pin_dir), "%s", ks.pin_dir);
	L.started = 1;
	og_log("info", "event=kern_start ifname=%s %s pin_dir=%s slow_ms=%u", o->ifname,
	       ks.adopted ? "adopted=1" : "attached=1", ks.pin_dir, ko.tick_ms);
	return 0;
}

void klink_stop(void)
{
	if (L.started) {
		kern_stop();
		slow_fini();
		L.started = 0;
	}
	pthread_mutex_lock(&L.mu);
	if (L.am_open)
		dp_maps_close(&L.am);
	L.am_open = 0;
	pthread_mutex_unlock(&L.mu);
	reserve_teardown();
}

static int has_port(const struct klink_l4 *l4, int lane, unsigned int port)
{
	for (int i = 0; i < l4->n_ports[lane]; i++)
		if (l4->ports[lane][i] == port)
			return 1;
	return 0;
}

static int has_src(const struct klink_l4 *l4, int lane, const struct dp_prefix *p)
{
	for (int i = 0; i < l4->n_src[lane]; i++)
		if (!memcmp(&l4->src[lane][i], p, sizeof(*p)))
			return 1;
	return 0;
}

/* Set (or clear, lane NONE) the lane of rule <p>, keeping its block flag. */
static int src_lane(struct dp_maps *m, const struct dp_prefix *p, unsigned int lane)
{
	struct og_src_rule r = {0};
	int ret = dp_src_rule_get(m, p, &r);

	if (ret && ret != -ENOENT)
		return ret;
	r.lane = (__u8)lane;
	if (!r.lane && !r.flags)
		return ret == -ENOENT ? 0 : dp_src_rule_del(m, p);
	return dp_src_rule_set(m, p, &r);
}

int klink_apply_l4(const struct klink_l4 *l4)
{
	struct dp_maps m;
	char err[256], buf[64];
	int lane, i, ret, first = 0, n = 0;

	if (!L.started)
		return 0;
	ret = dp_maps_open(&m, L.pin_dir, err, sizeof(err));
	if (ret) {
		og_log("warn", "event=kern_l4 err=\"%s\"", err);
		return ret;
	}
	for (lane = OG_LANE_ORDER; lane < OG_LANE_MAX; lane++) {
		for (i = 0; i < L.l4.n_ports[lane]; i++)
			if (!has_port(l4, lane, L.l4.ports[lane][i]) &&
			    (ret = dp_port_lane_set(&m, L.l4.ports[lane][i], OG_LANE_NONE)) &&
			    ret != -ENOENT && !first)
				first = ret;
		for (i = 0; i < L.l4.n_src[lane]; i++)
			if (!has_src(l4, lane, &L.l4.src[lane][i]) &&
			    (ret = src_lane(&m, &L.l4.src[lane][i], OG_LANE_NONE)) && !first)
				first = ret;
	}
	for (lane = OG_LANE_ORDER; lane < OG_LANE_MAX; lane++) {
		for (i = 0; i < l4->n_ports[lane]; i++, n++)
			if ((ret = dp_port_lane_set(&m, l4->ports[lane][i], lane)) && !first)
				first = ret;
		for (i = 0; i < l4->n_src[lane]; i++, n++) {
			ret = src_lane(&m, &l4->src[lane][i], lane);
			if (ret && !first)
				first = ret;
			if (ret)
				og_log("warn", "event=kern_l4 src=%s lane=%s err=\"%s\"",
				       dp_prefix_str(&l4->src[lane][i], buf, sizeof(buf)),
				       dp_lane_name(lane), strerror(-ret));
		}
	}
	dp_maps_close(&m);
	L.l4 = *l4;
	og_log("info", "event=kern_l4 rules=%d err=%d", n, first);
	return first;
}

int klink_l4_order(const struct klink_opts *o)
{
	static struct klink_l4 l4; /* large: not on the stack */

	memset(&l4, 0, sizeof(l4));
	memcpy(l4.ports[OG_LANE_ORDER], o->order_ports, sizeof(o->order_ports));
	l4.n_ports[OG_LANE_ORDER] = o->n_order_ports;
	memcpy(l4.src[OG_LANE_ORDER], o->order_src, sizeof(o->order_src));
	l4.n_src[OG_LANE_ORDER] = o->n_order_src;
	return klink_apply_l4(&l4);
}

/* ---- admin ---- */

struct fl {
	struct og_flow_key k;
	struct og_flow_stats s;
};

struct fl_vec {
	struct fl *v;
	size_t n, cap;
};

static int fl_collect(const struct og_flow_key *k, const struct og_flow_stats *s, void *ctx)
{
	struct fl_vec *fv = ctx;

	if (fv->n == fv->cap) {
		size_t cap = fv->cap ? fv->cap * 2 : 1024;
		struct fl *p = realloc(fv->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		fv->v = p;
		fv->cap = cap;
	}
	fv->v[fv->n].k = *k;
	fv->v[fv->n++].s = *s;
	return 0;
}

static int by_bytes(const void *a, const void *b)
{
	const struct fl *x = a, *y = b;

	return x->s.bytes < y->s.bytes ? 1 : x->s.bytes > y->s.bytes ? -1 : 0;
}

int klink_flows_json(struct evbuffer *b, int top)
{
	struct fl_vec fv = {0};
	char err[256], sa[64], da[64];
	uint64_t now = dp_now_coarse_ns();
	size_t i, shown;
	int ret;

	if (!L.started)
		return -ENODEV;
	pthread_mutex_lock(&L.mu);
	if (!L.am_open) {
		ret = dp_maps_open(&L.am, L.pin_dir, err, sizeof(err));
		if (ret) {
			pthread_mutex_unlock(&L.mu);
			return ret;
		}
		L.am_open = 1;
	}
	ret = dp_flows_foreach(&L.am, fl_collect, &fv);
	if (ret) {
		pthread_mutex_unlock(&L.mu);
		free(fv.v);
		return ret;
	}
	if (fv.n)
		qsort(fv.v, fv.n, sizeof(*fv.v), by_bytes);
	shown = top > 0 && (size_t)top < fv.n ? (size_t)top : fv.n;
	evbuffer_add_printf(b, "{\"count\":%zu,\"shown\":%zu,\"flows\":[", fv.n, shown);
	for (i = 0; i < shown; i++) {
		const struct fl *f = &fv.v[i];
		struct og_addr_key ak = {.family = f->k.family};
		struct og_flow_pin pin;
		struct og_throttle t;
		int pinned, throttled;

		memcpy(ak.addr, f->k.saddr, sizeof(ak.addr));
		pinned = bpf_map_lookup_elem(L.am.fd[DP_MAP_FLOW_LANE], &f->k, &pin) == 0;
		throttled = bpf_map_lookup_elem(L.am.fd[DP_MAP_THROTTLE], &ak, &t) == 0 &&
			    t.expires_ns > dp_now_ns();
		dp_addr_str(f->k.family, f->k.saddr, sa, sizeof(sa));
		dp_addr_str(f->k.family, f->k.daddr, da, sizeof(da));
		evbuffer_add_printf(
		    b,
		    "%s{\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"proto\":%u,"
		    "\"lane\":\"%s\",\"lane_src\":\"%s\",\"pinned\":%s,\"pinned_lane\":\"%s\","
		    "\"throttled\":%s,\"pkts\":%llu,\"bytes\":%llu,\"syns\":%u,\"age_s\":%.1f,"
		    "\"idle_s\":%.1f}",
		    i ? "," : "", sa, ntohs(f->k.sport), da, ntohs(f->k.dport), f->k.proto,
		    dp_lane_name(f->s.lane), dp_lsrc_name(f->s.lane_src), pinned ? "true" : "false",
		    pinned ? dp_lane_name(pin.lane) : "", throttled ? "true" : "false",
		    (unsigned long long)f->s.pkts, (unsigned long long)f->s.bytes, f->s.syns,
		    f->s.first_ns && now > f->s.first_ns ? (now - f->s.first_ns) / 1e9 : 0.0,
		    f->s.last_ns && now > f->s.last_ns ? (now - f->s.last_ns) / 1e9 : 0.0);
	}
	evbuffer_add_printf(b, "]}\n");
	pthread_mutex_unlock(&L.mu);
	free(fv.v);
	return 0;
}

void klink_metrics(struct evbuffer *b)
{
	struct reserve_stats r;
	struct kern_stats k;
	struct slow_stats s;

	reserve_stats_read(&r);
	evbuffer_add_printf(
	    b,
	    "# HELP ordergate_reserve_workers Workers reserved for the order lane.\n"
	    "# TYPE ordergate_reserve_workers gauge\n"
	    "ordergate_reserve_workers %u\n"
	    "# HELP ordergate_reuseport_sockets Listeners in og_rp_socks.\n"
	    "# TYPE ordergate_reuseport_sockets gauge\n"
	    "ordergate_reuseport_sockets %u\n",
	    r.n_reserved, r.sockets);
	if (!L.started)
		return;
	kern_stats_read(&k);
	slow_stats_read(&s);
	evbuffer_add_printf(
	    b,
	    "# HELP ordergate_kern_requests_total Kernel writer requests by result.\n"
	    "# TYPE ordergate_kern_requests_total counter\n"
	    "ordergate_kern_requests_total{result=\"posted\"} %llu\n"
	    "ordergate_kern_requests_total{result=\"queue_full\"} %llu\n"
	    "ordergate_kern_requests_total{result=\"applied\"} %llu\n"
	    "ordergate_kern_requests_total{result=\"failed\"} %llu\n"
	    "# HELP ordergate_kern_throttles_live Unexpired og_throttle entries at the last "
	    "recount.\n"
	    "# TYPE ordergate_kern_throttles_live gauge\n"
	    "ordergate_kern_throttles_live %u\n"
	    "# HELP ordergate_slow_decisions_total Slow loop decisions by action.\n"
	    "# TYPE ordergate_slow_decisions_total counter\n"
	    "ordergate_slow_decisions_total{action=\"throttle\"} %llu\n"
	    "ordergate_slow_decisions_total{action=\"release\"} %llu\n"
	    "ordergate_slow_decisions_total{action=\"demote\"} %llu\n"
	    "# HELP ordergate_slow_ticks_total Slow loop windows run.\n"
	    "# TYPE ordergate_slow_ticks_total counter\n"
	    "ordergate_slow_ticks_total %llu\n"
	    "# HELP ordergate_slow_flows Flows in the last og_flows read.\n"
	    "# TYPE ordergate_slow_flows gauge\n"
	    "ordergate_slow_flows %llu\n"
	    "# HELP ordergate_slow_throttled Sources the slow loop holds throttled.\n"
	    "# TYPE ordergate_slow_throttled gauge\n"
	    "ordergate_slow_throttled %u\n"
	    "# HELP ordergate_slow_tick_seconds Duration of the last slow loop window's work.\n"
	    "# TYPE ordergate_slow_tick_seconds gauge\n"
	    "ordergate_slow_tick_seconds %.6f\n"
	    "# HELP ordergate_slow_notes_lost_total L7 rejection notes that found no slot.\n"
	    "# TYPE ordergate_slow_notes_lost_total counter\n"
	    "ordergate_slow_notes_lost_total %llu\n",
	    (unsigned long long)k.posted, (unsigned long long)k.full, (unsigned long long)k.applied,
	    (unsigned long long)k.failed, k.throttles_live, (unsigned long long)s.throttles,
	    (unsigned long long)s.releases, (unsigned long long)s.demotes,
	    (unsigned long long)s.ticks, (unsigned long long)s.flows, s.throttled, s.last_ns / 1e9,
	    (unsigned long long)s.notes_lost);
}
