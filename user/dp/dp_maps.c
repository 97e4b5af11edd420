// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Open ordergate's pinned maps by path, check their layout, and read/write og_config. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "og.skel.h"
#include "dp/dp_int.h"

const char *const dp_map_names[DP_MAP_COUNT] = {
    [DP_MAP_FLOWS] = "og_flows",	 [DP_MAP_LANE_STATS] = "og_lane_stats",
    [DP_MAP_SRC_RULES] = "og_src_rules", [DP_MAP_PORT_LANE] = "og_port_lane",
    [DP_MAP_FLOW_LANE] = "og_flow_lane", [DP_MAP_THROTTLE] = "og_throttle",
    [DP_MAP_CONFIG] = "og_config",	 [DP_MAP_PIN_HINT] = "og_pin_hint",
    [DP_MAP_PIN_COUNT] = "og_pin_count", [DP_MAP_FLOW_DIR] = "og_flow_dir",
};

const struct dp_map_shape dp_map_shapes[DP_MAP_COUNT] = {
    [DP_MAP_FLOWS] = {BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct og_flow_way)},
    [DP_MAP_LANE_STATS] = {BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(struct og_lane_stats)},
    [DP_MAP_SRC_RULES] = {BPF_MAP_TYPE_LPM_TRIE, sizeof(struct og_lpm_key),
			  sizeof(struct og_src_rule)},
    [DP_MAP_PORT_LANE] = {BPF_MAP_TYPE_HASH, sizeof(struct og_port_key),
			  sizeof(struct og_lane_val)},
    [DP_MAP_FLOW_LANE] = {BPF_MAP_TYPE_LRU_HASH, sizeof(struct og_flow_key),
			  sizeof(struct og_flow_pin)},
    [DP_MAP_THROTTLE] = {BPF_MAP_TYPE_LRU_HASH, sizeof(struct og_addr_key),
			 sizeof(struct og_throttle)},
    [DP_MAP_CONFIG] = {BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct og_config)},
    [DP_MAP_PIN_HINT] = {BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u32)},
    [DP_MAP_PIN_COUNT] = {BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u32)},
    [DP_MAP_FLOW_DIR] = {BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct og_flow_dir)},
};

#define PIN_COUNT_BYTES (OG_PIN_HINT_SLOTS * sizeof(__u32))

static void maps_init(struct dp_maps *m)
{
	int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < DP_MAP_COUNT; i++)
		m->fd[i] = -1;
	m->cfg_lock = -1;
	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus < 1)
		m->ncpus = 1;
}

