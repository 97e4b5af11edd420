/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Lane resolution (pin > prefix > port > default), clock and events for all programs. */
#ifndef OG_LANE_H
#define OG_LANE_H

#include "flows.h"
#include "maps.h"
#include "parse.h"

/*
 * Test clock: og_test_clock is load-time rodata, 0 in production, so the
 * verifier prunes the og_now_ns branch; tests set it to 1 and step og_now_ns
 * through the skeleton's .bss. __weak: each program file includes this
 * header and the static linker keeps one copy of each.
 */
const volatile __u8 og_test_clock __weak = 0;
__u64 og_now_ns __weak = 0;

/*
 * The fast clock. bpf_ktime_get_coarse_ns is a real helper call: about 25 ns
 * here (return thunks make every call/return dear), a sixth of the per-packet
 * budget. bpf_jiffies64 is inlined by the verifier into one load, and the
 * coarse clock only advances on ticks anyway, so the known-flow path reads
 * jiffies and adds the offset to CLOCK_MONOTONIC (coarse) that every
 * slow-path read of the real coarse clock refreshes: the coarse clock to
 * within one tick. The tick length is measured, not read from the kernel
 * config (libbpf refuses to load __kconfig externs on hosts without one):
 * once OG_CLOCK_CAL_TICKS jiffies have passed since the first slow read, the
 * ratio is snapped to the nearest usual HZ. Until then every read is slow.
 * Afterwards paths without flow state (og_now_sync) re-read the real clock
 * once every OG_CLOCK_SYNC_TICKS, to refresh the offset, not per packet.
 */
#define OG_CLOCK_CAL_TICKS  32
#define OG_CLOCK_SYNC_TICKS 256
__u64 og_clock_ref_ns __weak = 0;  /* coarse ns at the first slow read */
__u64 og_clock_ref_j __weak = 0;   /* jiffies at the first slow read */
__u64 og_clock_off_ns __weak = 0;  /* coarse ns - jiffies * tick, refreshed on slow reads */
__u64 og_clock_tick_ns __weak = 0; /* ns per jiffy; 0 while not calibrated */
__u64 og_clock_sync_j __weak = 0;  /* jiffies at the last slow read */

/* Nearest of HZ 1000/300/250/100 when within 1/16, else the measured value. */
static __always_inline __u64 og_tick_snap(__u64 t)
{
	static const __u64 hz_ticks[] = {1000000, 3333333, 4000000, 10000000};
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		if (t + hz_ticks[i] / 16 >= hz_ticks[i] && t <= hz_ticks[i] + hz_ticks[i] / 16)
			return hz_ticks[i];
	return t;
}

/* A CLOCK_MONOTONIC (coarse) read that also calibrates the fast clock. */
static __always_inline __u64 og_now_slow(void)
{
	__u64 now, j, tick;

	if (og_test_clock)
		return og_now_ns;
	now = bpf_ktime_get_coarse_ns();
	j = bpf_jiffies64();
	tick = og_clock_tick_ns;
	og_clock_sync_j = j;
	if (!og_clock_ref_j) {
		og_clock_ref_ns = now;
		og_clock_ref_j = j;
	} else if (!tick && j - og_clock_ref_j >= OG_CLOCK_CAL_TICKS && now > og_clock_ref_ns) {
		tick = og_tick_snap((now - og_clock_ref_ns) / (j - og_clock_ref_j));
	}
	if (tick) {
		og_clock_off_ns = now - j * tick;
		og_clock_tick_ns = tick;
	}
	return now;
}

/* CLOCK_MONOTONIC (coarse) to within a tick, without a helper call once calibrated. */
static __always_inline __u64 og_now(void)
{
	__u64 tick;

	if (og_test_clock)
		return og_now_ns;
	tick = og_clock_tick_ns;
	if (!tick)
		return og_now_slow();
	return bpf_jiffies64() * tick + og_clock_off_ns;
}

/* og_now, but a slow read when OG_CLOCK_SYNC_TICKS passed since the last one: for
 * stateless paths, which would otherwise never refresh the offset. */
