// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Open and load the og_bpf skeleton with pinned (or private) maps sized from options. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "og.skel.h"
#include "dp/dp_int.h"

int dp_pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void dp_layout_msg(char *err, size_t errlen, const char *dir, const char *ifname, const char *name,
		   const char *what, __u32 got, __u32 want)
{
	const char *unit = !strcmp(what, "key") || !strcmp(what, "value") ? " bytes" : "";

	snprintf(err, errlen,
		 "pinned maps in %s were created by an older ordergate layout (%s %s %u%s, this "
		 "build expects %u%s); run `ordergatectl detach %s --purge` (or remove %s) and "
		 "attach again",
		 dir, name, what, got, unit, want, unit, ifname ? ifname : "IFACE", dir);
}

int dp_map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

int dp_config_read_fd(int fd, struct og_config *c)
{
	__u32 key = 0;

	memset(c, 0, sizeof(*c));
	return bpf_map_lookup_elem(fd, &key, c) ? -errno : 0;
}

/* mkdir -p for the pin dir; bpffs allows directories anywhere below its mount. */
static int mkdir_p(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	char *p;

	snprintf(path, sizeof(path), "%s", dir);
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
	return -errno;
}

/* Compare the map pinned at <path> with ours; adopt its size. -EPROTO on mismatch. */
static int check_pinned(struct bpf_map *map, const char *path, const char *dir, const char *ifname,
			char *err, size_t errlen)
{
	const char *name = bpf_map__name(map);
	struct bpf_map_info info;
	struct og_config c;
	int fd, ret;

	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	ret = dp_map_info(fd, &info);
	if (ret) {
		snprintf(err, errlen, "%s: cannot read map info: %s", path, strerror(-ret));
		goto out;
	}
	ret = -EPROTO;
	if (info.type != (__u32)bpf_map__type(map)) {
		dp_layout_msg(err, errlen, dir, ifname, name, "type", info.type,
			      bpf_map__type(map));
		goto out;
	}
	if (info.key_size != bpf_map__key_size(map)) {
		dp_layout_msg(err, errlen, dir, ifname, name, "key", info.key_size,
			      bpf_map__key_size(map));
		goto out;
	}
	if (info.value_size != bpf_map__value_size(map)) {
		dp_layout_msg(err, errlen, dir, ifname, name, "value", info.value_size,
			      bpf_map__value_size(map));
		goto out;
	}
	if (info.map_flags != bpf_map__map_flags(map)) {
		dp_layout_msg(err, errlen, dir, ifname, name, "flags", info.map_flags,
			      bpf_map__map_flags(map));
		goto out;
	}
	if (!strcmp(name, "og_config") && dp_config_read_fd(fd, &c) == 0 && c.abi_version &&
	    c.abi_version != OG_ABI_VERSION) {
		dp_layout_msg(err, errlen, dir, ifname, name, "abi_version", c.abi_version,
			      OG_ABI_VERSION);
		goto out;
	}
	/* libbpf reuses a pin only if max_entries match too: the pinned size wins. */
	ret = bpf_map__set_max_entries(map, info.max_entries);
	if (ret)
		snprintf(err, errlen, "%s: cannot adopt pinned size: %s", name, strerror(-ret));
out:
	close(fd);
	return ret;
}

static void set_size(struct bpf_map *map, __u32 n)
{
	if (n)
		bpf_map__set_max_entries(map, n);
}