void dp_maps_close(struct dp_maps *m)
{
	int i;

	if (m->pin_count)
		munmap(m->pin_count, PIN_COUNT_BYTES);
	m->pin_count = NULL;
	if (m->flow_dir)
		munmap(m->flow_dir, (size_t)m->flow_sets * sizeof(struct og_flow_dir));
	if (m->flows)
		munmap(m->flows, (size_t)m->flow_sets * OG_FLOW_WAYS * sizeof(struct og_flow_way));
	m->flow_dir = NULL;
	m->flows = NULL;
	m->flow_sets = 0;
	for (i = 0; i < DP_MAP_COUNT; i++) {
		if (m->fd[i] > 0)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
	if (m->cfg_lock > 0)
		close(m->cfg_lock);
	m->cfg_lock = -1;
}

/* Check the map open at <fd> has the shape map <id> must have. */
static int check_shape(int fd, int id, const char *dir, char *err, size_t errlen)
{
	const struct dp_map_shape *want = &dp_map_shapes[id];
	const char *name = dp_map_names[id];
	struct bpf_map_info info;
	struct og_config c;
	int ret;

	ret = dp_map_info(fd, &info);
	if (ret) {
		snprintf(err, errlen, "%s/%s: cannot read map info: %s", dir, name, strerror(-ret));
		return ret;
	}
	if (info.type != want->type) {
		dp_layout_msg(err, errlen, dir, NULL, name, "type", info.type, want->type);
		return -EPROTO;
	}
	if (info.key_size != want->key_size) {
		dp_layout_msg(err, errlen, dir, NULL, name, "key", info.key_size, want->key_size);
		return -EPROTO;
	}
	if (info.value_size != want->value_size) {
		dp_layout_msg(err, errlen, dir, NULL, name, "value", info.value_size,
			      want->value_size);
		return -EPROTO;
	}
	/* 0: created but not yet initialised by attach; any other value must match */
	if (id == DP_MAP_CONFIG && dp_config_read_fd(fd, &c) == 0 && c.abi_version &&
	    c.abi_version != OG_ABI_VERSION) {
		dp_layout_msg(err, errlen, dir, NULL, name, "abi_version", c.abi_version,
			      OG_ABI_VERSION);
		return -EPROTO;
	}
	return 0;
}

int dp_maps_open(struct dp_maps *m, const char *pin_dir, char *err, size_t errlen)
{
	const char *dir = pin_dir ? pin_dir : OG_PIN_DIR;
	char path[PATH_MAX];
	int i, ret;

	maps_init(m);
	ret = dp_check_bpffs(dir, err, errlen);
	if (ret)
		return ret;
	for (i = 0; i < DP_MAP_COUNT; i++) {
		ret = dp_pin_path(path, sizeof(path), dir, dp_map_names[i]);
		if (ret) {
			snprintf(err, errlen, "%s: path too long", dir);
			goto fail;
		}
		m->fd[i] = bpf_obj_get(path);
		if (m->fd[i] < 0) {
			ret = -errno;
			if (errno == ENOENT)
				snprintf(err, errlen,
					 "no ordergate maps pinned in %s (%s missing); run "
					 "`ordergatectl "
					 "attach IFACE%s%s` first",
					 dir, dp_map_names[i], pin_dir ? " --pin-path " : "",
					 pin_dir ? pin_dir : "");
			else if (errno == EACCES || errno == EPERM)
				snprintf(err, errlen,
					 "%s: %s; ordergatectl must run as root "
					 "(CAP_BPF + CAP_NET_ADMIN)",
					 path, strerror(errno));
			else
				snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		ret = check_shape(m->fd[i], i, dir, err, errlen);
		if (ret)
			goto fail;
	}
	ret = dp_maps_mmap(m, err, errlen);
	if (ret)
		goto fail;
	return 0;
fail:
	dp_maps_close(m);
	return ret;
}

int dp_maps_from_skel(struct dp_maps *m, struct og_bpf *skel, char *err, size_t errlen)
{
	int i;

	maps_init(m);
	for (i = 0; i < DP_MAP_COUNT; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(skel->obj, dp_map_names[i]);
		int fd = map ? bpf_map__fd(map) : -1;

		m->fd[i] = fd >= 0 ? dup(fd) : -1;
		if (m->fd[i] < 0) {
			snprintf(err, errlen, "%s: skeleton not loaded", dp_map_names[i]);
			dp_maps_close(m);
			return -EBADF;
		}
	}
	return dp_maps_mmap(m, err, errlen);
}

/* Maps <id> (an mmapable array of <n> values of <size> bytes, or of any power of
 * two when n is 0) read-only into *<p>; returns its entries or -errno. */
static long map_ro(struct dp_maps *m, int id, __u32 n, size_t size, void **p, char *err,
		   size_t errlen)
{
	struct bpf_map_info info;
	int ret = dp_map_info(m->fd[id], &info);

	if (!ret && (!(info.map_flags & BPF_F_MMAPABLE) || !info.max_entries ||
		     (n ? info.max_entries != n : (info.max_entries & (info.max_entries - 1)))))
		ret = -EPROTO;
	if (ret) {
		snprintf(err, errlen, "%s: not an mmapable array of %s entries: %s",
			 dp_map_names[id], n ? "4 x og_flow_dir's" : "2^n", strerror(-ret));
		return ret;
	}
	*p = mmap(NULL, (size_t)info.max_entries * size, PROT_READ, MAP_SHARED, m->fd[id], 0);
	if (*p == MAP_FAILED) {
		ret = -errno;
		*p = NULL;
		snprintf(err, errlen, "%s: mmap: %s", dp_map_names[id], strerror(-ret));
		return ret;
	}
	return info.max_entries;
}

/* Map og_flow_dir (2^n sets: flows.h masks the hash with them) and og_flows (4
 * ways per set) read-only. */
static int flows_mmap(struct dp_maps *m, char *err, size_t errlen)
{
	void *dir, *ways;
	long n = map_ro(m, DP_MAP_FLOW_DIR, 0, sizeof(struct og_flow_dir), &dir, err, errlen);

	if (n < 0)
		return n;
	m->flow_dir = dir;
	m->flow_sets = n;
	n = map_ro(m, DP_MAP_FLOWS, m->flow_sets * OG_FLOW_WAYS, sizeof(struct og_flow_way), &ways,
		   err, errlen);
	if (n < 0)
		return n;
	m->flows = ways;
	return 0;
}

int dp_maps_mmap(struct dp_maps *m, char *err, size_t errlen)
{
	struct bpf_map_info info;
	void *p;
	int ret = dp_map_info(m->fd[DP_MAP_PIN_COUNT], &info);

	if (!ret && (!(info.map_flags & BPF_F_MMAPABLE) || info.max_entries != OG_PIN_HINT_SLOTS))
		ret = -EPROTO;
	if (ret) {
		snprintf(err, errlen, "og_pin_count: not an mmapable array of %u counts: %s",
			 OG_PIN_HINT_SLOTS, strerror(-ret));
		dp_maps_close(m);
		return ret;
	}
	p = mmap(NULL, PIN_COUNT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd[DP_MAP_PIN_COUNT],
		 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		snprintf(err, errlen, "og_pin_count: mmap: %s", strerror(errno));
		dp_maps_close(m);
		return ret;
	}
	m->pin_count = p;
	ret = flows_mmap(m, err, errlen);
	if (ret)
		dp_maps_close(m);
	return ret;
}

int dp_map_count(struct dp_maps *m, enum dp_map_id id, __u64 *n)
{
	char key[64], next[64];
	void *prev = NULL;
	__u64 cnt = 0;

	if (m->fd[id] < 0)
		return -EBADF;
	if (id == DP_MAP_FLOWS)
		return dp_flows_count(m, n);
	if (id == DP_MAP_LANE_STATS || id == DP_MAP_CONFIG || id == DP_MAP_PIN_HINT ||
	    id == DP_MAP_PIN_COUNT || id == DP_MAP_FLOW_DIR) {
		struct bpf_map_info info;
		int ret = dp_map_info(m->fd[id], &info);

		*n = ret ? 0 : info.max_entries;
		return ret;
	}
	while (bpf_map_get_next_key(m->fd[id], prev, next) == 0) {
		memcpy(key, next, sizeof(key));
		prev = key;
		if (++cnt > (1ULL << 32))
			break; /* a map cannot hold more; guards a kernel bug looping us */
	}
	*n = cnt;
	return 0;
}

int dp_config_get(struct dp_maps *m, struct og_config *c)
{
	return dp_config_read_fd(m->fd[DP_MAP_CONFIG], c);
}

int dp_config_put(struct dp_maps *m, const struct og_config *c)
{
	__u32 key = 0;

	return bpf_map_update_elem(m->fd[DP_MAP_CONFIG], &key, c, BPF_ANY) ? -errno : 0;
}

static int bump_gen(struct og_config *c, void *ctx)
{
	c->rules_gen++;
	if (!c->rules_gen)
		c->rules_gen = 1;
	return 1;
}

int dp_config_bump_gen(struct dp_maps *m)
{
	return dp_config_update(m, bump_gen, NULL);
}
