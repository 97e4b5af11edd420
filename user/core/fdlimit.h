/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* File descriptor budget: raise RLIMIT_NOFILE at start and size client connections from it. */
#ifndef OG_FDLIMIT_H
#define OG_FDLIMIT_H

#include <stdint.h>

/* Raise the soft RLIMIT_NOFILE to the hard limit (as haproxy does): a shell's usual soft
 * 1024 would otherwise make a few thousand idle connections starve new ones. Returns the
 * soft limit now in force. Main thread, before any worker starts. */
uint64_t fdlimit_raise(void);

/* Client connections per worker that <nofile> descriptors allow for <workers> workers: a
 * fixed slice for listeners, the admin API, logs and event loops, then half of the rest,
 * since each proxied client connection may hold an upstream one too. Never 0. */
uint32_t fdlimit_conn_cap(uint64_t nofile, int workers);

#endif /* OG_FDLIMIT_H */
