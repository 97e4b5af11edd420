// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* og_reuseport with real sockets: order sources reach the reserved workers' listeners. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <pthread.h>

#include "dp/dp.h"
#include "lanes/reserve.h"
#include "../lib/og_test.h"

#define NSOCK 4 /* workers 0..3; worker 0 reserved */
#define NCONN 60

static int listen_on(int family, const char *addr, int port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		len = sizeof(*a);
	}
	if (bind(fd, (void *)&ss, len) < 0 || listen(fd, 256) < 0) {
		og_diag("listen %s:%d: %s", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void sa_make(int family, const char *addr, int port, struct sockaddr_storage *ss,
		    socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		*len = sizeof(*a);
	}
}

/* NCONN connections from <src> to <dst>:<port>; counts which listener accepted each. */
static int spread(int family, const char *src, const char *dst, int port, const int *lfd,
		  int got[NSOCK])
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i, j, lost = 0;

	memset(got, 0, sizeof(int) * NSOCK);
	for (i = 0; i < NCONN; i++) {
		int c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), hit = 0;

		sa_make(family, src, 0, &ss, &len);
		if (bind(c, (void *)&ss, len) < 0) {
			og_diag("bind %s: %s", src, strerror(errno));
			close(c);
			return -1;
		}
		sa_make(family, dst, port, &ss, &len);
		if (connect(c, (void *)&ss, len) < 0) {
			og_diag("connect: %s", strerror(errno));
			close(c);
			return -1;
		}
		/* the handshake completed in the kernel: exactly one listener holds it now */
		for (int tries = 0; tries < 200 && !hit; tries++) {
			for (j = 0; j < NSOCK && !hit; j++) {
				int a =
				    lfd[j] >= 0 ? accept4(lfd[j], NULL, NULL, SOCK_CLOEXEC) : -1;

				if (a >= 0) {
					got[j]++;
					hit = 1;
					close(a);
				}
			}
			if (!hit)
				usleep(1000);
		}
		lost += !hit;
		close(c);
	}
	return lost;
}

static int setup_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		og_diag("unshare(CLONE_NEWNET): %s", strerror(errno));
		return -1;
	}
	return system("ip link set lo up && ip addr add 10.20.1.5/32 dev lo && "
		      "ip addr add 10.99.0.7/32 dev lo && "
		      "ip -6 addr add fd20::5/128 dev lo nodad && "
		      "ip -6 addr add fd99::7/128 dev lo nodad");
}

static void run_family(int family, const char *dst, const char *order_src, const char *other_src)
{
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";
	int lfd[NSOCK], got[NSOCK], port = 18000 + (family == AF_INET6), i, lost;
	struct sockaddr_storage ss;
	socklen_t len;

	for (i = 0; i < NSOCK; i++) {
		lfd[i] = listen_on(family, dst, port);
		sa_make(family, dst, port, &ss, &len);
		if (lfd[i] >= 0)
			reserve_opened(i, lfd[i], (void *)&ss);
	}
	OK(lfd[0] >= 0 && lfd[NSOCK - 1] >= 0, "%s: %d SO_REUSEPORT listeners", fam, NSOCK);
	lost = spread(family, order_src, dst, port, lfd, got);
	OK(lost == 0 && got[0] == NCONN,
	   "%s: every connection from order source %s lands on the reserved worker (%d/%d/%d/%d)",
	   fam, order_src, got[0], got[1], got[2], got[3]);
	lost = spread(family, other_src, dst, port, lfd, got);
	OK(lost == 0 && got[0] == 0 && got[1] + got[2] + got[3] == NCONN && got[1] && got[2] &&
	       got[3],
	   "%s: connections from %s spread over the other workers only (%d/%d/%d/%d)", fam,
	   other_src, got[0], got[1], got[2], got[3]);
	/* the reserved worker closes its listener (drain): its slot empties, and order
	 * sources fall back to the kernel's hash instead of being refused */
	close(lfd[0]);
	lfd[0] = -1;
	lost = spread(family, order_src, dst, port, lfd, got);
	OK(lost == 0 && got[1] + got[2] + got[3] == NCONN,
	   "%s: empty reserved slot: order source still served by the hash (%d/%d/%d)", fam, got[1],
	   got[2], got[3]);
	for (i = 1; i < NSOCK; i++)
		close(lfd[i]);
}

static void *niced(void *arg)
{
	int *out = arg;

	reserve_thread_start(out[0]);
	errno = 0;
	out[1] = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
	return NULL;
}

int main(void)
{
	struct dp_prefix src[2];
	uint16_t order_port = 9443;
	struct reserve_opts o = {.n_workers = NSOCK,
				 .n_reserved = 1,
				 .order_ports = &order_port,
				 .n_order_ports = 1,
				 .order_src = src,
				 .n_order_src = 2,
				 .nice = 7};
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct reserve_stats st;
	char err[256] = "";
	pthread_t th;
	int w0[2] = {0, 99}, w2[2] = {2, 99};

	if (geteuid() != 0) {
		og_skip("needs root (BPF, netns)");
		return og_done();
	}
	OK(setup_netns() == 0, "private netns with order and other source addresses");
	dp_prefix_parse("10.20.0.0/16", &src[0], NULL, err, sizeof(err));
	dp_prefix_parse("fd20::/16", &src[1], NULL, err, sizeof(err));
	OK(reserve_setup(&o, err, sizeof(err)) == 0, "og_reuseport loads (%s)", err);

	a.sin_port = htons(9443);
	OK(reserve_wants(0, (void *)&a) && !reserve_wants(1, (void *)&a) &&
	       !reserve_wants(3, (void *)&a),
	   "order port 9443: only the reserved worker listens");
	a.sin_port = htons(8080);
	OK(reserve_wants(0, (void *)&a) && reserve_wants(3, (void *)&a),
	   "shared port 8080: every worker listens");

	run_family(AF_INET, "127.0.0.1", "10.20.1.5", "10.99.0.7");
	run_family(AF_INET6, "::1", "fd20::5", "fd99::7");
	reserve_stats_read(&st);
	OK(st.prog_loaded && st.groups == 2 && st.sockets == 2 * NSOCK && st.attach_failed == 0,
	   "stats: 2 groups, %u sockets, %u failures", st.sockets, st.attach_failed);

	pthread_create(&th, NULL, niced, w0);
	pthread_join(th, NULL);
	pthread_create(&th, NULL, niced, w2);
	pthread_join(th, NULL);
	OK(w0[1] == 0 && w2[1] == 7, "order worker keeps nice 0 (%d), others get 7 (%d)", w0[1],
	   w2[1]);
	reserve_teardown();
	return og_done();
}
