// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Baselines for bench-bpf: the cheapest XDP and TC programs, to express og_* costs as ratios. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

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
