/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Every map ordergate's BPF programs share, pinned by name under OG_PIN_DIR. */
#ifndef OG_MAPS_H
#define OG_MAPS_H

#include "ordergate/og_shared.h"

/*
 * Each program file includes this header and the objects are linked into one
 * (bpftool gen object), so every definition is __weak: the linker keeps one.
 * Sizes here are defaults; the loader sets max_entries from config at load time.
 */

/*
 * og_flows' directory: one og_flow_dir per set, a word per way (og_shared.h,
 * bpf/flows.h); max_entries counts sets (og_flow_sets()), a power of two.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OG_DEF_FLOW_SETS);
	__type(key, __u32);
	__type(value, struct og_flow_dir);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} og_flow_dir SEC(".maps") __weak;

/*
 * Per-flow packet/byte counters and the flow's cached lane, one way each (way w
 * of set i at i * OG_FLOW_WAYS + w); written by og_xdp, read by og_tc_*. Only
 * admitted flows (og_admit) take a way, so a spoofed flood never evicts.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OG_DEF_FLOW_WAYS);
	__type(key, __u32);
	__type(value, struct og_flow_way);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} og_flows SEC(".maps") __weak;

/* Per-lane counters (index OG_LANE_*), per CPU; written by og_xdp and og_tc_*. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OG_LANE_MAX);
	__type(key, __u32);
	__type(value, struct og_lane_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} og_lane_stats SEC(".maps") __weak;

/* Source prefix -> lane and/or block; written by ordergatectl and the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, OG_DEF_SRC_RULES);
	__type(key, struct og_lpm_key);
	__type(value, struct og_src_rule);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} og_src_rules SEC(".maps") __weak;

/* Destination port -> lane; written from config. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OG_DEF_PORTS);
	__type(key, struct og_port_key);
	__type(value, struct og_lane_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} og_port_lane SEC(".maps") __weak;

/* Flow -> lane pinned by the daemon's L7 classifier; wins over every other rule. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OG_DEF_FLOW_PINS);
	__type(key, struct og_flow_key);
	__type(value, struct og_flow_pin);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} og_flow_lane SEC(".maps") __weak;

/* Pin sequence per og_pin_slot(flow key); bumped by writers of og_flow_lane. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OG_PIN_HINT_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} og_pin_hint SEC(".maps") __weak;

/* Pins per og_pin_hint slot (og_shared.h); mmapable, so writers add atomically. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OG_PIN_HINT_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} og_pin_count SEC(".maps") __weak;

/* Source address -> token bucket; set by the controller, drained by og_xdp. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OG_DEF_THROTTLES);
	__type(key, struct og_addr_key);
	__type(value, struct og_throttle);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} og_throttle SEC(".maps") __weak;

/* Global knobs (key 0); written by ordergatectl and the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct og_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} og_config SEC(".maps") __weak;

/* Notable events (struct og_event) for the daemon's log; lossy when full. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, OG_DEF_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} og_events SEC(".maps") __weak;

/* Admission filter: flows seen without og_flows state, per CPU (not pinned:
 * private to one loaded og_xdp, losing it only delays admissions). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OG_ADMIT_SLOTS);
	__type(key, __u32);
	__type(value, struct og_admit_slot);
} og_admit SEC(".maps") __weak;

/* og_seen.h's filter: may a flow have og_flows state? One bitmap for all CPUs
 * (og_flows is one table), 32 KiB so the kernel kmallocs it; not pinned: a new
 * og_xdp starts empty and every flow finds its bit again within two packets. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OG_SEEN_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} og_seen SEC(".maps") __weak;

/* Event rate gate per kind, per CPU (not pinned). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OG_EV_KINDS);
	__type(key, __u32);
	__type(value, struct og_ev_gate);
} og_ev_gate SEC(".maps") __weak;

/* sk_reuseport steering (og_reuseport.bpf.c); per daemon process, never pinned. */
/* Listening address (port, family) -> its slots in og_rp_socks. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OG_RP_MAX_GROUPS);
	__type(key, struct og_rp_key);
	__type(value, struct og_rp_group);
} og_rp_groups SEC(".maps") __weak;

/* Source prefix -> lane; ORDER sources go to the reserved workers' sockets. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, OG_RP_MAX_SRC);
	__type(key, struct og_lpm_key);
	__type(value, struct og_lane_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} og_rp_src SEC(".maps") __weak;

/* The workers' listening sockets, group by group (see og_rp_group). */
struct {
	__uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
	__uint(max_entries, OG_RP_MAX_SOCKS);
	__type(key, __u32);
	__type(value, __u64);
} og_rp_socks SEC(".maps") __weak;

#endif /* OG_MAPS_H */