static __always_inline __u64 og_now_sync(void)
{
	__u64 tick, j;

	if (og_test_clock)
		return og_now_ns;
	tick = og_clock_tick_ns;
	j = bpf_jiffies64();
	if (!tick || j - og_clock_sync_j >= OG_CLOCK_SYNC_TICKS)
		return og_now_slow();
	return j * tick + og_clock_off_ns;
}

/* A stage's answer that does not end the packet's journey. */
#define OG_CONTINUE (-1)

static __always_inline struct og_config *og_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&og_config, &zero);
}

static __always_inline struct og_lane_stats *og_lstats(__u32 lane)
{
	if (lane >= OG_LANE_MAX)
		lane = OG_LANE_NONE;
	return bpf_map_lookup_elem(&og_lane_stats, &lane);
}

/* Lane, its source and the block verdict for one flow. */
struct og_res {
	__u8 lane;
	__u8 lane_src;
	__u8 blocked;
	__u8 pad;
};

static __always_inline int og_lane_ok(__u32 lane)
{
	return lane > OG_LANE_NONE && lane < OG_LANE_MAX;
}

/* Longest source prefix rule for the key's source address, or NULL. */
static __always_inline struct og_src_rule *og_prefix_rule(const struct og_flow_key *k)
{
	struct og_lpm_key lk = {};

	lk.prefixlen = OG_LPM_HDR_BITS + (k->family == AF_INET ? 32 : 128);
	lk.family = k->family;
	__builtin_memcpy(lk.addr, k->saddr, sizeof(lk.addr));
	return bpf_map_lookup_elem(&og_src_rules, &lk);
}

/*
 * Resolves the lane of the ingress-oriented flow <k> given its longest source
 * prefix rule <rule> (may be NULL): pinned flow > prefix > destination port >
 * default. A later fragment (proto 0) has no ports, so only the prefix and the
 * default apply. <no_pin> skips the pin lookup: a TCP SYN opens a connection
 * the daemon cannot have pinned yet (a pin on the same 4-tuple belonged to an
 * earlier connection). The block verdict comes from the prefix rule whatever
 * chose the lane: a pin does not unblock.
 */
static __always_inline void og_resolve_rule(const struct og_config *cfg,
					    const struct og_flow_key *k,
					    const struct og_src_rule *rule, int no_pin,
					    struct og_res *r)
{
	struct og_flow_pin *pin;
	struct og_lane_val *pl;
	struct og_port_key pk;

	r->blocked = rule ? !!(rule->flags & OG_RULE_BLOCK) : 0;
	if (k->proto && !no_pin) {
		pin = bpf_map_lookup_elem(&og_flow_lane, k);
		if (pin && og_lane_ok(pin->lane)) {
			r->lane = pin->lane;
			r->lane_src = OG_LSRC_PIN;
			return;
		}
	}
	if (rule && og_lane_ok(rule->lane)) {
		r->lane = rule->lane;
		r->lane_src = OG_LSRC_PREFIX;
		return;
	}
	if (k->proto) {
		pk.port = bpf_ntohs(k->dport);
		pl = bpf_map_lookup_elem(&og_port_lane, &pk);
		if (pl && og_lane_ok(pl->lane)) {
			r->lane = pl->lane;
			r->lane_src = OG_LSRC_PORT;
			return;
		}
	}
	r->lane = og_lane_ok(cfg->default_lane) ? cfg->default_lane : OG_LANE_NORMAL;
	r->lane_src = OG_LSRC_DEFAULT;
}

/* og_resolve_rule with the prefix rule looked up here. */
static __always_inline void og_resolve(const struct og_config *cfg, const struct og_flow_key *k,
				       struct og_res *r)
{
	og_resolve_rule(cfg, k, og_prefix_rule(k), 0, r);
}

/* A flow value holds a usable cached lane when it was resolved on this CPU
 * (lane_src != 0: LRU_PERCPU slots of other CPUs read as zeroes) at the
 * current rules generation. */
static __always_inline int og_cached(const struct og_flow_stats *v, const struct og_config *cfg)
{
	return v->lane_src != OG_LSRC_NONE && v->gen == cfg->rules_gen;
}

/*
 * Per-CPU event gate: at most OG_EV_PER_WIN events of <type> per CPU per
 * OG_EV_WIN_NS. A closed gate costs an inlined per-CPU array load and a
 * compare, so a flood of malformed packets never contends on the ring
 * buffer's lock. Returns 1 when the event may be written.
 */
