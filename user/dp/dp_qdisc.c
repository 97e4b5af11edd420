// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The HTB lane hierarchy, installed by running iproute2's tc (argv arrays, no shell). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dp/dp_int.h"

/* Run <argv>; collect stdout into <out> (if non-NULL) and stderr's tail into <err>. */
int dp_run_capture(char *const argv[], char *out, size_t outlen, char *err, size_t errlen)
{
	int opipe[2] = {-1, -1}, epipe[2], status, ret = 0;
	size_t olen = 0, elen = 0;
	char ebuf[512], tmp[512];
	pid_t pid;

	if (pipe2(epipe, O_CLOEXEC) < 0 || (out && pipe2(opipe, O_CLOEXEC) < 0))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(epipe[1], 2);
		if (out)
			dup2(opipe[1], 1);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(epipe[1]);
	if (out) {
		ssize_t n;

		close(opipe[1]);
		while ((n = read(opipe[0], tmp, sizeof(tmp))) > 0) {
			size_t c = (size_t)n < outlen - 1 - olen ? (size_t)n : outlen - 1 - olen;

			memcpy(out + olen, tmp, c);
			olen += c;
		}
		out[olen] = 0;
		close(opipe[0]);
	}
	for (;;) {
		ssize_t n = read(epipe[0], tmp, sizeof(tmp));

		if (n <= 0)
			break;
		if (elen + n >= sizeof(ebuf))
			elen = 0; /* keep the tail, where tc says what went wrong */
		memcpy(ebuf + elen, tmp, n);
		elen += n;
	}
	ebuf[elen] = 0;
	close(epipe[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ebuf[strcspn(ebuf, "\n")] = 0;
		snprintf(err, errlen, "`%s %s ...` failed: %s", argv[0], argv[1] ? argv[1] : "",
			 ebuf[0] ? ebuf : "non-zero exit");
		ret = -EIO;
	}
	return ret;
}

int dp_run(char *const argv[], char *err, size_t errlen)
{
	return dp_run_capture(argv, NULL, 0, err, errlen);
}

static void print_argv(FILE *out, char *const argv[])
{
	int i;

	if (!out)
		return;
	for (i = 0; argv[i]; i++)
		fprintf(out, "%s%s", i ? " " : "", argv[i]);
	fputc('\n', out);
	fflush(out);
}

/* HTB quantum: rate/r2q clamped to [MTU, 200000] so the kernel does not warn. */
static __u64 quantum(__u64 bps)
{
	__u64 q = bps / 8 / 10;

	return q < 1514 ? 1514 : q > 200000 ? 200000 : q;
}

int dp_qdisc_apply(const char *ifname, const struct dp_qdisc_opts *q, FILE *out, char *err,
		   size_t errlen)
{
	static const char *const minor[OG_LANE_MAX] = {NULL, "1:10", "1:20", "1:30"};
	static const char *const prio[OG_LANE_MAX] = {NULL, "0", "1", "2"};
	static const unsigned int pct[OG_LANE_MAX] = {0, 40, 40, 20};
	char rate[OG_LANE_MAX][32], ceil[32], qt[OG_LANE_MAX][32], rootrate[32], rootq[32];
	__u64 c = q->ceil ? q->ceil : q->rate, sum = 0;
	int lane, ret;

	if (!q->rate) {
		snprintf(err, errlen, "qdisc apply needs --rate (e.g. --rate 1gbit)");
		return -EINVAL;
	}
	if (c < q->rate) {
		snprintf(err, errlen, "--ceil must be at least --rate");
		return -EINVAL;
	}
	for (lane = OG_LANE_ORDER; lane < OG_LANE_MAX; lane++) {
		__u64 r = q->lane_rate[lane] ? q->lane_rate[lane] : q->rate * pct[lane] / 100;

		if (!r)
			r = 1;
		if (r > c) {
			snprintf(err, errlen, "%s rate %s is above the ceiling %s",
				 dp_lane_name(lane), dp_rate_str(r, rate[0], sizeof(rate[0])),
				 dp_rate_str(c, ceil, sizeof(ceil)));
			return -EINVAL;
		}
		sum += r;
		dp_rate_str(r, rate[lane], sizeof(rate[lane]));
		snprintf(qt[lane], sizeof(qt[lane]), "%llu", (unsigned long long)quantum(r));
	}
	if (sum > q->rate && out)
		fprintf(out, "# note: lane rates add up to more than --rate; HTB will not "
			     "guarantee them all\n");
	dp_rate_str(c, ceil, sizeof(ceil));
	dp_rate_str(q->rate, rootrate, sizeof(rootrate));
	snprintf(rootq, sizeof(rootq), "%llu", (unsigned long long)quantum(q->rate));

	{
		char *root[] = {"tc",	  "qdisc", "replace", "dev",	 (char *)ifname, "root",
				"handle", "1:",	   "htb",     "default", "20",		 NULL};
		char *parent[] = {"tc",	    "class",  "replace", "dev", (char *)ifname,
				  "parent", "1:",     "classid", "1:1", "htb",
				  "rate",   rootrate, "ceil",	 ceil,	"quantum",
				  rootq,    NULL};

		print_argv(out, root);
		if (!q->dry_run && (ret = dp_run(root, err, errlen)))
			return ret;
		print_argv(out, parent);
		if (!q->dry_run && (ret = dp_run(parent, err, errlen)))
			return ret;
	}
	for (lane = OG_LANE_ORDER; lane < OG_LANE_MAX; lane++) {
		char *cls[] = {"tc",
			       "class",
			       "replace",
			       "dev",
			       (char *)ifname,
			       "parent",
			       "1:1",
			       "classid",
			       (char *)minor[lane],
			       "htb",
			       "rate",
			       rate[lane],
			       "ceil",
			       ceil,
			       "prio",
			       (char *)prio[lane],
			       "quantum",
			       qt[lane],
			       NULL};

		print_argv(out, cls);
		if (!q->dry_run && (ret = dp_run(cls, err, errlen)))
			return ret;
	}
	return 0;
}

int dp_qdisc_show(const char *ifname, char *err, size_t errlen)
{
	char *argv[] = {"tc", "-s", "class", "show", "dev", (char *)ifname, NULL};

	return dp_run(argv, err, errlen);
}

int dp_qdisc_del(const char *ifname, FILE *out, char *err, size_t errlen)
{
	char *argv[] = {"tc", "qdisc", "del", "dev", (char *)ifname, "root", NULL};

	print_argv(out, argv);
	return dp_run(argv, err, errlen);
}
