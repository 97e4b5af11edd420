// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* An HTTP origin with a fixed capacity: N requests in service at a time, each for a fixed time. */

/*
 * Models a backend with a bounded worker pool (threads waiting on a database, say): -k slots,
 * each request holds one for -s µs, the rest wait in one FIFO in arrival order, so capacity is
 * slots / service time and any load above it queues. Service is a timer, not CPU, so the origin
 * costs almost nothing on a shared machine. Every request gets 200 "pong" (keep-alive). On
 * SIGTERM it prints what it served and the deepest queue it saw.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define BUF_SZ 16384

static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n"
			   "\r\npong";
static const char resp_close[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				 "Content-Length: 4\r\nConnection: close\r\n\r\npong";

enum { S_READ, S_WAIT, S_SERVE, S_WRITE };

struct conn {
	int state, close_after;
	uint32_t gen; /* bumped on close, so queue entries of a dead connection are skipped */
	size_t len, req_len, woff;
	char buf[BUF_SZ];
};

struct entry {
	int fd;
	uint32_t gen;
	int64_t done; /* in service: when it finishes */
};

static struct conn **conns; /* by fd */
static int max_fd;
static struct entry *waiting, *serving; /* rings of max_fd entries */
static long w_head, w_len, s_head, s_len;
static long slots = 4, served, max_queue;
static int64_t service_ns = 5000000;
static int epfd;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void conn_close(int fd)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	conns[fd]->gen++;
	conns[fd]->state = S_READ;
	conns[fd]->len = 0;
}

/* request_len: bytes of the first complete request in buf, 0 when incomplete, -1 when bad. */
static long request_len(struct conn *c)
{
	char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *p;
	long clen = 0;

	if (!end)
		return c->len == BUF_SZ ? -1 : 0;
	c->close_after = !memmem(c->buf, (size_t)(end - c->buf), "HTTP/1.1\r\n", 10);
	for (p = c->buf; p < end; p++) {
		if (*p != '\n')
			continue;
		if (!strncasecmp(p + 1, "content-length:", 15))
			clen = strtol(p + 16, NULL, 10);
		else if (!strncasecmp(p + 1, "connection:", 11) &&
			 strncasecmp(p + 12, " close", 6) == 0)
			c->close_after = 1;
	}
	if (clen < 0 || clen > BUF_SZ / 2)
		return -1;
	if ((size_t)(end + 4 - c->buf) + (size_t)clen > c->len)
		return 0;
	return (end + 4 - c->buf) + clen;
}

static void start_service(int fd, uint32_t gen, int64_t now)
{
	struct entry *e = &serving[(s_head + s_len) % max_fd];

	e->fd = fd;
	e->gen = gen;
	e->done = now + service_ns;
	s_len++;
	conns[fd]->state = S_SERVE;
}

/* admit: a complete request in FD's buffer is served now if a slot is free, else queued. */
static void admit(int fd, int64_t now)
{
	struct conn *c = conns[fd];

	if (s_len < slots && !w_len) {
		start_service(fd, c->gen, now);
		return;
	}
	waiting[(w_head + w_len) % max_fd] = (struct entry){.fd = fd, .gen = c->gen};
	w_len++;
	c->state = S_WAIT;
	if (w_len > max_queue)
		max_queue = w_len;
}

static void try_request(int fd, int64_t now)
{
	struct conn *c = conns[fd];
	long n = request_len(c);

	if (n < 0) {
		conn_close(fd);
		return;
	}
	if (n == 0)
		return;
	c->req_len = (size_t)n;
	admit(fd, now);
}