static __always_inline int og_ev_allow(__u32 type, __u64 now)
{
	struct og_ev_gate *g = bpf_map_lookup_elem(&og_ev_gate, &type);

	if (!g)
		return 0;
	if (now - g->win_ns >= OG_EV_WIN_NS) {
		g->win_ns = now;
		g->n = 0;
	}
	if (g->n >= OG_EV_PER_WIN)
		return 0;
	g->n++;
	return 1;
}

/* The pin sequence of <k>'s og_pin_hint slot; read before og_flow_lane, so a
 * pin written after the read is seen by the next packet. */
static __always_inline __u32 og_pin_seq(const struct og_flow_key *k)
{
	__u32 slot = og_pin_slot(k), *h = bpf_map_lookup_elem(&og_pin_hint, &slot);

	return h ? *h : 0;
}

/* Whether a pin may exist for <k>: its og_pin_slot holds one (og_pin_count). */
static __always_inline int og_pin_maybe(const struct og_flow_key *k)
{
	__u32 slot = og_pin_slot(k), *n = bpf_map_lookup_elem(&og_pin_count, &slot);

	return !n || *n;
}

/* Best-effort event: the ring buffer silently drops it when full. */
static __always_inline void og_event(__u32 type, __u32 lane, const struct og_flow_key *k, __u64 now)
{
	struct og_event ev = {};

	ev.ts_ns = now;
	ev.type = type;
	ev.lane = lane;
	__builtin_memcpy(&ev.key, k, sizeof(ev.key));
	bpf_ringbuf_output(&og_events, &ev, sizeof(ev), 0);
}

/* Turns an ingress-oriented key into the egress one or back. */
static __always_inline void og_key_reverse(struct og_flow_key *k)
{
	__be32 a[4];
	__be16 p;

	p = k->sport;
	k->sport = k->dport;
	k->dport = p;
	__builtin_memcpy(a, k->saddr, sizeof(a));
	__builtin_memcpy(k->saddr, k->daddr, sizeof(a));
	__builtin_memcpy(k->daddr, a, sizeof(a));
}

/* Lane of a packet whose (ingress-oriented) key is classifiable, as og_tc_in and
 * og_tc_out see it: <pin_first> asks og_flow_lane before the cached lane. */
static __always_inline __u32 og_lane_of(const struct og_config *cfg, const struct og_pkt *p,
					int pin_first, __u8 *src)
{
	struct og_flow_way *w;
	struct og_flow_pin *pin;
	struct og_res r;

	if (pin_first && p->kind == OG_PK_L4) {
		pin = bpf_map_lookup_elem(&og_flow_lane, &p->key);
		if (pin && og_lane_ok(pin->lane)) {
			*src = OG_LSRC_PIN;
			return pin->lane;
		}
	}
	w = og_flow_lookup(&p->key);
	if (w && og_cached(&w->s, cfg) && og_lane_ok(w->s.lane)) {
		*src = w->s.lane_src;
		return w->s.lane;
	}
	og_resolve(cfg, &p->key, &r);
	*src = r.lane_src;
	return r.lane;
}

/* Bytes of headers worth pulling into the linear area for a TC parse. */
#define OG_PULL_LEN 256

/* Parses an skb from its mac header; pulls non-linear headers in only when the
 * linear part was too short, so a TSO skb with linear headers costs no copy. */
static __always_inline int og_skb_parse(struct __sk_buff *skb, struct og_pkt *p)
{
	/* 64-bit: as a 32-bit value (-mcpu=v3) the pointer would spill in 4 bytes,
	 * which the verifier refuses. */
	long lin = (long)skb->data_end - (long)skb->data;
	__u32 want = skb->len < OG_PULL_LEN ? skb->len : OG_PULL_LEN;

	if (og_parse_pkt((void *)(long)skb->data, (void *)(long)skb->data_end, p) != OG_PK_BAD ||
	    lin >= (long)want)
		return p->kind;
	if (bpf_skb_pull_data(skb, want))
		return p->kind;
	__builtin_memset(p, 0, sizeof(*p));
	return og_parse_pkt((void *)(long)skb->data, (void *)(long)skb->data_end, p);
}

#endif /* OG_LANE_H */
