/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* libogdp: load, attach and detach ordergate's datapath, and read/write its maps. */
#ifndef OG_DP_H
#define OG_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include <ordergate/og_shared.h>

/*
 * Every function returns 0 or a negative errno; those that can fail for a reason an
 * operator must act on take (char *err, size_t errlen) and write one line there that
 * says what to do. None of them keeps global state, so different threads may use
 * different struct dp_maps at once; one struct dp_maps is not thread-safe for the
 * few calls that use its scratch buffers (dp_flows_foreach).
 *
 * A daemon with an `xdp:` section does, once at start:
 *	struct dp_opts o = { .pin_dir = NULL (OG_PIN_DIR), .mode = DP_XDP_AUTO, .flows = N };
 *	dp_quiet_libs(false);
 *	dp_attach("eth0", &o, &st, err, sizeof(err));	// idempotent; keeps a running og_xdp
 *	dp_maps_open(&maps, o.pin_dir, err, sizeof(err));
 * then per controller tick dp_flows_foreach(&maps, cb, ctx), dp_lane_stats_read(),
 * dp_throttle_set()/dp_throttle_recount(), and per L7 decision dp_flow_pin_set(). It need
 * not detach on exit: the programs keep running fail-open on the last rules (detach is
 * `ordergatectl detach`). Tests use dp_load() with .unpinned = true and dp_maps_from_skel().
 */

/* TC filter handle and priority ordergate's programs use on clsact ingress/egress. */
#define DP_TC_HANDLE 0x6f67
#define DP_TC_PRIO   0x6f67
#define DP_STATE_DIR "/run/ordergate"

/* ---- pure helpers (dp_parse.c) ------------------------------------------------- */

/* An IPv4 or IPv6 prefix; addr is in network byte order, IPv4 in word 0. */
struct dp_prefix {
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 len;    /* prefix length in bits */
	__be32 addr[4];
};

/*
 * Parse "10.1.2.0/24", "2001:db8::/32" or a bare address (full-length prefix) into <p>.
 * Host bits set below the prefix are cleared and *<normalized> set to 1 (may be NULL).
 * Refuses (-EINVAL) a bad address, a length out of range, or trailing junk.
 */
int dp_prefix_parse(const char *s, struct dp_prefix *p, int *normalized, char *err, size_t errlen);
/* Format <p> as "addr/len" into <buf>; returns <buf>. */
const char *dp_prefix_str(const struct dp_prefix *p, char *buf, size_t len);
/* Parse a bare IPv4/IPv6 address into an og_addr_key. Returns 0 or -EINVAL. */
int dp_addr_parse(const char *s, struct og_addr_key *k, char *err, size_t errlen);
/* Format an address of <family> (4 words, network order) into <buf>; returns <buf>. */
const char *dp_addr_str(__u8 family, const __be32 addr[4], char *buf, size_t len);
/* Convert between the LPM map key and a prefix. */
void dp_prefix_to_lpm(const struct dp_prefix *p, struct og_lpm_key *k);
void dp_lpm_to_prefix(const struct og_lpm_key *k, struct dp_prefix *p);

/* Lane name ("none", "order", "normal", "bulk") of <lane>; "?" when out of range. */
const char *dp_lane_name(unsigned int lane);
/* Lane id of <name> (case-insensitive; also accepts the digits 0-3); -EINVAL if unknown. */
int dp_lane_parse(const char *name);
/* Name of a lane source OG_LSRC_* ("pin", "prefix", "port", "default", "none"). */
const char *dp_lsrc_name(unsigned int lsrc);
/* Name of an IP protocol number ("tcp", "udp", "frag" for 0, else the number in <buf>). */
const char *dp_proto_name(unsigned int proto, char *buf, size_t len);

/*
 * Parse a tc-style rate ("1gbit", "100mbit", "64kbit", "500kbps", "1000000", "1.5gbit")
 * into bits per second. Plain numbers are bits/s; "*bps" suffixes are bytes/s as in tc.
 * Refuses (-EINVAL) junk, zero, and (-ERANGE) rates above 10 tbit.
 */
