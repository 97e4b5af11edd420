// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Preconditions an operator can fix (root, bpffs, interface) and the clocks the maps use. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "dp/dp.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* Effective capability set from /proc/self/status (0 if unreadable). */
static unsigned long long cap_eff(void)
{
	unsigned long long v = 0;
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	fclose(f);
	return v;
}

int dp_check_root(char *err, size_t errlen)
{
	/* CAP_NET_ADMIN (12) plus CAP_BPF (39) or CAP_SYS_ADMIN (21): a daemon run by systemd
	 * with only those capabilities passes too */
	unsigned long long c = geteuid() == 0 ? ~0ULL : cap_eff();

	if ((c & (1ULL << 12)) && (c & (1ULL << 39 | 1ULL << 21)))
		return 0;
	snprintf(err, errlen, "ordergatectl must run as root (CAP_BPF + CAP_NET_ADMIN)");
	return -EPERM;
}

int dp_check_bpffs(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct statfs sfs;
	char *slash;

	snprintf(path, sizeof(path), "%s", dir);
	/* The pin dir may not exist yet: check the nearest ancestor that does. */
	while (statfs(path, &sfs) < 0) {
		if (errno != ENOENT || !(slash = strrchr(path, '/')) || slash == path) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return -errno;
		}
		*slash = 0;
	}
	if ((unsigned long)sfs.f_type == BPF_FS_MAGIC)
		return 0;
	snprintf(err, errlen,
		 "%s is not on a bpf filesystem; mount it with `mount -t bpf bpf /sys/fs/bpf`",
		 dir);
	return -ENOTSUP;
}

int dp_ifindex(const char *ifname, char *err, size_t errlen)
{
	unsigned int idx;

	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE) {
		snprintf(err, errlen, "%s: not a valid interface name", ifname ? ifname : "");
		return -EINVAL;
	}
	idx = if_nametoindex(ifname);
	if (!idx) {
		snprintf(err, errlen, "no such interface: %s (see `ip link`)", ifname);
		return -ENODEV;
	}
	return (int)idx;
}

const char *dp_state_dir(void)
{
	const char *d = getenv("ORDERGATE_STATE_DIR");

	return d && *d ? d : DP_STATE_DIR;
}

static __u64 now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__u64 dp_now_ns(void)
{
	return now_ns(CLOCK_MONOTONIC);
}

__u64 dp_now_coarse_ns(void)
{
	return now_ns(CLOCK_MONOTONIC_COARSE);
}
