// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The table of ordergatectl commands, in the order `--help` lists them. */
#include "ctl/ctl.h"

extern const struct ctl_cmd ctl_cmd_attach, ctl_cmd_detach, ctl_cmd_status, ctl_cmd_flows,
    ctl_cmd_lanes, ctl_cmd_block, ctl_cmd_unblock, ctl_cmd_src_lane, ctl_cmd_rules,
    ctl_cmd_port_lane, ctl_cmd_throttle_set, ctl_cmd_throttle_list, ctl_cmd_throttle_clear,
    ctl_cmd_qdisc_apply, ctl_cmd_qdisc_show, ctl_cmd_qdisc_del, ctl_cmd_limits;

const struct ctl_cmd *const ctl_cmds[] = {
    &ctl_cmd_attach,	    &ctl_cmd_detach,	     &ctl_cmd_status,
    &ctl_cmd_flows,	    &ctl_cmd_lanes,	     &ctl_cmd_limits,
    &ctl_cmd_block,	    &ctl_cmd_unblock,	     &ctl_cmd_src_lane,
    &ctl_cmd_rules,	    &ctl_cmd_port_lane,	     &ctl_cmd_throttle_set,
    &ctl_cmd_throttle_list, &ctl_cmd_throttle_clear, &ctl_cmd_qdisc_apply,
    &ctl_cmd_qdisc_show,    &ctl_cmd_qdisc_del,	     NULL,
};