int dp_rate_parse(const char *s, __u64 *bps, char *err, size_t errlen);
/* Format <bps> as the shortest exact tc rate ("1gbit", "400mbit", "1500bit"). */
const char *dp_rate_str(__u64 bps, char *buf, size_t len);
/* Format an HTB class id (0x00010010) as "1:10". */
const char *dp_class_str(__u32 classid, char *buf, size_t len);
/* Parse "major:minor" (hex, like tc) into a class id; -EINVAL if malformed. */
int dp_class_parse(const char *s, __u32 *classid);

/* ---- environment checks (dp_env.c) --------------------------------------------- */

/* 0 with euid 0 or CAP_NET_ADMIN + CAP_BPF (or CAP_SYS_ADMIN); else -EPERM and a message. */
int dp_check_root(char *err, size_t errlen);
/* 0 when <dir> (or its nearest existing parent) lies on a bpffs; -ENOTSUP otherwise. */
int dp_check_bpffs(const char *dir, char *err, size_t errlen);
/* ifindex of <ifname> (> 0), or -ENODEV with a message naming the interface. */
int dp_ifindex(const char *ifname, char *err, size_t errlen);
/* Directory the state files live in: $ORDERGATE_STATE_DIR or DP_STATE_DIR. */
const char *dp_state_dir(void);
/* Current CLOCK_MONOTONIC time in ns (the clock og_throttle.expires_ns is in). */
__u64 dp_now_ns(void);
/* Current CLOCK_MONOTONIC_COARSE time in ns (the clock og_xdp's timestamps use). */
__u64 dp_now_coarse_ns(void);

/*
 * Install libbpf/libxdp print callbacks that keep warnings but drop the messages our
 * own probes provoke (absent clsact or filter, libxdp's dispatcher probe); <all> shows
 * every level instead. Process-wide (the libraries keep one callback): call once, early.
 */
void dp_quiet_libs(bool all);

/* ---- loading and attaching (dp_load.c, dp_attach.c) ---------------------------- */

enum dp_xdp_mode {
	DP_XDP_AUTO = 0, /* native, falling back to generic (skb) if the driver refuses */
	DP_XDP_NATIVE,
	DP_XDP_GENERIC,
};

struct dp_opts {
	const char *pin_dir; /* NULL: OG_PIN_DIR */
	bool unpinned;	     /* dp_open/dp_load only: maps are not pinned (tests) */
	enum dp_xdp_mode mode;
	__u32 flows, src_rules, ports, pins, throttles; /* 0: the OG_DEF_* default */
};

struct og_bpf;

/*
 * Open the skeleton and prepare it for loading: pin paths <pin_dir>/<map>, map sizes
 * from <o>. When maps are already pinned there, checks each one against this build
 * (type, key and value size, flags, og_config.abi_version) and refuses with -EPROTO
 * and a message naming the fix (<ifname> is only used in that message; may be NULL).
 * Pinned maps keep their size. On success *<skel> must be freed with og_bpf__destroy().
 */
int dp_open(const struct dp_opts *o, const char *ifname, struct og_bpf **skel, char *err,
	    size_t errlen);
/* dp_open() followed by loading the object and writing og_config (dp_init_config). */
int dp_load(const struct dp_opts *o, struct og_bpf **skel, char *err, size_t errlen);
/*
 * Write the default og_config into a freshly loaded skeleton's og_config map unless it
 * already holds one of this ABI (reused pins keep their values). Returns 0 or -errno.
 */
int dp_init_config(struct og_bpf *skel, char *err, size_t errlen);

/* What an attach did, as recorded in <state_dir>/<ifname>.state. */
struct dp_state {
	char ifname[16];
	int ifindex;
	char pin_dir[256];
	enum dp_xdp_mode mode; /* DP_XDP_NATIVE or DP_XDP_GENERIC actually used */
	bool multiprog;	     /* true: through libxdp's dispatcher; false: a single legacy program */
	bool clsact_created; /* we created the clsact qdisc, so detach removes it */
	__u32 xdp_prog_id;
};

