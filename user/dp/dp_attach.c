// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Attach og_xdp (libxdp) and og_tc_in/og_tc_out (clsact) to an interface, and undo it. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "og.skel.h"
#include "dp/dp_int.h"

/* Does program <prog_id> use the map pinned at <dir>/og_config? (same datapath instance) */
static bool prog_uses_pins(__u32 prog_id, const char *dir)
{
	struct bpf_prog_info info;
	struct bpf_map_info minfo;
	char path[PATH_MAX];
	__u32 ids[64], len = sizeof(info), i;
	bool found = false;
	int pfd, mfd;

	if (dp_pin_path(path, sizeof(path), dir, "og_config"))
		return false;
	mfd = bpf_obj_get(path);
	if (mfd < 0)
		return false;
	pfd = bpf_prog_get_fd_by_id(prog_id);
	if (pfd >= 0 && dp_map_info(mfd, &minfo) == 0) {
		memset(&info, 0, sizeof(info));
		info.nr_map_ids = 64;
		info.map_ids = (__u64)(unsigned long)ids;
		if (bpf_obj_get_info_by_fd(pfd, &info, &len) == 0)
			for (i = 0; i < info.nr_map_ids && i < 64; i++)
				found |= ids[i] == minfo.id;
	}
	if (pfd >= 0)
		close(pfd);
	close(mfd);
	return found;
}

static void xdp_msg(char *err, size_t errlen, const char *what, int ret)
{
	char buf[128];

	libxdp_strerror(ret, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, buf);
}

/* Attach og_xdp of <skel> in <mode>; libxdp loads the object (og_xdp as an freplace
 * extension when it uses its dispatcher), so the TC programs get fds too. */
static int xdp_attach(struct og_bpf *skel, int ifindex, enum dp_xdp_mode mode, struct dp_state *st,
		      char *err, size_t errlen)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xo, .obj = skel->obj, .prog_name = "og_xdp");
	enum xdp_attach_mode xm = mode == DP_XDP_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	struct xdp_multiprog *mp;
	struct xdp_program *prog;
	int ret;

	prog = xdp_program__create(&xo);
	ret = libxdp_get_error(prog);
	if (ret) {
		xdp_msg(err, errlen, "preparing og_xdp for libxdp", ret);
		return ret;
	}
	ret = xdp_program__attach(prog, ifindex, xm, 0);
	if (ret) {
		xdp_msg(err, errlen,
			mode == DP_XDP_GENERIC
			    ? "attaching og_xdp (generic mode)"
			    : "attaching og_xdp (native mode; try --mode generic)",
			ret);
		xdp_program__close(prog);
		return ret;
	}
	st->xdp_prog_id = xdp_program__id(prog);
	st->mode = mode == DP_XDP_GENERIC ? DP_XDP_GENERIC : DP_XDP_NATIVE;
	st->multiprog = false;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (mp && !libxdp_get_error(mp)) {
		st->multiprog = !xdp_multiprog__is_legacy(mp);
		xdp_multiprog__close(mp);
	}
	xdp_program__close(prog); /* the object stays ours (created from skel->obj) */
	return 0;
}

static int tc_attach_one(int ifindex, enum bpf_tc_attach_point point, int prog_fd, const char *name,
			 char *err, size_t errlen)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE, .priority = DP_TC_PRIO,
			    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int ret;

	ret = bpf_tc_attach(&hook, &opts);
	if (ret)
		snprintf(err, errlen, "attaching %s to TC %s: %s", name,
			 point == BPF_TC_INGRESS ? "ingress" : "egress", strerror(-ret));
	return ret;
}

static void tc_detach_one(int ifindex, enum bpf_tc_attach_point point, const char *name)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE, .priority = DP_TC_PRIO);

	if (dp_tc_slot_check(ifindex, point, name) == 0 && bpf_tc_query(&hook, &opts) == 0) {
		opts.prog_id = 0;
		opts.prog_fd = 0;
		opts.flags = 0;
		bpf_tc_detach(&hook, &opts);
	}
}

/* Remove the clsact qdisc unless someone else's filters now live on it. */
static bool clsact_remove(const char *ifname, int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	static const char *const dirs[] = {"ingress", "egress"};
	char out[256], err[256];
	size_t i;

	for (i = 0; i < 2; i++) {
		char *argv[] = {"tc",		"filter",	 "show", "dev",
				(char *)ifname, (char *)dirs[i], NULL};

		if (dp_run_capture(argv, out, sizeof(out), err, sizeof(err)) || out[0])
			return false;
	}
	return bpf_tc_hook_destroy(&hook) == 0;
}

