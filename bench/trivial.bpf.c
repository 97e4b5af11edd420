// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Baselines for bench-bpf: the cheapest XDP and TC programs, to express og_* costs as ratios. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int trivial_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int trivial_tc(struct __sk_buff *skb)
{
	return -1; /* TC_ACT_UNSPEC */
}

/* Target of flood_xdp's tail call: og_xdp, or trivial_xdp for the harness's own cost. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} flood_target SEC(".maps");

/*
 * A spoofed-source flood inside BPF_PROG_TEST_RUN's repeat loop: each run
 * rewrites the IPv4 source to a random address in 100.64.0.0/10 (4M sources
 * no bench rule matches) and tail-calls the target, so the target sees a new
 * flow every time without a syscall per packet.
 */
SEC("xdp")
int flood_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 *saddr = data + 14 + 12; /* Ethernet, then the IPv4 source field */

	if ((void *)(saddr + 1) > end)
		return XDP_ABORTED;
	*saddr = bpf_htonl(0x64400000 | (bpf_get_prandom_u32() & 0x3fffff));
	bpf_tail_call(ctx, &flood_target, 0);
	return XDP_ABORTED;
}

/* The current storm_xdp flow's source, and how many runs it has made. */
__u32 storm_src;
__u64 storm_n;

/*
 * A connection storm inside the repeat loop: runs alternate a SYN from a new
 * random source in 100.64.0.0/10 and that flow's ACK, so every second packet
 * completes a handshake and is admitted into og_flows (which fills and then
 * evicts, as under a real storm). Same target and harness cost as flood_xdp.
 */
SEC("xdp")
int storm_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 *saddr = data + 14 + 12;
	__u8 *flags = data + 14 + 20 + 13; /* IPv4 without options, then TCP's flags byte */

	if ((void *)(flags + 1) > end)
		return XDP_ABORTED;
	if (!(storm_n++ & 1)) {
		storm_src = bpf_htonl(0x64400000 | (bpf_get_prandom_u32() & 0x3fffff));
		*flags = 0x02; /* SYN */
	} else {
		*flags = 0x10; /* ACK */
	}
	*saddr = storm_src;
	bpf_tail_call(ctx, &flood_target, 0);
	return XDP_ABORTED;
}
