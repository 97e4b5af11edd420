// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The daemon instance (a plain record other threads read through atomics) and the clock. */
#include <time.h>

#include "core/daemon.h"

struct og_daemon og_d;

uint64_t og_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