int dp_attach(const char *ifname, const struct dp_opts *o, struct dp_state *out, char *err,
	      size_t errlen)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	const char *dir = o->pin_dir ? o->pin_dir : OG_PIN_DIR;
	bool keep_xdp = false, xdp_added = false, clsact_new = false;
	struct og_bpf *skel = NULL;
	struct dp_state st, old;
	struct dp_live lv;
	int ifindex, ret;

	ret = dp_check_root(err, errlen);
	if (ret)
		return ret;
	ifindex = dp_ifindex(ifname, err, errlen);
	if (ifindex < 0)
		return ifindex;
	if (o->unpinned) {
		snprintf(err, errlen, "attach needs pinned maps (a --pin-path on bpffs)");
		return -EINVAL;
	}
	memset(&st, 0, sizeof(st));
	snprintf(st.ifname, sizeof(st.ifname), "%s", ifname);
	st.ifindex = ifindex;
	snprintf(st.pin_dir, sizeof(st.pin_dir), "%s", dir);
	/* a state file for an older incarnation of the interface says nothing about this one */
	if (dp_state_read(ifname, &old) < 0 || old.ifindex != ifindex)
		memset(&old, 0, sizeof(old));

	dp_live_query(ifindex, &lv);
	if (lv.xdp_foreign[0]) {
		snprintf(err, errlen,
			 "XDP program %s (not ordergate's, not under the libxdp dispatcher) "
			 "holds the hook; remove it (`xdp-loader unload %s --all` or `ip link set "
			 "dev %s xdp off`) and attach again",
			 lv.xdp_foreign, ifname, ifname);
		return -EBUSY;
	}
	if (dp_tc_slot_check(ifindex, BPF_TC_INGRESS, "og_tc_in") ||
	    dp_tc_slot_check(ifindex, BPF_TC_EGRESS, "og_tc_out")) {
		snprintf(
		    err, errlen,
		    "a TC filter that is not ordergate's holds handle 0x%x prio %u "
		    "(see `tc filter show dev %s ingress` / egress); remove it and attach again",
		    DP_TC_HANDLE, DP_TC_PRIO, ifname);
		return -EBUSY;
	}
	/* Ours already runs on these pins in an acceptable mode: keep it (no XDP gap). */
	if (lv.xdp_attached && prog_uses_pins(lv.xdp_prog_id, dir) &&
	    (o->mode == DP_XDP_AUTO || o->mode == lv.xdp_mode))
		keep_xdp = true;

	ret = dp_open(o, ifname, &skel, err, errlen);
	if (ret)
		return ret;
	if (keep_xdp) {
		st.xdp_prog_id = lv.xdp_prog_id;
		st.multiprog = lv.xdp_multiprog;
		st.mode = lv.xdp_mode;
		ret = og_bpf__load(skel);
		if (ret) {
			snprintf(err, errlen, "loading the BPF programs failed: %s",
				 strerror(-ret));
			goto fail;
		}
	} else {
		if (lv.xdp_attached) {
			ret = dp_xdp_detach_ours(ifindex, err, errlen);
			if (ret && ret != -ENOENT)
				goto fail;
		}
		ret = xdp_attach(skel, ifindex, o->mode, &st, err, errlen);
		if (ret && o->mode == DP_XDP_AUTO) {
			/* the driver may lack native XDP: retry generic with a fresh object */
			og_bpf__destroy(skel);
			ret = dp_open(o, ifname, &skel, err, errlen);
			if (ret)
				return ret;
			ret = xdp_attach(skel, ifindex, DP_XDP_GENERIC, &st, err, errlen);
		}
		if (ret)
			goto fail;
		xdp_added = true;
	}
	if (bpf_program__fd(skel->progs.og_tc_in) < 0 ||
	    bpf_program__fd(skel->progs.og_tc_out) < 0) {
		snprintf(err, errlen, "libxdp did not load the TC programs of the object");
		ret = -ENOENT;
		goto fail;
	}
	ret = dp_init_config(skel, err, errlen);
	if (ret)
		goto fail;

	hook.ifindex = ifindex;
	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST) {
		snprintf(err, errlen, "creating clsact on %s: %s", ifname, strerror(-ret));
		goto fail;
	}
	clsact_new = ret == 0;
	st.clsact_created = clsact_new || old.clsact_created;
	ret = tc_attach_one(ifindex, BPF_TC_INGRESS, bpf_program__fd(skel->progs.og_tc_in),
			    "og_tc_in", err, errlen);
	if (!ret)
		ret = tc_attach_one(ifindex, BPF_TC_EGRESS, bpf_program__fd(skel->progs.og_tc_out),
				    "og_tc_out", err, errlen);
	if (ret)
		goto fail_tc;
	ret = dp_state_write(&st, err, errlen);
	if (ret)
		goto fail_tc;
	if (out)
		*out = st;
	og_bpf__destroy(skel); /* attachments hold the programs, pins hold the maps */
	return 0;