/*
 * Load the datapath with maps pinned under <o>->pin_dir and attach it to <ifname>:
 * og_xdp through libxdp (dispatcher or legacy), og_tc_in/og_tc_out on clsact at
 * DP_TC_HANDLE/DP_TC_PRIO. Idempotent: ordergate's own programs are replaced in place.
 * Refuses (-EBUSY) when a foreign program holds the XDP hook in legacy mode or our TC
 * slot, (-EPROTO) pins of another layout, (-ENODEV) an unknown interface. Writes the
 * state file; fills <st> if non-NULL. Not thread-safe (uses libxdp and netlink).
 */
int dp_attach(const char *ifname, const struct dp_opts *o, struct dp_state *st, char *err,
	      size_t errlen);
/*
 * Remove what dp_attach added to <ifname>: our XDP program, our TC filters, the clsact
 * qdisc only if the state file says we created it, the state file. With <purge>, also
 * unpin the maps under <pin_dir> (NULL: the state file's, else OG_PIN_DIR) and remove
 * the directory if empty. Nothing attached is not an error: returns 0 and describes
 * what was (or was not) removed in <note>. Foreign programs are left alone.
 */
int dp_detach(const char *ifname, const char *pin_dir, bool purge, char *note, size_t notelen,
	      char *err, size_t errlen);

/* State file I/O (dp_state.c). read returns -ENOENT when there is none. */
int dp_state_write(const struct dp_state *st, char *err, size_t errlen);
int dp_state_read(const char *ifname, struct dp_state *st);
int dp_state_remove(const char *ifname);
/* Call <cb> for each state file; stops at and returns a non-zero <cb> result. */
int dp_state_foreach(int (*cb)(const struct dp_state *st, void *ctx), void *ctx);

/* Live view of an interface (dp_status.c). */
struct dp_live {
	bool xdp_attached;  /* og_xdp runs on the interface */
	bool xdp_multiprog; /* ... through the libxdp dispatcher (else a legacy program) */
	enum dp_xdp_mode xdp_mode;
	int xdp_prog_count;   /* programs on the dispatcher (including ours) */
	__u32 xdp_prog_id;    /* og_xdp's id */
	char xdp_foreign[64]; /* name of a foreign legacy program holding the hook, or "" */
	bool tc_in, tc_out;   /* our filters present at DP_TC_HANDLE/DP_TC_PRIO */
	bool clsact;	      /* a clsact qdisc exists */
};
/* Query the kernel (libxdp, bpf_tc_query) about <ifindex>. Returns 0 or -errno. */
int dp_live_query(int ifindex, struct dp_live *lv);
/* Program name of BPF program <id> into <name> (16 bytes); returns 0 or -errno. */
int dp_prog_name(__u32 id, char *name, size_t len);

/* ---- map access (dp_maps.c and friends) ---------------------------------------- */

enum dp_map_id {
	DP_MAP_FLOWS,
	DP_MAP_LANE_STATS,
	DP_MAP_SRC_RULES,
	DP_MAP_PORT_LANE,
	DP_MAP_FLOW_LANE,
	DP_MAP_THROTTLE,
	DP_MAP_CONFIG,
	DP_MAP_PIN_HINT,  /* og_pin_hint: bumped by dp_flow_pin_set/clear */
	DP_MAP_PIN_COUNT, /* og_pin_count: kept by dp_flow_pin_set/clear through pin_count */
	DP_MAP_FLOW_DIR,  /* og_flow_dir: og_flows' directory, read through flow_dir */
	DP_MAP_COUNT,
};

/* File/map names, indexed by enum dp_map_id ("og_flows", ...). */
extern const char *const dp_map_names[DP_MAP_COUNT];

struct dp_maps {
	int fd[DP_MAP_COUNT];	      /* -1 when not open */
	int ncpus;		      /* libbpf_num_possible_cpus() */
	struct og_flow_dir *flow_dir; /* og_flow_dir mapped shared (read only), NULL when not */
	struct og_flow_way *flows;    /* og_flows mapped shared (read only), NULL when not */
	__u32 flow_sets;  /* og_flow_dir entries; og_flows has OG_FLOW_WAYS times more */
	int cfg_lock;	  /* og_config's lock file kept open (dp_config_lock_keep); <= 0: none */
	__u32 *pin_count; /* og_pin_count mapped shared (OG_PIN_HINT_SLOTS), NULL when not */
};