static void on_write(int fd, int64_t now)
{
	struct conn *c = conns[fd];
	const char *r = c->close_after ? resp_close : resp;
	size_t len = c->close_after ? sizeof(resp_close) - 1 : sizeof(resp) - 1;
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	while (c->woff < len) {
		ssize_t n = write(fd, r + c->woff, len - c->woff);
		if (n < 0 && errno == EAGAIN) {
			ev.events = EPOLLIN | EPOLLOUT;
			epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
			return;
		}
		if (n <= 0) {
			conn_close(fd);
			return;
		}
		c->woff += (size_t)n;
	}
	served++;
	if (c->close_after) {
		conn_close(fd);
		return;
	}
	epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
	memmove(c->buf, c->buf + c->req_len, c->len - c->req_len);
	c->len -= c->req_len;
	c->state = S_READ;
	try_request(fd, now); /* a pipelined request already here */
}

static void on_read(int fd, int64_t now)
{
	struct conn *c = conns[fd];

	for (;;) {
		ssize_t n = read(fd, c->buf + c->len, BUF_SZ - c->len);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(fd);
			return;
		}
		c->len += (size_t)n;
		if (c->len == BUF_SZ)
			break;
	}
	if (c->state == S_READ)
		try_request(fd, now);
}

static void on_accept(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

		if (fd < 0)
			return;
		if (fd >= max_fd) {
			close(fd);
			continue;
		}
		if (!conns[fd] && !(conns[fd] = calloc(1, sizeof(struct conn)))) {
			close(fd);
			continue;
		}
		conns[fd]->state = S_READ;
		conns[fd]->len = 0;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	}
}

/* tick: finish the requests whose service time is up and start the waiting ones in their slots. */
static void tick(int64_t now)
{
	while (s_len && serving[s_head].done <= now) {
		struct entry e = serving[s_head];
		s_head = (s_head + 1) % max_fd;
		s_len--;
		if (conns[e.fd]->gen == e.gen) {
			conns[e.fd]->state = S_WRITE;
			conns[e.fd]->woff = 0;
			on_write(e.fd, now);
		}
	}
	while (s_len < slots && w_len) {
		struct entry e = waiting[w_head];
		w_head = (w_head + 1) % max_fd;
		w_len--;
		if (conns[e.fd]->gen == e.gen)
			start_service(e.fd, e.gen, now);
	}
}

static int listen_on(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0) {
		perror("lanes_origin: bind/listen");
		exit(1);
	}
	epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	return fd;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct epoll_event evs[256];
	struct rlimit rl;
	int o, port = 0, lfd;

	while ((o = getopt(argc, argv, "p:s:k:")) != -1) {
		switch (o) {
		case 'p':
			port = atoi(optarg);
			break;
		case 's':
			service_ns = atol(optarg) * 1000LL;
			break;
		case 'k':
			slots = atol(optarg);
			break;
		default:
			port = 0;
		}
	}
	if (port < 1 || port > 65535 || service_ns < 0 || slots < 1 || optind != argc) {
		fprintf(stderr,
			"usage: lanes_origin -p PORT [-s SERVICE_US] [-k SLOTS]\n"
			"  capacity = SLOTS / SERVICE_US requests per µs; the rest queue FIFO\n");
		return 2;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	max_fd = rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur;
	conns = calloc((size_t)max_fd, sizeof(*conns));
	waiting = calloc((size_t)max_fd, sizeof(*waiting));
	serving = calloc((size_t)max_fd, sizeof(*serving));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || !waiting || !serving || epfd < 0)
		return 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(port);
	printf("lanes_origin: port %d, %ld slots x %lld us = %.0f requests/s\n", port, slots,
	       (long long)(service_ns / 1000), service_ns ? slots * 1e9 / (double)service_ns : 0.0);
	fflush(stdout);
	while (!stop) {
		int64_t now = clock_mono_ns(), wait_ns = 1000000000LL;
		int n;

		tick(now);
		if (s_len)
			wait_ns = serving[s_head].done - now;
		n = epoll_wait_ns(epfd, evs, 256, wait_ns);
		now = clock_mono_ns();
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd)
				on_accept(lfd);
			else if (evs[i].events & EPOLLOUT && conns[fd]->state == S_WRITE)
				on_write(fd, now);
			else
				on_read(fd, now);
		}
	}
	printf("lanes_origin: served %ld, deepest queue %ld\n", served, max_queue);
	return 0;
}