fail_tc:
	tc_detach_one(ifindex, BPF_TC_INGRESS, "og_tc_in");
	tc_detach_one(ifindex, BPF_TC_EGRESS, "og_tc_out");
	if (clsact_new)
		clsact_remove(ifname, ifindex);
fail:
	if (xdp_added) {
		char e2[64];

		dp_xdp_detach_ours(ifindex, e2, sizeof(e2));
	}
	og_bpf__destroy(skel);
	return ret;
}

/* Another interface's state file naming <dir> means its maps are still in use. */
static int pin_dir_user(const struct dp_state *st, void *ctx)
{
	const char **args = ctx; /* { dir, ifname we are detaching, found name } */

	/* a state file of a deleted (or re-created) interface does not hold the maps */
	if (if_nametoindex(st->ifname) != (unsigned int)st->ifindex)
		return 0;
	if (!strcmp(st->pin_dir, args[0]) && strcmp(st->ifname, args[1])) {
		args[2] = strdup(st->ifname);
		return 1;
	}
	return 0;
}

static int purge_pins(const char *dir, const char *ifname, char *note, size_t notelen)
{
	const char *args[3] = {dir, ifname, NULL};
	static const char *const extra[] = {"og_events"};
	char path[PATH_MAX];
	size_t len = strlen(note);
	int i, n = 0;

	if (dp_state_foreach(pin_dir_user, args) > 0) {
		snprintf(note + len, notelen - len,
			 "; maps in %s kept: still used by ordergate on %s", dir, args[2]);
		free((void *)args[2]);
		return -EBUSY;
	}
	for (i = 0; i < DP_MAP_COUNT + 1; i++) {
		const char *name = i < DP_MAP_COUNT ? dp_map_names[i] : extra[0];

		if (dp_pin_path(path, sizeof(path), dir, name) == 0 && unlink(path) == 0)
			n++;
	}
	rmdir(dir); /* only if empty: a foreign pin there stays */
	snprintf(note + len, notelen - len, "; unpinned %d maps from %s", n, dir);
	return 0;
}

int dp_detach(const char *ifname, const char *pin_dir, bool purge, char *note, size_t notelen,
	      char *err, size_t errlen)
{
	bool have_st, did_xdp = false, did_tc = false, did_clsact = false;
	unsigned int ifindex;
	struct dp_state st;
	struct dp_live lv;
	int ret;

	ret = dp_check_root(err, errlen);
	if (ret)
		return ret;
	note[0] = 0;
	have_st = dp_state_read(ifname, &st) == 0;
	ifindex = if_nametoindex(ifname);
	if (!ifindex && !have_st) {
		snprintf(err, errlen, "no such interface: %s (see `ip link`)", ifname);
		return -ENODEV;
	}
	if (ifindex) {
		dp_live_query(ifindex, &lv);
		if (lv.xdp_attached) {
			ret = dp_xdp_detach_ours(ifindex, err, errlen);
			if (ret && ret != -ENOENT)
				return ret;
			did_xdp = true;
		}
		if (lv.tc_in || lv.tc_out) {
			tc_detach_one(ifindex, BPF_TC_INGRESS, "og_tc_in");
			tc_detach_one(ifindex, BPF_TC_EGRESS, "og_tc_out");
			did_tc = true;
		}
		if (have_st && st.clsact_created && st.ifindex == (int)ifindex)
			did_clsact = clsact_remove(ifname, ifindex);
	}
	snprintf(note, notelen, "%s: %s%s%s%s", ifname, did_xdp ? "removed og_xdp, " : "",
		 did_tc ? "removed og_tc_in/og_tc_out, " : "",
		 did_clsact ? "removed the clsact qdisc attach created, "
		 : have_st && st.clsact_created && ifindex ? "kept clsact (other filters on it), "
							   : "",
		 did_xdp || did_tc ? "detached" : "nothing of ordergate's was attached");
	dp_state_remove(ifname);
	if (purge)
		purge_pins(pin_dir		      ? pin_dir
			   : have_st && st.pin_dir[0] ? st.pin_dir
						      : OG_PIN_DIR,
			   ifname, note, notelen);
	return 0;
}
