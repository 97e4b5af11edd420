// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Weak stand-ins for the kernel writer (user/lanes/kern.c): userspace-only until it links in. */
#include <errno.h>

#include "lanes/kernif.h"

/* Delete this file when user/lanes/kern.c provides the real definitions. */
__attribute__((weak)) int kern_pin(const struct og_flow_key *k, uint8_t lane)
{
	return -ENOSYS;
}

__attribute__((weak)) int kern_unpin(const struct og_flow_key *k)
{
	return -ENOSYS;
}

__attribute__((weak)) int kern_throttle(const struct og_addr_key *src, uint64_t pps, uint64_t burst,
					uint64_t ttl_ms)
{
	return -ENOSYS;
}

__attribute__((weak)) int kern_start(const struct cfg_xdp *x, char *err, size_t errlen)
{
	return -ENOSYS;
}