/*
 * Open every map pinned under <pin_dir> (NULL: OG_PIN_DIR). Refuses with -ENOENT
 * ("nothing pinned; run ordergatectl attach") and -EPROTO on a layout mismatch.
 */
int dp_maps_open(struct dp_maps *m, const char *pin_dir, char *err, size_t errlen);
/* Fill <m> with dup()ed fds of a loaded skeleton's maps (unpinned use, tests). */
int dp_maps_from_skel(struct dp_maps *m, struct og_bpf *skel, char *err, size_t errlen);
/* Map og_pin_count (fd[DP_MAP_PIN_COUNT] open) into m->pin_count, og_flow_dir and
 * og_flows into m->flow_dir and m->flows; dp_maps_open and dp_maps_from_skel do it, a caller that
 * dup()s fds itself calls it. */
int dp_maps_mmap(struct dp_maps *m, char *err, size_t errlen);
/* Close fds and free scratch; safe on a zeroed or already closed <m>. */
void dp_maps_close(struct dp_maps *m);
/* Number of entries in map <id> (O(n) walk of its keys). */
int dp_map_count(struct dp_maps *m, enum dp_map_id id, __u64 *n);

/* og_config read/write; dp_config_bump_gen increments rules_gen (read-modify-write). */
int dp_config_get(struct dp_maps *m, struct og_config *c);
int dp_config_put(struct dp_maps *m, const struct og_config *c);
int dp_config_bump_gen(struct dp_maps *m);
/*
 * Read og_config, let <fn> change it (returning > 0 to write it back, 0 to leave it,
 * < 0 to abort with that error), write it: all under an exclusive flock shared by every
 * process that writes this og_config (dp_cfglock.c), so concurrent writers never lose
 * each other's change. Every read-modify-write of og_config goes through here.
 */
int dp_config_update(struct dp_maps *m, int (*fn)(struct og_config *c, void *ctx), void *ctx);

/*
 * Open og_config's lock file now and keep it in <m> for every later dp_config_update: a
 * daemon calls it before it drops root, since the file (0600, root's) cannot be opened
 * afterwards. Only for a dp_maps used by one thread (flock excludes open files, not
 * threads). Returns 0 or a negative errno.
 */
int dp_config_lock_keep(struct dp_maps *m);
/* The og_config a fresh datapath starts with. */
void dp_config_default(struct og_config *c);

/*
 * Walk og_flows through its shared mapping and call <cb> once per flow with a
 * consistent copy of its state (a way og_xdp rewrote during the copy is skipped).
 * No syscall, no allocation. <cb> returning non-zero stops the walk and is returned.
 */
int dp_flows_foreach(struct dp_maps *m,
		     int (*cb)(const struct og_flow_key *k, const struct og_flow_stats *s,
			       void *ctx),
		     void *ctx);
/* og_xdp's og_flow_mask for an og_flow_dir of <sets> entries: the largest power
 * of two not above it, minus 1 (dp_open sets it; a caller sizing maps after
 * dp_open sets it again). */
static inline __u32 dp_flow_mask(__u32 sets)
{
	__u32 p = 1;

	while (p <= sets / 2)
		p <<= 1;
	return p - 1;
}
/* Flows in og_flows, counted through its mapping. */
int dp_flows_count(struct dp_maps *m, __u64 *n);
/* Sum og_lane_stats over CPUs into <out>[OG_LANE_MAX]. */
int dp_lane_stats_read(struct dp_maps *m, struct og_lane_stats out[OG_LANE_MAX]);

/*
 * Source rules. dp_src_rule_set writes <r> for <p>; dp_src_block sets/clears the
 * block flag keeping any lane (a rule left with no lane and no flag is deleted).
 * dp_src_rule_del deletes (-ENOENT if absent). Each bumps rules_gen.
 */
