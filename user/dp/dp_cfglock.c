// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* One writer at a time for og_config: a read-modify-write under a lock every process takes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "dp/dp_int.h"

/*
 * og_config is one map value written whole: two writers (the daemon, ordergatectl, a
 * second daemon during a takeover) that each read it, change one field and write it
 * back lose one change, e.g. a throttle_count set to 0 while an entry is live, after
 * which og_xdp skips every throttle. So each writer holds an exclusive flock(2) on a
 * file named after the map's kernel id for the whole read-modify-write: writers
 * serialise, and the id keeps private pin dirs (tests) from contending with the real
 * one. The lock lives in the state dir (tmpfs under /run): bpffs holds no files.
 */
static int lock_file(struct dp_maps *m)
{
	struct bpf_map_info info;
	char path[512];

	if (dp_map_info(m->fd[DP_MAP_CONFIG], &info))
		return -1;
	if (mkdir(dp_state_dir(), 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/og_config.%u.lock", dp_state_dir(), info.id);
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

static int lock_take(int fd)
{
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int dp_config_lock_keep(struct dp_maps *m)
{
	int fd;

	if (m->cfg_lock > 0)
		return 0;
	if (m->fd[DP_MAP_CONFIG] < 0)
		return -EBADF;
	fd = lock_file(m);
	if (fd < 0)
		return -errno;
	m->cfg_lock = fd;
	return 0;
}

int dp_config_update(struct dp_maps *m, int (*fn)(struct og_config *c, void *ctx), void *ctx)
{
	struct og_config c;
	int lk, ret;

	if (m->fd[DP_MAP_CONFIG] < 0)
		return -EBADF;
	/* Without a lock (no state dir) the write still happens: a lost update is what we
	 * had before, not a reason to refuse an operator's change. */
	if (m->cfg_lock > 0) {
		lk = lock_take(m->cfg_lock) ? -1 : m->cfg_lock;
	} else {
		lk = lock_file(m);
		if (lk >= 0 && lock_take(lk)) {
			close(lk);
			lk = -1;
		}
	}
	ret = dp_config_get(m, &c);
	if (!ret) {
		ret = fn(&c, ctx);
		if (ret > 0)
			ret = dp_config_put(m, &c);
	}
	if (lk > 0 && lk == m->cfg_lock)
		flock(lk, LOCK_UN);
	else if (lk >= 0)
		close(lk); /* releases the flock */
	return ret < 0 ? ret : 0;
}
