// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Ask the kernel what runs on an interface's XDP and TC hooks, and remove our XDP program. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "dp/dp_int.h"

int dp_prog_name(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd, ret = 0;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		ret = -errno;
	else
		snprintf(name, len, "%s", info.name);
	close(fd);
	return ret;
}

static enum dp_xdp_mode mode_of(enum xdp_attach_mode m)
{
	return m == XDP_MODE_SKB ? DP_XDP_GENERIC : DP_XDP_NATIVE;
}

/* Our TC filter on <point>: 1 if present and ours, 0 if absent, -EBUSY if foreign. */
static int tc_probe(int ifindex, enum bpf_tc_attach_point point, const char *want)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE, .priority = DP_TC_PRIO);
	char name[32] = "";

	if (bpf_tc_query(&hook, &opts))
		return 0;
	if (dp_prog_name(opts.prog_id, name, sizeof(name)) == 0 && !strcmp(name, want))
		return 1;
	return -EBUSY;
}

int dp_live_query(int ifindex, struct dp_live *lv)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;

	memset(lv, 0, sizeof(*lv));
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (mp && !libxdp_get_error(mp)) {
		lv->xdp_multiprog = !xdp_multiprog__is_legacy(mp);
		lv->xdp_mode = mode_of(xdp_multiprog__attach_mode(mp));
		if (!lv->xdp_multiprog) {
			p = xdp_multiprog__main_prog(mp);
			if (p && !strcmp(xdp_program__name(p), "og_xdp")) {
				lv->xdp_attached = true;
				lv->xdp_prog_id = xdp_program__id(p);
			} else if (p) {
				snprintf(lv->xdp_foreign, sizeof(lv->xdp_foreign), "%s (id %u)",
					 xdp_program__name(p), xdp_program__id(p));
			}
			lv->xdp_prog_count = p ? 1 : 0;
		} else {
			for (p = xdp_multiprog__next_prog(NULL, mp); p;
			     p = xdp_multiprog__next_prog(p, mp)) {
				lv->xdp_prog_count++;
				if (!strcmp(xdp_program__name(p), "og_xdp")) {
					lv->xdp_attached = true;
					lv->xdp_prog_id = xdp_program__id(p);
				}
			}
		}
		xdp_multiprog__close(mp);
	}
	lv->tc_in = tc_probe(ifindex, BPF_TC_INGRESS, "og_tc_in") == 1;
	lv->tc_out = tc_probe(ifindex, BPF_TC_EGRESS, "og_tc_out") == 1;
	return 0;
}

/* Exposed for dp_attach.c: -EBUSY when a foreign filter holds our slot on <point>. */
int dp_tc_slot_check(int ifindex, int point, const char *want)
{
	return tc_probe(ifindex, point, want) < 0 ? -EBUSY : 0;
}

int dp_xdp_detach_ours(int ifindex, char *err, size_t errlen)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int ret = -ENOENT;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!mp || libxdp_get_error(mp))
		return -ENOENT;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), "og_xdp"))
			ret = xdp_multiprog__detach(mp);
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp)) {
			if (strcmp(xdp_program__name(p), "og_xdp"))
				continue;
			ret = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
			break;
		}
	}
	if (ret && ret != -ENOENT) {
		char buf[128];

		libxdp_strerror(ret, buf, sizeof(buf));
		snprintf(err, errlen, "removing og_xdp from ifindex %d: %s", ifindex, buf);
	}
	xdp_multiprog__close(mp);
	return ret;
}
