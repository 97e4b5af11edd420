// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Helpers every ordergatectl command shares: opening maps, ages, human numbers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "ctl/ctl.h"

const char *ctl_pin_dir(void)
{
	return ctl_pin_path ? ctl_pin_path : OG_PIN_DIR;
}

int ctl_maps(struct dp_maps *m)
{
	char err[512];

	if (dp_check_root(err, sizeof(err)))
		return ctl_fail("%s", err);
	if (dp_maps_open(m, ctl_pin_path, err, sizeof(err)))
		return ctl_fail("%s", err);
	return 0;
}

double ctl_age(__u64 now_ns, __u64 then_ns)
{
	if (!then_ns || then_ns >= now_ns)
		return 0;
	return (now_ns - then_ns) / 1e9;
}

const char *ctl_human(__u64 v, char *buf, size_t len)
{
	static const char sfx[] = "KMGTPE";
	double d = v;
	int i = -1;

	if (v < 10000) {
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return buf;
	}
	while (d >= 1000 && i < 5) {
		d /= 1000;
		i++;
	}
	snprintf(buf, len, "%.1f%c", d, sfx[i]);
	return buf;
}

/* Lines libbpf/libxdp print while we probe for things that may be absent. */
static const char *const noise[] = {
    "Parent Qdisc doesn't exist", /* bpf_tc_query on an interface without clsact */
    "Exclusivity flag on",
    "Cannot find specified filter chain",
    /* bpf_tc_query when our filter is absent */ /* bpf_tc_hook_create when clsact already exists */
    "skipping unrecognized data section",	 /* libxdp's dispatcher object */
    "xdp_pass", /* libxdp's dispatcher probe; status reports the outcome */
    "xdp-dispatcher.o",
    "permission error while running as root",
    "Compatibility check for dispatcher",
    "Falling back to loading single prog",
};

static int lib_print(int level, const char *fmt, va_list ap)
{
	static int debug = -1;
	char line[1024];
	size_t i;

	if (debug < 0)
		debug = getenv("ORDERGATECTL_DEBUG") != NULL;
	if (level > 0 && !debug) /* libbpf and libxdp: 0 = warning, 1 = info, 2 = debug */
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	for (i = 0; !debug && i < sizeof(noise) / sizeof(noise[0]); i++)
		if (strstr(line, noise[i]))
			return 0;
	return fputs(line, stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return lib_print(level, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return lib_print(level, fmt, ap);
}

void ctl_quiet_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
