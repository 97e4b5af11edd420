// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* og_xdp: parse, assign a lane, keep flow/lane stats, drop blocked and throttled sources. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "admit.h"
#include "flows.h"
#include "lane.h"
#include "seen.h"
#include "throttle.h"

/* The one license section of the linked object (og_tc_*.bpf.c carry none). */
char LICENSE[] SEC("license") = "GPL";

/* Which og_lane_stats counter, besides rx_pkts/rx_bytes, a packet adds to. */
#define OG_R_PASS      0
#define OG_R_OTHER     1
#define OG_R_MALFORMED 2
#define OG_R_BLOCK     3
#define OG_R_THROTTLE  4
#define OG_R_ERROR     5

/* Per-packet state handed from stage to stage. */
struct og_xctx {
	struct og_pkt p;
	__u64 now;
	__u64 h; /* og_key_hash(&p.key) once computed, else 0 */
	__u32 len;
	__u8 lane;
	__u8 lane_src;
	__u8 reason; /* OG_R_* */
	__u8 new_flow;
	__u8 stateless; /* no og_flows entry carried this packet */
	__u8 ev_supp;	/* an event was due but the gate was closed */
};

/*
 * The single exit: every packet lands in exactly one lane's rx counters and
 * at most one reason counter, then passed packets get the lane as metadata.
 */
static __always_inline int og_finish(struct xdp_md *ctx, struct og_xctx *x, int verdict, int meta)
{
	struct og_lane_stats *s = og_lstats(x->lane);
	struct og_xdp_meta *m;
	void *data;

	if (s) {
		s->rx_pkts++;
		s->rx_bytes += x->len;
		switch (x->reason) {
		case OG_R_OTHER:
			s->other++;
			break;
		case OG_R_MALFORMED:
			s->malformed++;
			break;
		case OG_R_BLOCK:
			s->drop_block++;
			break;
		case OG_R_THROTTLE:
			s->drop_throttle++;
			break;
		case OG_R_ERROR:
			s->drop_error++;
			break;
		}
		if (x->p.kind == OG_PK_FRAG)
			s->fragments++;
		s->new_flows += x->new_flow;
		s->stateless += x->stateless;
		s->ev_suppressed += x->ev_supp;
	}
	if (verdict != XDP_PASS || !meta)
		return verdict;
	/* Drivers without metadata support refuse this; og_tc_in then looks the flow up. */
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return verdict;
	m = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(m + 1) > data)
		return verdict;
	m->magic = OG_META_MAGIC;
	m->lane = x->lane;
	m->lane_src = x->lane_src;
	m->pad = 0;
	return verdict;
}

/* An event through the per-CPU gate; a closed gate only counts. */
static __always_inline void og_xevent(struct og_xctx *x, __u32 type)
{
	if (og_ev_allow(type, x->now))
		og_event(type, x->lane, &x->p.key, x->now);
	else
		x->ev_supp = 1;
}

/* Per-source token bucket; skipped entirely while no throttle is set. */
static __always_inline int og_stage_throttle(const struct og_config *cfg, struct og_xctx *x)
{
	struct og_addr_key ak = {};
	struct og_tb_result res;
	struct og_throttle *t;
	__u64 old;

	if (!cfg->throttle_count)
		return OG_CONTINUE;
	ak.family = x->p.key.family;
	__builtin_memcpy(ak.addr, x->p.key.saddr, sizeof(ak.addr));
	t = bpf_map_lookup_elem(&og_throttle, &ak);
	if (!t || x->now >= t->expires_ns)
		return OG_CONTINUE;
	og_tb_take(t, x->now, &res);
	t->tokens = res.tokens;
	t->last_ns = res.last_ns;
	if (res.pass) {
		__sync_fetch_and_add(&t->passed, 1);
		return OG_CONTINUE;
	}
	old = t->dropped;
	__sync_fetch_and_add(&t->dropped, 1);
	if (!old)
		og_xevent(x, OG_EV_THROTTLE);
	x->reason = OG_R_THROTTLE;
	return XDP_DROP;
}

/*
 * Block and throttle for a packet of a source without flow state (new flow,
 * later fragment, ICMP and other protocols, malformed past the IP header):
 * one og_throttle lookup while throttles are set, one LPM lookup, and a drop
 * is counted in lane none: no pin or port lookup, no event, no flow state.
 * <rule> returns the prefix rule for the resolution that follows a pass.
 */
static __always_inline int og_src_gate(const struct og_config *cfg, struct og_xctx *x,
				       struct og_src_rule **rule)
{
	int v = og_stage_throttle(cfg, x);

	if (v != OG_CONTINUE)
		return v;
	*rule = og_prefix_rule(&x->p.key);
	if (*rule && ((*rule)->flags & OG_RULE_BLOCK)) {
		x->reason = OG_R_BLOCK;
		return XDP_DROP;
	}
	return OG_CONTINUE;
}