int dp_open(const struct dp_opts *o, const char *ifname, struct og_bpf **skelp, char *err,
	    size_t errlen)
{
	const char *dir = o->pin_dir ? o->pin_dir : OG_PIN_DIR;
	char path[PATH_MAX];
	struct bpf_map *map;
	struct og_bpf *skel;
	int ret;

	*skelp = NULL;
	skel = og_bpf__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "opening the embedded BPF object failed: %s",
			 strerror(errno));
		return ret;
	}
	set_size(skel->maps.og_flow_dir, o->flows ? og_flow_sets(o->flows) : 0);
	set_size(skel->maps.og_flows, o->flows ? og_flow_sets(o->flows) * OG_FLOW_WAYS : 0);
	set_size(skel->maps.og_src_rules, o->src_rules);
	set_size(skel->maps.og_port_lane, o->ports);
	set_size(skel->maps.og_flow_lane, o->pins);
	set_size(skel->maps.og_throttle, o->throttles);

	if (!o->unpinned) {
		ret = dp_check_bpffs(dir, err, errlen);
		if (ret)
			goto fail;
		ret = mkdir_p(dir, err, errlen);
		if (ret)
			goto fail;
	}
	/* og_reuseport and its og_rp_* maps hold one daemon's sockets: the daemon loads
	 * them itself (user/lanes/reserve.c); the attach neither loads nor pins them. */
	bpf_program__set_autoload(skel->progs.og_reuseport, false);
	bpf_object__for_each_map(map, skel->obj)
	{
		if (!strncmp(bpf_map__name(map), "og_rp_", 6)) {
			bpf_map__set_autocreate(map, false);
			continue;
		}
		/* Maps declared without LIBBPF_PIN_BY_NAME (og_admit, og_ev_gate) are
		 * private per-CPU scratch of one loaded program: never pinned. */
		if (bpf_map__is_internal(map) || !bpf_map__pin_path(map))
			continue;
		if (o->unpinned) {
			ret = bpf_map__set_pin_path(map, NULL);
		} else {
			ret = dp_pin_path(path, sizeof(path), dir, bpf_map__name(map));
			if (!ret)
				ret = check_pinned(map, path, dir, ifname, err, errlen);
			if (ret)
				goto fail;
			ret = bpf_map__set_pin_path(map, path);
		}
		if (ret) {
			snprintf(err, errlen, "%s: setting pin path: %s", bpf_map__name(map),
				 strerror(-ret));
			goto fail;
		}
	}
	/* After the pinned sizes were adopted: the mask og_xdp indexes og_flow_dir with. */
	skel->rodata->og_flow_mask = dp_flow_mask(bpf_map__max_entries(skel->maps.og_flow_dir));
	*skelp = skel;
	return 0;
fail:
	og_bpf__destroy(skel);
	return ret;
}

void dp_config_default(struct og_config *c)
{
	memset(c, 0, sizeof(*c));
	c->abi_version = OG_ABI_VERSION;
	c->enabled = 1;
	c->default_lane = OG_LANE_NORMAL;
	c->fail_mode = OG_FAIL_OPEN;
	c->rules_gen = 1;
	c->lane_class[OG_LANE_ORDER] = OG_CLASS_ORDER;
	c->lane_class[OG_LANE_NORMAL] = OG_CLASS_NORMAL;
	c->lane_class[OG_LANE_BULK] = OG_CLASS_BULK;
}

int dp_init_config(struct og_bpf *skel, char *err, size_t errlen)
{
	int fd = bpf_map__fd(skel->maps.og_config);
	struct og_config c;
	__u32 key = 0;

	if (dp_config_read_fd(fd, &c) == 0 && c.abi_version == OG_ABI_VERSION)
		return 0; /* reused pins keep the operator's knobs */
	dp_config_default(&c);
	if (bpf_map_update_elem(fd, &key, &c, BPF_ANY)) {
		int ret = -errno;

		snprintf(err, errlen, "writing og_config: %s", strerror(errno));
		return ret;
	}
	return 0;
}

int dp_load(const struct dp_opts *o, struct og_bpf **skelp, char *err, size_t errlen)
{
	struct og_bpf *skel;
	int ret;

	ret = dp_open(o, NULL, &skel, err, errlen);
	if (ret)
		return ret;
	ret = og_bpf__load(skel);
	if (ret) {
		snprintf(err, errlen, "loading the BPF programs failed: %s (libbpf's log is above)",
			 strerror(-ret));
		goto fail;
	}
	ret = dp_init_config(skel, err, errlen);
	if (ret)
		goto fail;
	*skelp = skel;
	return 0;
fail:
	og_bpf__destroy(skel);
	return ret;
}
