// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `flows` and `lanes`: per-flow and per-lane statistics from og_flows and og_lane_stats. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

enum { SORT_BYTES, SORT_PKTS, SORT_AGE };

struct flows_opts {
	__u64 top;
	int sort;
	bool json;
	const char *admin; /* set: the daemon's /flows (kernel joined with its pins) */
};

struct flow_row {
	struct og_flow_key k;
	struct og_flow_stats s;
};

struct flow_vec {
	struct flow_row *v;
	size_t n, cap;
};

static int collect(const struct og_flow_key *k, const struct og_flow_stats *s, void *ctx)
{
	struct flow_vec *fv = ctx;

	if (fv->n == fv->cap) {
		size_t cap = fv->cap ? fv->cap * 2 : 256;
		struct flow_row *v = realloc(fv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		fv->v = v;
		fv->cap = cap;
	}
	fv->v[fv->n].k = *k;
	fv->v[fv->n].s = *s;
	fv->n++;
	return 0;
}

static int cmp_u64_desc(__u64 a, __u64 b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static int by_bytes(const void *a, const void *b)
{
	const struct flow_row *x = a, *y = b;

	return cmp_u64_desc(x->s.bytes, y->s.bytes) ?: cmp_u64_desc(x->s.pkts, y->s.pkts);
}

static int by_pkts(const void *a, const void *b)
{
	const struct flow_row *x = a, *y = b;

	return cmp_u64_desc(x->s.pkts, y->s.pkts) ?: cmp_u64_desc(x->s.bytes, y->s.bytes);
}

static int by_age(const void *a, const void *b)
{
	const struct flow_row *x = a, *y = b;

	/* oldest first: smallest first_ns */
	return -cmp_u64_desc(x->s.first_ns, y->s.first_ns);
}

static int do_flows(const void *p)
{
	const struct flows_opts *o = p;
	struct flow_vec fv = {0};
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pb[16], b1[16], b2[16];
	struct dp_maps m;
	size_t i, n;
	__u64 now;
	int ret;

	if (o->admin)
		return ctl_admin_flows(o->admin, o->top, o->json);
	if (ctl_maps(&m))
		return 1;
	ret = dp_flows_foreach(&m, collect, &fv);
	dp_maps_close(&m);
	if (ret) {
		free(fv.v);
		return ctl_fail("reading og_flows: %s", strerror(-ret));
	}
	now = dp_now_ns();
	qsort(fv.v, fv.n, sizeof(*fv.v),
	      o->sort == SORT_PKTS  ? by_pkts
	      : o->sort == SORT_AGE ? by_age
				    : by_bytes);
	n = o->top && o->top < fv.n ? o->top : fv.n;
	if (o->json)
		printf("{\"count\":%zu,\"shown\":%zu,\"flows\":[", fv.n, n);
	else
		printf("%-5s %-39s %5s  %-39s %5s %-6s %-7s %10s %12s %6s %8s %8s %s\n", "PROTO",
		       "SRC", "SPORT", "DST", "DPORT", "LANE", "BY", "PKTS", "BYTES", "SYNS",
		       "AGE_S", "IDLE_S", "BLOCKED");
	for (i = 0; i < n; i++) {
		const struct og_flow_key *k = &fv.v[i].k;
		const struct og_flow_stats *s = &fv.v[i].s;
		const char *proto = dp_proto_name(k->proto, pb, sizeof(pb));

		dp_addr_str(k->family, k->saddr, src, sizeof(src));
		dp_addr_str(k->family, k->daddr, dst, sizeof(dst));
		if (o->json)
			printf("%s{\"family\":\"%s\",\"proto\":\"%s\",\"src\":\"%s\",\"sport\":%u,"
			       "\"dst\":\"%s\",\"dport\":%u,\"lane\":\"%s\",\"lane_src\":\"%s\","
			       "\"pkts\":%llu,\"bytes\":%llu,\"syns\":%u,\"first_ns\":%llu,"
			       "\"last_ns\":%llu,\"age_s\":%.3f,\"idle_s\":%.3f,\"blocked\":%s,"
			       "\"gen\":%u}",
			       i ? "," : "", k->family == AF_INET6 ? "ipv6" : "ipv4", proto, src,
			       ntohs(k->sport), dst, ntohs(k->dport), dp_lane_name(s->lane),
			       dp_lsrc_name(s->lane_src), (unsigned long long)s->pkts,
			       (unsigned long long)s->bytes, s->syns,
			       (unsigned long long)s->first_ns, (unsigned long long)s->last_ns,
			       ctl_age(now, s->first_ns), ctl_age(now, s->last_ns),
			       s->blocked ? "true" : "false", s->gen);
		else
			printf("%-5s %-39s %5u  %-39s %5u %-6s %-7s %10s %12s %6u %8.1f %8.1f %s\n",
			       proto, src, ntohs(k->sport), dst, ntohs(k->dport),
			       dp_lane_name(s->lane), dp_lsrc_name(s->lane_src),
			       ctl_human(s->pkts, b1, sizeof(b1)),
			       ctl_human(s->bytes, b2, sizeof(b2)), s->syns,
			       ctl_age(now, s->first_ns), ctl_age(now, s->last_ns),
			       s->blocked ? "yes" : "no");
	}
	if (o->json)
		printf("]}\n");
	else if (n < fv.n)
		printf("(%zu of %zu flows; --top 0 shows all)\n", n, fv.n);
	free(fv.v);
	return 0;
}

static const struct ctl_enum sorts[] = {
    {"bytes", SORT_BYTES}, {"pkts", SORT_PKTS}, {"age", SORT_AGE}, {0}};

static const struct flows_opts flows_defaults = {.top = 20, .sort = SORT_BYTES};

static const struct ctl_opt flows_opts[] = {
    {"top", 'n', CTL_U64, offsetof(struct flows_opts, top), "N",
     "show the first N flows (default 20, 0 = all)"},
    {"sort", 's', CTL_ENUM, offsetof(struct flows_opts, sort), "KEY",
     "order: bytes/pkts descending, age oldest first (default bytes)", sorts},
    {"json", 'j', CTL_FLAG, offsetof(struct flows_opts, json), NULL,
     "print {\"count\",\"shown\",\"flows\":[...]} as JSON"},
    {"admin", 'a', CTL_STR, offsetof(struct flows_opts, admin), "ADDR",
     "ask the daemon at ADDR (admin /flows: adds pinned lane and throttled; bytes order)"},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_flows = {
    .name = "flows",
    .summary = "Per-flow packets, bytes, lane and age from og_flows",
    .opts = flows_opts,
    .size = sizeof(struct flows_opts),
    .defaults = &flows_defaults,
    .uses_maps = true,
    .run = do_flows,
};

struct lanes_opts {
	bool json;
	const char *admin; /* the daemon asked for its L7 lanes (default address if unset) */
};

/* Field names and offsets of struct og_lane_stats, in declaration order. */
static const struct {
	const char *name, *head;
	size_t off;
} lane_fields[] = {
#define F(f, h)                                                                                    \
	{                                                                                          \
#f, h, offsetof(struct og_lane_stats, f)                                           \
	}
    F(rx_pkts, "RX_PKTS"),	  F(rx_bytes, "RX_BYTES"),   F(tx_pkts, "TX_PKTS"),
    F(tx_bytes, "TX_BYTES"),	  F(drop_block, "DROP_BLK"), F(drop_throttle, "DROP_THR"),
    F(drop_error, "DROP_ERR"),	  F(other, "OTHER"),	     F(malformed, "MALFORM"),
    F(fragments, "FRAGS"),	  F(new_flows, "NEWFLOWS"),  F(tc_in_meta, "TC_META"),
    F(tc_in_lookup, "TC_LOOKUP"), F(stateless, "STATELESS"), F(ev_suppressed, "EV_SUPPR"),
    F(flows_evicted, "EVICTED"),
#undef F
};
#define NFIELDS (sizeof(lane_fields) / sizeof(lane_fields[0]))

static int do_lanes(const void *p)
{
	const struct lanes_opts *o = p;
	struct og_lane_stats ls[OG_LANE_MAX];
	struct og_config c;
	struct dp_maps m;
	char buf[16];
	size_t f;
	int lane, ret;

	if (ctl_maps(&m))
		return 1;
	ret = dp_lane_stats_read(&m, ls);
	if (!ret)
		ret = dp_config_get(&m, &c);
	dp_maps_close(&m);
	if (ret)
		return ctl_fail("reading og_lane_stats: %s", strerror(-ret));
	if (o->json) {
		printf("{\"lanes\":{");
		for (lane = 0; lane < OG_LANE_MAX; lane++) {
			printf("%s\"%s\":{\"id\":%d,\"class\":\"%s\"", lane ? "," : "",
			       dp_lane_name(lane), lane,
			       c.lane_class[lane]
				   ? dp_class_str(c.lane_class[lane], buf, sizeof(buf))
				   : "");
			for (f = 0; f < NFIELDS; f++)
				printf(",\"%s\":%llu", lane_fields[f].name,
				       *(unsigned long long *)((char *)&ls[lane] +
							       lane_fields[f].off));
			printf("}");
		}
		printf("}}\n");
		return 0;
	}
	printf("%-7s %-6s", "LANE", "CLASS");
	for (f = 0; f < NFIELDS; f++)
		printf(" %9s", lane_fields[f].head);
	printf("\n");
	for (lane = 0; lane < OG_LANE_MAX; lane++) {
		printf("%-7s %-6s", dp_lane_name(lane),
		       c.lane_class[lane] ? dp_class_str(c.lane_class[lane], buf, sizeof(buf))
					  : "-");
		for (f = 0; f < NFIELDS; f++)
			printf(" %9s", ctl_human(*(__u64 *)((char *)&ls[lane] + lane_fields[f].off),
						 buf, sizeof(buf)));
		printf("\n");
	}
	/* the daemon's side of the lanes, when one answers */
	return ctl_admin_show(ctl_admin_addr(o->admin), "/lanes", "\nL7 lanes", !o->admin);
}

static const struct ctl_opt lanes_opts[] = {
    {"json", 'j', CTL_FLAG, offsetof(struct lanes_opts, json), NULL,
     "print {\"lanes\":{\"order\":{...},...}} as JSON (exact counters)"},
    {"admin", 'a', CTL_STR, offsetof(struct lanes_opts, admin), "ADDR",
     "also show the daemon's L7 lanes from ADDR (default $ORDERGATE_ADMIN or "
     "127.0.0.1:9901; skipped when no daemon answers)"},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_lanes = {
    .name = "lanes",
    .summary = "Per-lane packet, byte and drop counters from og_lane_stats",
    .opts = lanes_opts,
    .size = sizeof(struct lanes_opts),
    .uses_maps = true,
    .run = do_lanes,
};
