// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Helpers every ordergatectl command shares: opening maps, ages, human numbers. */
#include <stdio.h>
#include <stdlib.h>

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

void ctl_quiet_libs(void)
{
	dp_quiet_libs(getenv("ORDERGATECTL_DEBUG") != NULL);
}
