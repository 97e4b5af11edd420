// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The per-interface state file: what attach created, so detach removes exactly that. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dp/dp.h"

static void state_path(const char *ifname, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.state", dp_state_dir(), ifname);
}

static const char *mode_name(enum dp_xdp_mode m)
{
	return m == DP_XDP_GENERIC ? "generic" : "native";
}

int dp_state_write(const struct dp_state *st, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	if (mkdir(dp_state_dir(), 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dp_state_dir(), strerror(errno));
		return -errno;
	}
	state_path(st->ifname, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -errno;
	}
	fprintf(f, "# written by ordergatectl attach; read by detach and status\n");
	fprintf(f, "ifname=%s\nifindex=%d\npin_dir=%s\nxdp_mode=%s\nxdp=%s\n", st->ifname,
		st->ifindex, st->pin_dir, mode_name(st->mode),
		st->multiprog ? "dispatcher" : "legacy");
	fprintf(f, "xdp_prog_id=%u\nclsact_created=%s\n", st->xdp_prog_id,
		st->clsact_created ? "yes" : "no");
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

static int state_read_path(const char *path, struct dp_state *st)
{
	char line[512];
	FILE *f;

	memset(st, 0, sizeof(*st));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '='), *v;

		if (line[0] == '#' || !eq)
			continue;
		*eq = 0;
		v = eq + 1;
		v[strcspn(v, "\n")] = 0;
		if (!strcmp(line, "ifname"))
			snprintf(st->ifname, sizeof(st->ifname), "%s", v);
		else if (!strcmp(line, "ifindex"))
			st->ifindex = atoi(v);
		else if (!strcmp(line, "pin_dir"))
			snprintf(st->pin_dir, sizeof(st->pin_dir), "%s", v);
		else if (!strcmp(line, "xdp_mode"))
			st->mode = !strcmp(v, "generic") ? DP_XDP_GENERIC : DP_XDP_NATIVE;
		else if (!strcmp(line, "xdp"))
			st->multiprog = !strcmp(v, "dispatcher");
		else if (!strcmp(line, "xdp_prog_id"))
			st->xdp_prog_id = strtoul(v, NULL, 10);
		else if (!strcmp(line, "clsact_created"))
			st->clsact_created = !strcmp(v, "yes");
	}
	fclose(f);
	return st->ifname[0] ? 0 : -EINVAL;
}

int dp_state_read(const char *ifname, struct dp_state *st)
{
	char path[PATH_MAX];

	state_path(ifname, path, sizeof(path));
	return state_read_path(path, st);
}

int dp_state_remove(const char *ifname)
{
	char path[PATH_MAX];

	state_path(ifname, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int dp_state_foreach(int (*cb)(const struct dp_state *st, void *ctx), void *ctx)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct dp_state st;
	int ret = 0;
	DIR *d;

	d = opendir(dp_state_dir());
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n < 7 || strcmp(de->d_name + n - 6, ".state"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dp_state_dir(), de->d_name);
		if (state_read_path(path, &st) < 0)
			continue;
		ret = cb(&st, ctx);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}
