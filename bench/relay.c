// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// The floor for a proxied request: a bare epoll byte relay, one upstream connection per client.

/*
 * Usage: relay PORT UPSTREAM_ADDR:PORT [LISTEN_ADDR]
 *
 * Each accepted client connection gets its own upstream connection for its
 * whole life, and bytes are copied both ways as they come: no parsing, no
 * pooling, no header rewriting. A proxy cannot do less work per request than
 * this, so its CPU per request is the proxied scenario's floor. Reads from a
 * side pause while the other side has bytes it has not taken yet.
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

#define RELAY_BUF 16384

struct relay_pair;

/* One socket of a pair; <out> holds bytes read from the peer that this socket has not taken. */
struct relay_end {
	struct relay_pair *pair;
	int fd;
	int connecting; /* upstream connect() still in progress */
	int paused;	/* EPOLLIN dropped because the peer's out buffer is full */
	size_t off, len;
	char out[RELAY_BUF];
};

struct relay_pair {
	struct relay_end end[2]; /* 0 = client, 1 = upstream */
	int closed;
};

static struct sockaddr_in upstream;
static int ep;
static volatile sig_atomic_t stop;
/* Pairs closed during one epoll_wait batch: freed after it, since later events may name them. */
static struct relay_pair *graveyard[512];
static int n_graveyard;

static void on_signal(int sig)
{
	stop = 1;
}

static int set_events(struct relay_end *e)
{
	struct epoll_event ev = {.data.ptr = e};

	if (!e->paused)
		ev.events |= EPOLLIN;
	if (e->connecting || e->len > e->off)
		ev.events |= EPOLLOUT;
	return epoll_ctl(ep, EPOLL_CTL_MOD, e->fd, &ev);
}

static void pair_close(struct relay_pair *p)
{
	if (p->closed)
		return;
	p->closed = 1;
	close(p->end[0].fd);
	close(p->end[1].fd);
	if (n_graveyard < (int)(sizeof(graveyard) / sizeof(graveyard[0])))
		graveyard[n_graveyard++] = p;
	/* else: leak one pair rather than risk a use after free; never happens with 512 events */
}

/* Write what <e> still has pending; returns 0, or -1 when the pair must close. */
static int flush(struct relay_end *e)
{
	while (e->off < e->len) {
		ssize_t n = write(e->fd, e->out + e->off, e->len - e->off);

		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		e->off += n;
	}
	e->off = e->len = 0;
	return 0;
}

/* Read once from <from> and pass the bytes on to its peer. */
static int pump(struct relay_end *from)
{
	struct relay_end *to = &from->pair->end[from == &from->pair->end[0]];
	ssize_t n;

	n = read(from->fd, to->out, sizeof(to->out));
	if (n == 0)
		return -1;
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	to->off = 0;
	to->len = n;
	if (!to->connecting && flush(to))
		return -1;
	if (to->len) {
		/* The peer did not take it all: stop reading until it does. */
		from->paused = 1;
		if (set_events(from) || set_events(to))
			return -1;
	}
	return 0;
}

static int on_writable(struct relay_end *e)
{
	struct relay_end *peer = &e->pair->end[e == &e->pair->end[0]];

	if (e->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
			return -1;
		e->connecting = 0;
	}
	if (flush(e))
		return -1;
	if (e->len == 0 && peer->paused) {
		peer->paused = 0;
		if (set_events(peer))
			return -1;
	}
	return set_events(e);
}

static void accept_all(int lfd)
{
	int one = 1, cfd;

	while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct relay_pair *p = calloc(1, sizeof(*p));
		struct epoll_event ev;
		int ufd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (!p || ufd < 0)
			goto fail;
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(ufd, (struct sockaddr *)&upstream, sizeof(upstream)) &&
		    errno != EINPROGRESS)
			goto fail;
		p->end[0] = (struct relay_end){.pair = p, .fd = cfd};
		p->end[1] = (struct relay_end){.pair = p, .fd = ufd, .connecting = 1};
		/* Client bytes wait in the kernel until the upstream connect completes. */
		p->end[0].paused = 1;
		ev = (struct epoll_event){.events = 0, .data.ptr = &p->end[0]};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev))
			goto fail;
		ev = (struct epoll_event){.events = EPOLLIN | EPOLLOUT, .data.ptr = &p->end[1]};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, ufd, &ev))
			goto fail;
		continue;
	fail:
		fprintf(stderr, "relay: upstream: %s\n", strerror(errno));
		close(cfd);
		if (ufd >= 0)
			close(ufd);
		free(p);
	}
}

static void on_event(struct relay_end *e, uint32_t events)
{
	struct relay_pair *p = e->pair;
	struct relay_end *client = &p->end[0];

	if (p->closed)
		return;
	if (events & EPOLLOUT) {
		int was_connecting = e->connecting;

		if (on_writable(e))
			goto close;
		if (was_connecting && !e->connecting) {
			client->paused = 0;
			if (set_events(client))
				goto close;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (e->connecting && (events & (EPOLLHUP | EPOLLERR)))
			goto close;
		if (!e->connecting && !e->paused && pump(e))
			goto close;
	}
	return;
close:
	pair_close(p);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sigaction sa = {.sa_handler = on_signal};
	struct epoll_event evs[256], lev;
	char host[64], *colon;
	int one = 1, lfd, i, n;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s PORT UPSTREAM_ADDR:PORT [LISTEN_ADDR]\n", argv[0]);
		return 2;
	}
	snprintf(host, sizeof(host), "%s", argv[2]);
	colon = strrchr(host, ':');
	if (!colon) {
		fprintf(stderr, "relay: upstream must be ADDR:PORT\n");
		return 2;
	}
	*colon = '\0';
	upstream.sin_family = AF_INET;
	upstream.sin_port = htons(atoi(colon + 1));
	sin.sin_port = htons(atoi(argv[1]));
	if (inet_pton(AF_INET, host, &upstream.sin_addr) != 1 ||
	    inet_pton(AF_INET, argc > 3 ? argv[3] : "127.0.0.1", &sin.sin_addr) != 1) {
		fprintf(stderr, "relay: bad address\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 4096)) {
		fprintf(stderr, "relay: listen on port %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	/* The listener is marked by a NULL pointer: relay ends are never NULL. */
	lev = (struct epoll_event){.events = EPOLLIN, .data.ptr = NULL};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev)) {
		perror("relay: epoll");
		return 1;
	}
	while (!stop) {
		n = epoll_wait(ep, evs, 256, -1);
		if (n < 0 && errno != EINTR) {
			perror("relay: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				accept_all(lfd);
			else
				on_event(evs[i].data.ptr, evs[i].events);
		}
		while (n_graveyard)
			free(graveyard[--n_graveyard]);
	}
	return 0;
}
