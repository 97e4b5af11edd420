// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Opens N keep-alive connections to an HTTP server, one request each, then holds them idle.

/*
 * Usage: idle_conns -p PORT [-a ADDR] [-n COUNT] [-s SOURCES] [-w WINDOW]
 *                   [-u PATH] [-o OPEN_SECS] [-t HOLD_SECS]
 *
 * Each connection sends one "GET PATH" and reads the whole response, so the
 * server sees what it keeps for an idle keep-alive client, not a connection
 * that never spoke. At most WINDOW connections are being set up at once, so
 * the server's accept queue never overflows (a dropped SYN costs a 1 s
 * retransmit). Source addresses rotate over 127.0.0.1 .. 127.0.0.SOURCES to
 * keep clear of the ephemeral port range.
 *
 * Prints "ready OPEN FAILED" once set-up ends (all done or OPEN_SECS passed),
 * then holds until HOLD_SECS pass or SIGTERM/SIGINT arrives, and
 * prints "done STILL_OPEN CLOSED_BY_SERVER" before exiting. Exit status: 0
 * when every connection opened and none was closed by the server, 1 otherwise,
 * 2 on bad usage.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum idle_state { IDLE_NEW = 0, IDLE_CONNECTING, IDLE_READING, IDLE_HELD, IDLE_FAILED };

struct idle_conn {
	int fd;
	enum idle_state state;
	unsigned got;	/* response bytes received so far */
	char buf[1024]; /* the response head: enough to find Content-Length */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whole response in c->buf? -1 = not yet, 0 = yes and 2xx, 1 = complete but not 2xx. */
static int response_done(struct idle_conn *c)
{
	char *end, *cl;
	unsigned head, len = 0;

	c->buf[c->got < sizeof(c->buf) ? c->got : sizeof(c->buf) - 1] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (!end)
		return c->got >= sizeof(c->buf) - 1 ? 1 : -1;
	head = end + 4 - c->buf;
	for (cl = c->buf; (cl = strchr(cl, '\n')) && cl < end; cl++) {
		if (!strncasecmp(cl + 1, "content-length:", 15)) {
			len = strtoul(cl + 16, NULL, 10);
			break;
		}
	}
	if (c->got < head + len)
		return -1;
	return strncmp(c->buf, "HTTP/1.1 2", 10) ? 1 : 0;
}

static int start_connect(struct idle_conn *c, int ep, const struct sockaddr_in *dst, int i,
			 int sources)
{
	struct sockaddr_in src = {.sin_family = AF_INET};
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (sources > 1) {
		/* Port chosen at connect(), by the full 4-tuple: 28k ports per source address. */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		src.sin_addr.s_addr = htonl(0x7f000001 + (i % sources));
		if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)))
			return -errno;
	}
	if (connect(c->fd, (const struct sockaddr *)dst, sizeof(*dst)) && errno != EINPROGRESS)
		return -errno;
	c->state = IDLE_CONNECTING;
	return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) ? -errno : 0;
}

/* Advance one connection on an epoll event; returns 1 when it left the set-up phase. */
static int step(struct idle_conn *c, int ep, uint32_t events, const char *req, size_t reqlen)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	ssize_t n;
	int rc;

	if (c->state == IDLE_CONNECTING && (events & EPOLLOUT)) {
		if (events & (EPOLLERR | EPOLLHUP))
			goto fail;
		if (write(c->fd, req, reqlen) != (ssize_t)reqlen)
			goto fail;
		c->state = IDLE_READING;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev))
			goto fail;
		return 0;
	}
	if (c->state != IDLE_READING)
		return 0;
	n = read(c->fd, c->buf + c->got, sizeof(c->buf) - 1 - c->got);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		goto fail;
	c->got += n;
	rc = response_done(c);
	if (rc < 0)
		return 0;
	if (rc > 0)
		goto fail;
	c->state = IDLE_HELD;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	return 1;
