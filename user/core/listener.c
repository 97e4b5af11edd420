// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* SO_REUSEPORT listeners per worker: the kernel spreads connections, no accept lock. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/listener.h"
#include "lib/log.h"
#include "core/worker.h"

#define ACCEPT_BATCH 64 /* accepts per readiness event, so one busy listener cannot starve I/O */

int listener_open(const struct cfg_addr *a, char *err, size_t errlen)
{
	int one = 1, fd, e;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "listen %s: socket: %s", a->text, strerror(e));
		return -e;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Accepted sockets inherit TCP_NODELAY; no setsockopt per connection. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
		goto fail;
	if (listen(fd, 4096) < 0)
		goto fail;
	return fd;
fail:
	e = errno;
	snprintf(err, errlen, "listen %s: %s", a->text, strerror(e));
	close(fd);
	return -e;
}

int listener_wanted(int w, const struct cfg_addr *a)
{
	return !worker_policy.wants || worker_policy.wants(w, (const struct sockaddr *)&a->ss);
}

void listener_opened(int w, int fd, const struct cfg_addr *a)
{
	if (worker_policy.opened)
		worker_policy.opened(w, fd, (const struct sockaddr *)&a->ss);
}

/* Accept up to <max> connections; <read_now>: read and serve each at once (its request
 * usually came with the handshake), else only arm it for the loop. */
static int accept_some(struct og_worker_priv *p, int lfd, int max, int read_now)
{
	int n = 0;

	while (n < max) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* out of descriptors: an incomplete head makes room before we stop */
			if ((errno == EMFILE || errno == ENFILE) && worker_shed(p))
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: the listener stays readable, so stop watching
				 * it for a moment instead of spinning; the tick resumes it. */
				if (!p->accept_paused_until)
					og_log("error",
					       "event=accept worker=%d err=\"%s\" pause_ms=100",
					       p->w->id, strerror(errno));
				p->accept_paused_until = p->now_ms + 100;
				for (int i = 0; i < p->n_listen; i++)
					if (p->lev[i])
						event_del(p->lev[i]);
			}
			break;
		}
		worker_accept(p, fd, (struct sockaddr *)&ss, sl, read_now);
		n++;
	}
	return n;
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct og_worker_priv *p = arg;

	accept_some(p, fd, ACCEPT_BATCH, 1);
	worker_reap(p);
}

static int listener_add(struct og_worker_priv *p, int i)
{
	p->lev[i] = event_new(p->w->base, p->lfd[i], EV_READ | EV_PERSIST, accept_cb, p);
	if (!p->lev[i] || event_add(p->lev[i], NULL))
		return -ENOMEM;
	return 0;
}

int listener_start(struct og_worker_priv *p)
{
	for (int i = 0; i < p->n_listen; i++)
		if (listener_add(p, i))
			return -ENOMEM;
	atomic_store(&p->w->listening, (uint32_t)p->n_listen);
	return 0;
}

static void listener_close(struct og_worker_priv *p, int i)
{
	if (p->lev[i]) {
		event_free(p->lev[i]);
		p->lev[i] = NULL;
	}
	/* What the kernel queued to us before close would be reset: take it first. With
	 * net.ipv4.tcp_migrate_req=1 what arrives after this moves to a sibling socket.
	 * Only taken here: served from the loop, so no request runs inside a reload or a
	 * drain step (the caller may be in the middle of switching generations). */
	accept_some(p, p->lfd[i], 1 << 20, 0);
	close(p->lfd[i]);
	p->lfd[i] = -1;
}

void listener_resume(struct og_worker_priv *p)
{
	if (!p->accept_paused_until || p->now_ms < p->accept_paused_until)
		return;
	p->accept_paused_until = 0;
	for (int i = 0; i < p->n_listen; i++)
		if (p->lev[i])
			event_add(p->lev[i], NULL);
}

void listener_stop(struct og_worker_priv *p)
{
	for (int i = 0; i < p->n_listen; i++)
		if (p->lfd[i] >= 0)
			listener_close(p, i);
	p->n_listen = 0;
	atomic_store(&p->w->listening, 0);
}

void listener_reconcile(struct og_worker_priv *p, const struct config *newc)
{
	int lfd[CFG_MAX_LISTEN];
	struct event *lev[CFG_MAX_LISTEN];
	char laddr[CFG_MAX_LISTEN][64];
	char err[256];
	int n = 0;

	for (int j = 0; j < newc->n_listen; j++) {
		int found = -1;

		if (!listener_wanted(p->w->id, &newc->listen[j]))
			continue;
		/* by address, not position: an address that failed to open left no slot */
		for (int i = 0; i < p->n_listen; i++)
			if (p->lfd[i] >= 0 && !strcmp(p->laddr[i], newc->listen[j].text))
				found = i;
		snprintf(laddr[n], sizeof(laddr[0]), "%s", newc->listen[j].text);
		if (found >= 0) {
			lfd[n] = p->lfd[found];
			lev[n++] = p->lev[found];
			p->lfd[found] = -1;
			p->lev[found] = NULL;
			continue;
		}
		lfd[n] = listener_open(&newc->listen[j], err, sizeof(err));
		if (lfd[n] < 0) {
			og_log("error", "event=reload_listen worker=%d err=\"%s\"", p->w->id, err);
			continue;
		}
		listener_opened(p->w->id, lfd[n], &newc->listen[j]);
		lev[n] = event_new(p->w->base, lfd[n], EV_READ | EV_PERSIST, accept_cb, p);
		if (lev[n])
			event_add(lev[n], NULL);
		n++;
	}
	for (int i = 0; i < p->n_listen; i++)
		if (p->lfd[i] >= 0)
			listener_close(p, i);
	memcpy(p->lfd, lfd, sizeof(int) * n);
	memcpy(p->lev, lev, sizeof(void *) * n);
	memcpy(p->laddr, laddr, sizeof(laddr[0]) * n);
	p->n_listen = n;
	atomic_store(&p->w->listening, (uint32_t)n);
}