/* Packets that never get a lane: non-IP, non-TCP/UDP and malformed ones. */
static __always_inline int og_stage_unclassified(const struct og_config *cfg, struct og_xctx *x)
{
	struct og_src_rule *rule;
	int v;

	switch (x->p.kind) {
	case OG_PK_NONIP:
		x->reason = OG_R_OTHER;
		return XDP_PASS;
	case OG_PK_BAD:
	case OG_PK_OTHER_L4:
		x->now = og_now();
		x->stateless = 1;
		/* The IP header parsed (family set): its source's rules apply. */
		if (x->p.key.family) {
			v = og_src_gate(cfg, x, &rule);
			if (v != OG_CONTINUE)
				return v;
		}
		if (x->p.kind == OG_PK_OTHER_L4) {
			x->reason = OG_R_OTHER;
			return XDP_PASS;
		}
		x->reason = OG_R_MALFORMED;
		og_xevent(x, OG_EV_MALFORMED);
		return XDP_PASS;
	}
	return OG_CONTINUE;
}

/* The packet's key hash, computed at most once. */
static __always_inline __u64 og_xhash(struct og_xctx *x)
{
	if (!x->h)
		x->h = og_key_hash(&x->p.key);
	return x->h;
}

/*
 * Inserts the flow <s> admits into og_flows: the slot's counts plus this packet,
 * the lane <r> and the pin sequence <pseq> it was resolved with, and empties the
 * slot. Only an admitted flow costs the insert.
 */
static __always_inline int og_stage_admit(const struct og_config *cfg, struct og_xctx *x,
					  struct og_admit_slot *s, const struct og_res *r,
					  __u32 pseq)
{
	struct og_flow_stats nv = {};
	struct og_lane_stats *ls;
	int err, evicted = -1;

	og_admit_value(s, x->len, x->now, &nv);
	nv.gen = cfg->rules_gen;
	nv.lane = r->lane;
	nv.lane_src = r->lane_src;
	nv.pin_seq = pseq;
	nv.seen_ep = og_seen_epoch(x->now);
	err = og_flow_insert(&x->p.key, og_xhash(x), &nv, x->now, &evicted);
	/* -EBUSY: another CPU was writing the way this flow wanted; the slot stays,
	 * so the flow's next packet tries again. */
	if (err == -EBUSY)
		return OG_CONTINUE;
	s->tag = 0;
	/* -EEXIST: another CPU admitted it first, or og_seen lost the flow's bit;
	 * either way the entry counts from the next packet, which the bit sends to it. */
	if (!err || err == -EEXIST)
		og_seen_mark(&x->p.key, x->now);
	if (!err) {
		x->new_flow = 1;
		x->stateless = 0;
		if (evicted >= 0 && (ls = og_lstats(evicted)))
			ls->flows_evicted++;
		return OG_CONTINUE;
	}
	if (err != -EEXIST && cfg->fail_mode == OG_FAIL_CLOSED) {
		x->reason = OG_R_ERROR;
		return XDP_DROP;
	}
	return OG_CONTINUE;
}

/*
 * A flow without og_flows state: source gate, classification, admission (see
 * admit.h). The handshake's ACK takes the lane its SYN left in the slot while
 * rules_gen holds: no pin or port lookup, no second resolution.
 */
static __always_inline int og_stage_new(const struct og_config *cfg, struct og_xctx *x)
{
	struct og_src_rule *rule = NULL;
	struct og_admit_slot *s = NULL;
	struct og_res r = {};
	__u32 tag = 0, pseq;
	int v;

	x->now = og_now_sync();
	x->stateless = 1;
	v = og_src_gate(cfg, x, &rule);
	if (v != OG_CONTINUE)
		return v;
	/* A SYN (a flood's packet) finds its slot only after the rule lookups, so the
	 * slot and tag do not live across their calls: measured, that alone cost the
	 * flood row about 8%. Only a non-SYN may admit, so only it looks first. */
	if (!x->p.syn) {
		s = og_admit_slot(og_xhash(x));
		tag = og_key_tag(x->h);
	}
	if (!x->p.syn && s && s->tag == tag) {
		/* Read before og_flow_lane, so a pin written after it moves the sequence. */
		pseq = og_pin_seq(&x->p.key);
		if (og_admit_classified(s, cfg->rules_gen)) {
			r.lane = s->lane & 0xf;
			r.lane_src = s->lane >> 4;
		} else {
			og_resolve_rule(cfg, &x->p.key, rule, !og_pin_maybe(&x->p.key), &r);
		}
		x->lane = r.lane;
		x->lane_src = r.lane_src;
		return og_stage_admit(cfg, x, s, &r, pseq);
	}
	/* A SYN opens a connection the daemon cannot have pinned yet; other packets
	 * probe og_flow_lane only when their slot holds a pin (an ACK flood's rarely). */
	og_resolve_rule(cfg, &x->p.key, rule, x->p.syn || !og_pin_maybe(&x->p.key), &r);
	x->lane = r.lane;
	x->lane_src = r.lane_src;
	if (x->p.syn) {
		s = og_admit_slot(og_xhash(x));
		tag = og_key_tag(x->h);
	}
	if (s)
		og_admit_record(s, tag, x->len, x->p.syn, cfg->rules_gen, &r);
	return OG_CONTINUE;
}

