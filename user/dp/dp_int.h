/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* libogdp internals shared between its files; not part of the library's API. */
#ifndef OG_DP_INT_H
#define OG_DP_INT_H

#include "dp/dp.h"

struct bpf_map_info;

/* Expected shape of each map, indexed by enum dp_map_id (from og_shared.h). */
struct dp_map_shape {
	__u32 type, key_size, value_size;
};
extern const struct dp_map_shape dp_map_shapes[DP_MAP_COUNT];

/*
 * Write the "pinned maps in <dir> were created by an older ordergate layout (...)"
 * message for map <name> whose <what> is <got> where this build expects <want>.
 */
void dp_layout_msg(char *err, size_t errlen, const char *dir, const char *ifname, const char *name,
		   const char *what, __u32 got, __u32 want);
/* bpf_obj_get_info_by_fd for a map fd; returns 0 or -errno. */
int dp_map_info(int fd, struct bpf_map_info *info);
/* Read og_config key 0 from <fd>; returns 0 or -errno. */
int dp_config_read_fd(int fd, struct og_config *c);
/* Join <dir>/<name> into <buf>; -ENAMETOOLONG when it does not fit. */
int dp_pin_path(char *buf, size_t len, const char *dir, const char *name);

/* Run <argv> (no shell); stdout into <out> when non-NULL, stderr's tail into <err>. */
int dp_run_capture(char *const argv[], char *out, size_t outlen, char *err, size_t errlen);
/* Detach ordergate's og_xdp from <ifindex> (dispatcher or legacy); 0, or -ENOENT if absent. */
int dp_xdp_detach_ours(int ifindex, char *err, size_t errlen);

/* -EBUSY when a filter that is not <want> holds DP_TC_HANDLE/DP_TC_PRIO on <point>. */
int dp_tc_slot_check(int ifindex, int point, const char *want);

#endif /* OG_DP_INT_H */
