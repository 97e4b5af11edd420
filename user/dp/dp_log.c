// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Route libbpf and libxdp messages to stderr without the noise of libogdp's own probes. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "dp/dp.h"

/*
 * Lines libbpf/libxdp print while we probe for things that may be absent: bpf_tc_query
 * on an interface without clsact or without our filter, bpf_tc_hook_create when clsact
 * exists, and libxdp's dispatcher probe (whose outcome `status` reports).
 */
static const char *const noise[] = {
    "Parent Qdisc doesn't exist",
    "Cannot find specified filter chain",
    "Filter with specified priority/protocol not found",
    "Exclusivity flag on",
    "skipping unrecognized data section",
    "xdp_pass",
    "xdp-dispatcher.o",
    "permission error while running as root",
    "Compatibility check for dispatcher",
    "Falling back to loading single prog",
};

static bool debug;

static int lib_print(int level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t i;

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

void dp_quiet_libs(bool all)
{
	debug = all;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