/* Caches a resolution in the flow's way, and its lane in the directory word. */
static __always_inline void og_flow_set(struct og_flow_ref *ref, struct og_flow_stats *v,
					const struct og_res *r)
{
	v->lane = r->lane;
	v->lane_src = r->lane_src;
	v->blocked = r->blocked;
	og_flow_relane(ref, r->lane);
}

/*
 * Known flow with a current cached lane: the set's directory entry, the way, and
 * in-place increments, no map update. Rules are consulted only after a writer
 * bumped rules_gen; og_flow_lane only when the flow's og_pin_hint slot moved
 * (a pin written or cleared there).
 */
static __always_inline int og_stage_flow(const struct og_config *cfg, struct og_xctx *x)
{
	struct og_flow_ref ref = {};
	struct og_flow_stats *v;
	struct og_flow_way *w;
	struct og_flow_pin *pin;
	struct og_res r;
	__u64 *sw, sm;
	__u32 pseq;
	__u8 ep;
	int ev = 0;

	/* A SYN without ACK opens a connection, so it never belongs to a flow with
	 * state (admission waits for the handshake's ACK; an entry on the same
	 * 4-tuple is an earlier connection): a SYN flood skips the og_flows lookup. */
	if (x->p.syn)
		return og_stage_new(cfg, x);
	x->now = og_now();
	ep = og_seen_epoch(x->now);
	/* Other floods skip it on og_seen's clear bit (see seen.h). */
	sw = og_seen_word(&x->p.key, &sm);
	if (!sw || !og_seen_test(*sw, sm, ep))
		return og_stage_new(cfg, x);
	w = og_flow_find(&x->p.key, og_xhash(x), &ref);
	if (!w)
		return og_stage_new(cfg, x);
	v = &w->s;
	og_flow_touch(&ref, x->now);
	/* First packet of an epoch: keep the bit in the current generation. */
	if (v->seen_ep != ep) {
		og_seen_set(sw, sm, ep);
		v->seen_ep = ep;
	}
	pseq = og_pin_seq(&x->p.key);
	if (!og_cached(v, cfg)) {
		ev = !(v->lane_src != OG_LSRC_NONE && v->blocked);
		og_resolve(cfg, &x->p.key, &r);
		og_flow_set(&ref, v, &r);
		v->gen = cfg->rules_gen;
		v->pin_seq = pseq;
		if (!v->first_ns)
			v->first_ns = x->now;
		ev = ev && r.blocked;
	} else if (v->pin_seq != pseq) {
		/* A pin was written or cleared in this flow's og_pin_hint slot. */
		pin = bpf_map_lookup_elem(&og_flow_lane, &x->p.key);
		if (pin && og_lane_ok(pin->lane)) {
			r.lane = pin->lane;
			r.lane_src = OG_LSRC_PIN;
			r.blocked = v->blocked;
			og_flow_set(&ref, v, &r);
		} else if (v->lane_src == OG_LSRC_PIN) {
			og_resolve(cfg, &x->p.key, &r);
			og_flow_set(&ref, v, &r);
		}
		v->pin_seq = pseq;
	}
	v->pkts++;
	v->bytes += x->len;
	v->last_ns = x->now;
	x->lane = v->lane;
	x->lane_src = v->lane_src;
	if (v->blocked) {
		/* A flow that had state was cut off by a rule change: worth a log line. */
		if (ev)
			og_xevent(x, OG_EV_BLOCK);
		x->reason = OG_R_BLOCK;
		return XDP_DROP;
	}
	return og_stage_throttle(cfg, x);
}

SEC("xdp")
int og_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct og_xctx x = {};
	struct og_config *cfg;
	int v;

	x.len = end - data;
	cfg = og_cfg();
	if (!cfg || !cfg->enabled)
		return og_finish(ctx, &x, XDP_PASS, 0);
	og_parse_pkt(data, end, &x.p);
	v = og_stage_unclassified(cfg, &x);
	if (v == OG_CONTINUE)
		v = og_stage_flow(cfg, &x);
	if (v == OG_CONTINUE)
		v = XDP_PASS;
	return og_finish(ctx, &x, v, 1);
}