fail:
	c->state = IDLE_FAILED;
	close(c->fd);
	c->fd = -1;
	return 1;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s -p PORT [-a ADDR] [-n COUNT] [-s SOURCES] [-w WINDOW] [-u PATH]\n"
		"       [-o OPEN_SECS] [-t HOLD_SECS]\n",
		argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *path = "/ping";
	int port = 0, count = 10000, sources = 4, window = 256, open_secs = 60, hold_secs = 60;
	struct sigaction sa = {.sa_handler = on_signal};
	struct sockaddr_in dst = {.sin_family = AF_INET};
	struct epoll_event evs[256];
	struct idle_conn *conns;
	struct rlimit rl;
	char req[512];
	size_t reqlen;
	int opt, ep, next = 0, pending = 0, held = 0, failed = 0, closed = 0, i, n;
	double deadline;

	while ((opt = getopt(argc, argv, "p:a:n:s:w:u:o:t:")) != -1) {
		switch (opt) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'a':
			addr = optarg;
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 's':
			sources = atoi(optarg);
			break;
		case 'w':
			window = atoi(optarg);
			break;
		case 'u':
			path = optarg;
			break;
		case 'o':
			open_secs = atoi(optarg);
			break;
		case 't':
			hold_secs = atoi(optarg);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (port <= 0 || port > 65535 || count <= 0 || count > 1000000 || sources < 1 ||
	    sources > 250 || window < 1 || open_secs < 1 || hold_secs < 0 ||
	    inet_pton(AF_INET, addr, &dst.sin_addr) != 1)
		usage(argv[0]);
	dst.sin_port = htons(port);
	reqlen =
	    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, addr, port);
	if (reqlen >= sizeof(req))
		usage(argv[0]);

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)count + 64) {
		/* Raising the hard limit needs CAP_SYS_RESOURCE: without it this fails cleanly. */
		rl.rlim_cur = (rlim_t)count + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			fprintf(stderr, "idle_conns: cannot raise RLIMIT_NOFILE to %d: %s\n",
				count + 64, strerror(errno));
			return 1;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	conns = calloc(count, sizeof(*conns));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || ep < 0) {
		perror("idle_conns");
		return 1;
	}

	deadline = now_s() + open_secs;
	while (!stop && (next < count || pending > 0) && now_s() < deadline) {
		while (next < count && pending < window) {
			struct idle_conn *c = &conns[next];
			int err = start_connect(c, ep, &dst, next, sources);

			next++;
			if (err) {
				if (failed == 0)
					fprintf(stderr, "idle_conns: connect: %s\n",
						strerror(-err));
				if (c->fd >= 0)
					close(c->fd);
				c->fd = -1;
				c->state = IDLE_FAILED;
				failed++;
				continue;
			}
			pending++;
		}
		n = epoll_wait(ep, evs, 256, 100);
		for (i = 0; i < n; i++) {
			struct idle_conn *c = evs[i].data.ptr;

			if (step(c, ep, evs[i].events, req, reqlen)) {
				pending--;
				if (c->state == IDLE_HELD)
					held++;
				else
					failed++;
			}
		}
	}
	failed += count - held - failed; /* still pending or never started at the deadline */
	printf("ready %d %d\n", held, failed);
	fflush(stdout);

	/* Hold; a signal interrupts the sleep, so SIGTERM ends the hold at once. */
	deadline = now_s() + hold_secs;
	while (!stop && now_s() < deadline)
		poll(NULL, 0, 100);
	for (i = 0; i < count; i++) {
		char b;

		if (conns[i].state != IDLE_HELD)
			continue;
		/* A server that dropped an idle client shows EOF or a reset here. */
		n = recv(conns[i].fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			closed++;
	}
	printf("done %d %d\n", held - closed, closed);
	fflush(stdout);
	return (held == count && closed == 0) ? 0 : 1;
}
