/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Monotonic nanoseconds and an epoll wait with a nanosecond timeout, for the bench programs. */
#ifndef OG_BENCH_CLOCK_H
#define OG_BENCH_CLOCK_H

#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>

static inline int64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* epoll_wait_ns: epoll_wait for at most NS nanoseconds (negative = 0); epoll_wait's millisecond
 * timeout would put up to 1 ms of error on every scheduled send and every service time. */
static inline int epoll_wait_ns(int epfd, struct epoll_event *evs, int n, int64_t ns)
{
	struct timespec ts;

	if (ns < 0)
		ns = 0;
	ts.tv_sec = ns / 1000000000LL;
	ts.tv_nsec = ns % 1000000000LL;
	return epoll_pwait2(epfd, evs, n, &ts, NULL);
}

#endif