int dp_src_rule_set(struct dp_maps *m, const struct dp_prefix *p, const struct og_src_rule *r);
int dp_src_block(struct dp_maps *m, const struct dp_prefix *p, bool block);
/* Read the rule for exactly <p> (not a longest match) into <r>; -ENOENT if none. */
int dp_src_rule_get(struct dp_maps *m, const struct dp_prefix *p, struct og_src_rule *r);
int dp_src_rule_del(struct dp_maps *m, const struct dp_prefix *p);
int dp_src_rules_foreach(struct dp_maps *m,
			 int (*cb)(const struct dp_prefix *p, const struct og_src_rule *r,
				   void *ctx),
			 void *ctx);

/* Port lanes: <lane> OG_LANE_NONE deletes. Refuses port > 65535, lane > BULK. */
int dp_port_lane_set(struct dp_maps *m, unsigned int port, unsigned int lane);
int dp_port_lanes_foreach(struct dp_maps *m,
			  int (*cb)(unsigned int port, unsigned int lane, void *ctx), void *ctx);

/* Flow pins (og_flow_lane): set <lane> for <k>, or clear. Each bumps the key's og_pin_hint
 * slot (not rules_gen), so only flows in that slot look og_flow_lane up again. */
int dp_flow_pin_set(struct dp_maps *m, const struct og_flow_key *k, unsigned int lane);
int dp_flow_pin_clear(struct dp_maps *m, const struct og_flow_key *k);

/*
 * Throttles. dp_throttle_set installs a full bucket of <burst> packets refilled at
 * <pps>, expiring <ttl_ns> from now; refuses pps 0 or above OG_TB_MAX_RATE, burst 0.
 * After every change og_config.throttle_count is recomputed (unexpired entries).
 */
int dp_throttle_set(struct dp_maps *m, const struct og_addr_key *k, __u64 pps, __u64 burst,
		    __u64 ttl_ns);
int dp_throttle_clear(struct dp_maps *m, const struct og_addr_key *k);
/* The same without the recount, for a writer that applies a batch and recounts once
 * (the recount walks the whole map). dp_throttle_del returns -ENOENT when absent. */
int dp_throttle_put(struct dp_maps *m, const struct og_addr_key *k, __u64 pps, __u64 burst,
		    __u64 ttl_ns);
int dp_throttle_del(struct dp_maps *m, const struct og_addr_key *k);
/* Recount og_config.throttle_count (unexpired entries) under the og_config lock; og_xdp
 * treats it as a hint (0 skips the lookup), so it may be high, never low. */
int dp_throttle_recount(struct dp_maps *m, __u32 *live);
int dp_throttle_foreach(struct dp_maps *m,
			int (*cb)(const struct og_addr_key *k, const struct og_throttle *t,
				  void *ctx),
			void *ctx);

/* ---- HTB qdisc through iproute2 tc (dp_qdisc.c) -------------------------------- */

struct dp_qdisc_opts {
	__u64 rate;		      /* bits/s of the parent class 1:1 */
	__u64 ceil;		      /* 0: <rate> */
	__u64 lane_rate[OG_LANE_MAX]; /* 0: 40 % order, 40 % normal, 20 % bulk of <rate> */
	bool dry_run;		      /* print the commands only */
};
/*
 * Build the tc argv lists that install HTB root 1: (default 20), class 1:1 and the
 * lane classes 1:10/1:20/1:30 on <ifname>; print each command to <out> (may be NULL)
 * and run it unless dry_run. Refuses a child rate above the ceiling.
 */
int dp_qdisc_apply(const char *ifname, const struct dp_qdisc_opts *q, FILE *out, char *err,
		   size_t errlen);
/* Run `tc -s class show dev <ifname>` (stdout inherited). */
int dp_qdisc_show(const char *ifname, char *err, size_t errlen);
/* Run `tc qdisc del dev <ifname> root`. */
int dp_qdisc_del(const char *ifname, FILE *out, char *err, size_t errlen);
/* Run argv[0] with execvp (no shell), wait; returns 0, or -EIO with stderr's tail. */
int dp_run(char *const argv[], char *err, size_t errlen);

#endif /* OG_DP_H */
