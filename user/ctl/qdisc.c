// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `qdisc apply|show|del`: the HTB hierarchy whose classes og_tc_out's skb->priority picks. */
#include <stddef.h>

#include "ctl/ctl.h"

struct qapply_opts {
	const char *ifname;
	__u64 rate, ceil, order, normal, bulk;
	bool dry_run;
};

static int do_apply(const void *p)
{
	const struct qapply_opts *o = p;
	struct dp_qdisc_opts q = {.rate = o->rate, .ceil = o->ceil, .dry_run = o->dry_run};
	char err[512];

	q.lane_rate[OG_LANE_ORDER] = o->order;
	q.lane_rate[OG_LANE_NORMAL] = o->normal;
	q.lane_rate[OG_LANE_BULK] = o->bulk;
	if (!o->dry_run && dp_check_root(err, sizeof(err)))
		return ctl_fail("%s", err);
	if (dp_qdisc_apply(o->ifname, &q, stdout, err, sizeof(err)))
		return ctl_fail("qdisc apply %s: %s", o->ifname, err);
	return 0;
}

static const struct ctl_opt qapply_opts[] = {
    {"IFACE", 0, CTL_IFACE, offsetof(struct qapply_opts, ifname), NULL, "egress interface to shape",
     .positional = true, .required = true},
    {"rate", 'r', CTL_RATE, offsetof(struct qapply_opts, rate), "RATE",
     "link rate for class 1:1 (tc units: 1gbit, 100mbit)", .required = true},
    {"ceil", 0, CTL_RATE, offsetof(struct qapply_opts, ceil), "RATE",
     "ceiling every class may borrow up to (default --rate)"},
    {"order-rate", 0, CTL_RATE, offsetof(struct qapply_opts, order), "RATE",
     "guaranteed rate of 1:10 order, prio 0 (default 40% of --rate)"},
    {"normal-rate", 0, CTL_RATE, offsetof(struct qapply_opts, normal), "RATE",
     "guaranteed rate of 1:20 normal, prio 1, the default class (default 40%)"},
    {"bulk-rate", 0, CTL_RATE, offsetof(struct qapply_opts, bulk), "RATE",
     "guaranteed rate of 1:30 bulk, prio 2 (default 20%)"},
    {"dry-run", 'n', CTL_FLAG, offsetof(struct qapply_opts, dry_run), NULL,
     "print the tc commands without running them"},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_qdisc_apply = {
    .name = "qdisc apply",
    .summary = "Install HTB root 1: (default 1:20) with lane classes 1:10/1:20/1:30 via tc",
    .opts = qapply_opts,
    .size = sizeof(struct qapply_opts),
    .run = do_apply,
};

struct qshow_opts {
	const char *ifname;
};

static int do_show(const void *p)
{
	const struct qshow_opts *o = p;
	char err[512];

	if (dp_qdisc_show(o->ifname, err, sizeof(err)))
		return ctl_fail("qdisc show %s: %s", o->ifname, err);
	return 0;
}

static int do_del(const void *p)
{
	const struct qshow_opts *o = p;
	char err[512];

	if (dp_check_root(err, sizeof(err)))
		return ctl_fail("%s", err);
	if (dp_qdisc_del(o->ifname, stdout, err, sizeof(err)))
		return ctl_fail("qdisc del %s: %s", o->ifname, err);
	return 0;
}

static const struct ctl_opt qshow_opts[] = {
    {"IFACE", 0, CTL_IFACE, offsetof(struct qshow_opts, ifname), NULL, "interface",
     .positional = true, .required = true},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_qdisc_show = {
    .name = "qdisc show",
    .summary = "Show HTB class counters (`tc -s class show dev IFACE`)",
    .opts = qshow_opts,
    .size = sizeof(struct qshow_opts),
    .run = do_show,
};

const struct ctl_cmd ctl_cmd_qdisc_del = {
    .name = "qdisc del",
    .summary = "Remove the root qdisc of IFACE (`tc qdisc del dev IFACE root`)",
    .opts = qshow_opts,
    .size = sizeof(struct qshow_opts),
    .run = do_del,
};
