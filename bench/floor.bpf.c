// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The memory floor of a new flow's admission, for bench-bpf: og_xdp's own parse,
 * hash and og_flow_insert (bpf/flows.h) on this object's og_flow_dir and og_flows,
 * which have og_xdp's default geometry, and nothing else of og_xdp. Run once per
 * distinct packet like og_xdp's one-shot rows, they show what one cold directory
 * entry and one cold way cost on this machine whatever the program around them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "flows.h"
#include "parse.h"

char LICENSE[] SEC("license") = "GPL";

/* Keeps the compiler from dropping work whose result nothing else reads. */
__u64 floor_sink;

/* Parse and hash: og_xdp's work before it touches per-flow memory. */
SEC("xdp")
int floor_hash_xdp(struct xdp_md *ctx)
{
	struct og_pkt p = {};

	og_parse_pkt((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p);
	floor_sink += og_key_hash(&p.key);
	return XDP_PASS;
}

/* Parse, hash and a lookup: reads the flow's directory entry (a miss for a new flow). */
SEC("xdp")
int floor_find_xdp(struct xdp_md *ctx)
{
	struct og_flow_ref ref = {};
	struct og_pkt p = {};

	og_parse_pkt((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p);
	floor_sink += og_flow_find(&p.key, og_key_hash(&p.key), &ref) != NULL;
	return XDP_PASS;
}

/* Parse, hash and insert, as og_xdp admits a handshake's ACK (no lookup before: og_seen
 * already said the flow has no state): the directory entry read and claimed, the way
 * written. */
SEC("xdp")
int floor_admit_xdp(struct xdp_md *ctx)
{
	struct og_flow_stats v = {.pkts = 1, .lane = OG_LANE_NORMAL};
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct og_pkt p = {};
	int evicted = -1;

	og_parse_pkt(data, end, &p);
	v.bytes = end - data;
	floor_sink += og_flow_insert(&p.key, og_key_hash(&p.key), &v, 0, &evicted);
	return XDP_PASS;
}
