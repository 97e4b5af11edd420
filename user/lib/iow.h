/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Socket writes from an iovec array, cheapest syscall first. */
#ifndef OG_IOW_H
#define OG_IOW_H

#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * read(2)/write(2) on sockets of the hot path, without glibc's cancellation-point
 * wrappers. In a process with more than one thread those wrap every call in
 * __pthread_enable/disable_asynccancel, two locked compare-and-swaps and ~90
 * instructions per request; ordergated never cancels a thread, so the wrappers buy
 * nothing. Same return values and errno as read/write.
 */
#ifdef OG_SAN
/* Sanitizer builds (Makefile SAN_FLAGS): ASan checks the buffers of read/write/writev only
 * through its libc interceptors, which a raw syscall() bypasses. */
#define og_sys_writev(fd, v, n) writev(fd, v, n)
static inline ssize_t og_read(int fd, void *buf, size_t n)
{
	return read(fd, buf, n);
}

static inline ssize_t og_write(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n);
}
#else
#define og_sys_writev(fd, v, n) syscall(SYS_writev, fd, v, n)
static inline ssize_t og_read(int fd, void *buf, size_t n)
{
	return syscall(SYS_read, fd, buf, n);
}

static inline ssize_t og_write(int fd, const void *buf, size_t n)
{
	return syscall(SYS_write, fd, buf, n);
}
#endif

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
		return og_write(fd, v[0].iov_base, v[0].iov_len);
	for (int i = 0; i < n; i++)
		tot += v[i].iov_len;
	if (tot > OG_GATHER_MAX)
		return og_sys_writev(fd, v, n);
	for (int i = 0; i < n; i++) {
		memcpy(o, v[i].iov_base, v[i].iov_len);
		o += v[i].iov_len;
	}
	return og_write(fd, scratch, tot);
}

/* <n> bytes of v[*oi..nv) went out: drop what is done, trim the first one not done. */
static inline void og_iov_advance(struct iovec *v, uint8_t *oi, uint8_t nv, size_t n)
{
	while (n > 0 && *oi < nv) {
		struct iovec *x = &v[*oi];

		if (n >= x->iov_len) {
			n -= x->iov_len;
			x->iov_len = 0;
			(*oi)++;
		} else {
			x->iov_base = (char *)x->iov_base + n;
			x->iov_len -= n;
			n = 0;
		}
	}
}

#endif /* OG_IOW_H */
