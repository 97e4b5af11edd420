// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `limits`, `flows --admin` and the L7 half of `lanes`: the running daemon's admin API. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/ctl.h"

#define ADMIN_DEFAULT "127.0.0.1:9901"
#define ADMIN_MAX     (4 << 20)

const char *ctl_admin_addr(const char *opt)
{
	const char *env = getenv("ORDERGATE_ADMIN");

	return opt ? opt : env && *env ? env : ADMIN_DEFAULT;
}

/* Connect to "host:port" or "[v6]:port" within <ms>; fd or -errno. */
static int dial(const char *addr, int ms)
{
	char host[256], *port;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t el = sizeof(err);

	snprintf(host, sizeof(host), "%s", addr);
	port = strrchr(host, ':');
	if (!port)
		return -EINVAL;
	*port++ = 0;
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = 0;
	}
	if (getaddrinfo(host, port, &hints, &ai) || !ai)
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
		err = -errno;
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return err;
	}
	freeaddrinfo(ai);
	pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
	if (poll(&pfd, 1, ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		close(fd);
		return err ? -err : -ETIMEDOUT;
	}
	return fd;
}

int ctl_admin_get(const char *addr, const char *path, char **body, int *status)
{
	char req[512], *buf = NULL, *b;
	size_t n = 0, cap = 0;
	struct pollfd pfd;
	int fd = dial(addr, 500), len;

	*body = NULL;
	*status = 0;
	if (fd < 0)
		return fd;
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, addr);
	if (write(fd, req, len) != len) {
		close(fd);
		return -EIO;
	}
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	for (;;) {
		ssize_t r;

		if (n + 4096 + 1 > cap) {
			char *nb = cap >= ADMIN_MAX ? NULL : realloc(buf, cap ? cap * 2 : 16384);

			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap = cap ? cap * 2 : 16384;
		}
		if (poll(&pfd, 1, 3000) != 1)
			break;
		r = read(fd, buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!buf)
		return -EIO;
	buf[n] = 0;
	if (sscanf(buf, "HTTP/%*d.%*d %d", status) != 1 || !(b = strstr(buf, "\r\n\r\n"))) {
		free(buf);
		return -EPROTO;
	}
	memmove(buf, b + 4, n - (size_t)(b + 4 - buf) + 1);
	*body = buf;
	return 0;
}

/* The value of "key" in the flat JSON object starting at <obj> (string unquoted, or a
 * number/true/false as written) into <out>. Enough for the daemon's own /flows rows. */
static const char *jget(const char *obj, const char *end, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p;
	size_t i = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(obj, pat);
	out[0] = 0;
	if (!p || p > end)
		return out;
	p += strlen(pat);
	if (*p == '"')
		for (p++; *p && *p != '"' && i + 1 < len; p++)
			out[i++] = *p;
	else
		for (; *p && *p != ',' && *p != '}' && i + 1 < len; p++)
			out[i++] = *p;
	out[i] = 0;
	return out;
}

int ctl_admin_flows(const char *addr, __u64 top, bool json)
{
	char path[64], *body, v[11][64], b1[16], b2[16];
	const char *o;
	int st, ret;

	snprintf(path, sizeof(path), "/flows?top=%llu", (unsigned long long)(top ? top : 100000));
	ret = ctl_admin_get(addr, path, &body, &st);
	if (ret)
		return ctl_fail("no daemon admin API at %s: %s", addr, strerror(-ret));
	if (st != 200) {
		ret = ctl_fail("%s%s: %d %s", addr, path, st, body);
		free(body);
		return ret;
	}
	if (json) {
		fputs(body, stdout);
		free(body);
		return 0;
	}
	printf("%-39s %5s  %-39s %5s %-6s %-7s %-6s %-9s %10s %12s %6s\n", "SRC", "SPORT", "DST",
	       "DPORT", "LANE", "BY", "PINNED", "THROTTLED", "PKTS", "BYTES", "SYNS");
	for (o = strstr(body, "{\"src\""); o; o = strstr(o + 1, "{\"src\"")) {
		const char *e = strchr(o, '}');
		static const char *const keys[] = {"src",  "sport",    "dst",	      "dport",
						   "lane", "lane_src", "pinned_lane", "throttled",
						   "pkts", "bytes",    "syns"};

		if (!e)
			break;
		for (int i = 0; i < 11; i++)
			jget(o, e, keys[i], v[i], sizeof(v[i]));
		printf("%-39s %5s  %-39s %5s %-6s %-7s %-6s %-9s %10s %12s %6s\n", v[0], v[1], v[2],
		       v[3], v[4], v[5], v[6][0] ? v[6] : "-", v[7],
		       ctl_human(strtoull(v[8], NULL, 10), b1, sizeof(b1)),
		       ctl_human(strtoull(v[9], NULL, 10), b2, sizeof(b2)), v[10]);
	}
	jget(body, body + strlen(body), "count", v[0], sizeof(v[0]));
	jget(body, body + strlen(body), "shown", v[1], sizeof(v[1]));
	printf("(%s of %s flows, daemon %s)\n", v[1], v[0], addr);
	free(body);
	return 0;
}

int ctl_admin_show(const char *addr, const char *path, const char *title, bool quiet_absent)
{
	char *body;
	int st, ret = ctl_admin_get(addr, path, &body, &st);

	if (ret) {
		if (quiet_absent)
			return 0;
		return ctl_fail("no daemon admin API at %s: %s", addr, strerror(-ret));
	}
	if (title)
		printf("%s (daemon %s%s):\n", title, addr, path);
	if (st != 200) {
		ret = quiet_absent ? 0 : ctl_fail("%s%s: %d", addr, path, st);
		if (quiet_absent)
			printf("  not served (%d)\n", st);
		free(body);
		return ret;
	}
	fputs(body, stdout);
	if (body[0] && body[strlen(body) - 1] != '\n')
		putchar('\n');
	free(body);
	return 0;
}

struct limits_opts {
	const char *admin;
};

static int do_limits(const void *p)
{
	const struct limits_opts *o = p;

	return ctl_admin_show(ctl_admin_addr(o->admin), "/limits", NULL, false);
}

static const struct ctl_opt limits_opts[] = {
    {"admin", 'a', CTL_STR, offsetof(struct limits_opts, admin), "ADDR",
     "daemon admin address (default $ORDERGATE_ADMIN or " ADMIN_DEFAULT ")"},
    CTL_END,
};

const struct ctl_cmd ctl_cmd_limits = {
    .name = "limits",
    .summary = "The daemon's live admission limits per lane and route (admin GET /limits)",
    .opts = limits_opts,
    .size = sizeof(struct limits_opts),
    .run = do_limits,
};
