// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `attach` and `detach`: put ordergate's programs on an interface and take them off. */
#include <stddef.h>

#include "ctl/ctl.h"

struct attach_opts {
	const char *ifname;
	int mode;
	__u64 flows, src_rules, ports, pins, throttles;
};

static const struct ctl_enum modes[] = {
    {"native", DP_XDP_NATIVE}, {"generic", DP_XDP_GENERIC}, {"skb", DP_XDP_GENERIC}, {0}};

static int do_attach(const void *p)
{
	const struct attach_opts *a = p;
	struct dp_opts o = {
	    .pin_dir = ctl_pin_path,
	    .mode = a->mode,
	    .flows = a->flows,
	    .src_rules = a->src_rules,
	    .ports = a->ports,
	    .pins = a->pins,
	    .throttles = a->throttles,
	};
	struct dp_state st;
	char err[512];

	if (dp_attach(a->ifname, &o, &st, err, sizeof(err)))
		return ctl_fail("attach %s: %s", a->ifname, err);
	printf("attached to %s: XDP %s (%s), TC ingress+egress (clsact %s), maps in %s\n",
	       st.ifname, st.mode == DP_XDP_GENERIC ? "generic" : "native",
	       st.multiprog ? "libxdp dispatcher" : "single legacy program",
	       st.clsact_created ? "created by ordergate" : "already present", st.pin_dir);
	return 0;
}

static const struct ctl_opt attach_opts[] = {
    {"IFACE", 0, CTL_IFACE, offsetof(struct attach_opts, ifname), NULL, "interface to attach to",
     .positional = true, .required = true},
    {"mode", 'm', CTL_ENUM, offsetof(struct attach_opts, mode), "MODE",
     "XDP mode (default: native, falling back to generic)", modes},
    {"flows", 0, CTL_U64, offsetof(struct attach_opts, flows), "N",
     "flows og_flows holds for new maps: 2N ways (default 65536)"},
    {"src-rules", 0, CTL_U64, offsetof(struct attach_opts, src_rules), "N",
     "og_src_rules size (default 16384)"},
    {"ports", 0, CTL_U64, offsetof(struct attach_opts, ports), "N",
     "og_port_lane size (default 1024)"},
    {"pins", 0, CTL_U64, offsetof(struct attach_opts, pins), "N",
     "og_flow_lane size (default 65536)"},
    {"throttles", 0, CTL_U64, offsetof(struct attach_opts, throttles), "N",
     "og_throttle size (default 16384)"},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_attach = {
    .name = "attach",
    .summary = "Attach og_xdp (via libxdp) and og_tc_in/og_tc_out (clsact) to IFACE; "
	       "idempotent",
    .opts = attach_opts,
    .size = sizeof(struct attach_opts),
    .uses_maps = true,
    .run = do_attach,
};

struct detach_opts {
	const char *ifname;
	bool purge;
};

static int do_detach(const void *p)
{
	const struct detach_opts *d = p;
	char err[512], note[512];

	if (dp_detach(d->ifname, ctl_pin_path, d->purge, note, sizeof(note), err, sizeof(err)))
		return ctl_fail("detach %s: %s", d->ifname, err);
	printf("%s\n", note);
	return 0;
}

static const struct ctl_opt detach_opts[] = {
    {"IFACE", 0, CTL_STR, offsetof(struct detach_opts, ifname), NULL, "interface to detach from",
     .positional = true, .required = true},
    {"purge", 0, CTL_FLAG, offsetof(struct detach_opts, purge), NULL,
     "also unpin the maps (counters, rules and throttles are lost)"},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_detach = {
    .name = "detach",
    .summary = "Remove exactly what attach added to IFACE (a clsact it did not create stays)",
    .opts = detach_opts,
    .size = sizeof(struct detach_opts),
    .uses_maps = true,
    .run = do_detach,
};
