// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The floor for a directly answered request: one epoll loop, one read, one write, no parsing.

/*
 * Usage: floor_epoll PORT [ADDR]
 *
 * Every read that returns data is answered with one fixed HTTP/1.1 200 "pong"
 * response, so it is only correct for clients that send one small request at a
 * time per connection (wrk without pipelining). What it costs per request is
 * almost all kernel time for loopback TCP: no HTTP server can do less, which
 * is why the benchmark measures it in the same run as the servers it ranks.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char response[] = "HTTP/1.1 200 OK\r\n"
			       "Server: floor\r\n"
			       "Content-Type: text/plain\r\n"
			       "Content-Length: 4\r\n"
			       "Connection: keep-alive\r\n"
			       "\r\n"
			       "pong";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int listen_on(const char *addr, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1, fd;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "floor_epoll: bad address %s\n", addr);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 4096)) {
		fprintf(stderr, "floor_epoll: %s:%d: %s\n", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void accept_all(int lfd, int ep)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int one = 1, fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			close(fd);
	}
}

static void serve(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0) {
		/* The response fits any empty socket buffer; a short write means a broken peer. */
		if (write(fd, response, sizeof(response) - 1) != (ssize_t)sizeof(response) - 1)
			close(fd);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	close(fd); /* also drops it from the epoll set */
}

int main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct sigaction sa = {.sa_handler = on_signal};
	int lfd, ep, i, n;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PORT [ADDR]\n", argv[0]);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(argc > 2 ? argv[2] : "127.0.0.1", atoi(argv[1]));
	if (lfd < 0)
		return 1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev)) {
		perror("floor_epoll: epoll");
		return 1;
	}
	while (!stop) {
		n = epoll_wait(ep, evs, 256, -1);
		if (n < 0 && errno != EINTR) {
			perror("floor_epoll: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				accept_all(lfd, ep);
			else
				serve(evs[i].data.fd);
		}
	}
	return 0;
}
