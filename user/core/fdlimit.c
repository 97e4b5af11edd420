// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* RLIMIT_NOFILE raised to the hard limit at start; the per-worker client connection budget. */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "core/fdlimit.h"
#include "lib/log.h"

#define FD_FIXED 128 /* listeners, admin, log files, epoll and wake-up fds, health checks */

uint64_t fdlimit_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		uint64_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			og_log("warn", "event=fdlimit err=\"%s\" soft=%llu", strerror(errno),
			       (unsigned long long)was);
			rl.rlim_cur = was;
		} else {
			og_log("info", "event=fdlimit soft=%llu was=%llu",
			       (unsigned long long)rl.rlim_cur, (unsigned long long)was);
		}
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}

uint32_t fdlimit_conn_cap(uint64_t nofile, int workers)
{
	uint64_t avail = nofile > 2 * FD_FIXED ? nofile - FD_FIXED : nofile / 2;
	/* worst case every client connection is proxied: one upstream descriptor each */
	uint64_t per = avail / (uint64_t)(workers > 0 ? workers : 1) / 2;

	if (per < 1)
		per = 1;
	return per > UINT32_MAX ? UINT32_MAX : (uint32_t)per;
}
