// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer target: the admin API's request handling (evhttp + our handlers), driven in one thread.
 */
#include <event2/event.h>
#include <event2/http.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "core/daemon.h"
#include "core/runtime.h"
#include "ops/admin.h"
#include "proxy/fault_ov.h"

/*
 * The admin server runs on its own thread in ordergated, but nothing in it needs that
 * thread: admin_http_new() builds the same evhttp with the same handlers on any base. Here
 * it listens on an ephemeral loopback port and this thread plays both sides: write the
 * input as one request stream, half-close, and turn the event loop until the server closes.
 */

static const char yaml[] = "listen: [\"127.0.0.1:1\"]\n"
			   "admin: { listen: \"127.0.0.1:2\" }\n"
			   "upstreams:\n  o: { servers: [\"127.0.0.1:3\"] }\n"
			   "routes:\n  - { match: { path_prefix: / }, upstream: o }\n";

static struct event_base *base;
static struct sockaddr_in addr;
static int reloads;

static void on_reload(void)
{
	reloads++;
}

static int setup(void)
{
	char err[256];
	struct config *c = config_load_string(yaml, sizeof(yaml) - 1, "fuzz", err, sizeof(err));
	struct evhttp *h;
	struct evhttp_bound_socket *bs;
	struct og_rt *rt;
	socklen_t l = sizeof(addr);

	if (!c)
		return -1;
	/* a token, as if admin.token_file had been read, so /reload's checks all run */
	c->admin_token = strdup("fuzz-token-0123456789");
	rt = rt_new(c, NULL);
	if (!rt)
		return -1;
	fault_ov_resolve(rt); /* POST /faults resolves names in it */
	rt_publish(rt);
	base = event_base_new();
	h = base ? admin_http_new(base, &og_d, on_reload) : NULL;
	bs = h ? evhttp_bind_socket_with_handle(h, "127.0.0.1", 0) : NULL;
	if (!bs)
		return -1;
	return getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&addr, &l);
}

/*
 * A connected client socket, or -1. evhttp often closes first, so the server's end of
 * each connection sits in TIME_WAIT for 60 s; at thousands of runs a second the client's
 * ephemeral ports wrap around within that, and a SYN that lands on a TIME_WAIT of the same
 * 4-tuple is refused. So each connection comes from the next of 250 loopback source
 * addresses (all of 127/8 is local), and a refused connect is retried from the next one;
 * only a server that refuses every time is a failure.
 */
static int client_connect(void)
{
	static unsigned int next;

	for (int tries = 0; tries < 8; tries++) {
		struct sockaddr_in src = {.sin_family = AF_INET};
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			return -1;
		src.sin_addr.s_addr = htonl(0x7f000002 + next++ % 250);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){1, 0},
			   sizeof(struct linger));
		if (!bind(fd, (struct sockaddr *)&src, sizeof(src)) &&
		    !connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			return fd;
		close(fd);
	}
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char sink[65536];
	int fd, closed = 0;

	if (!ready) {
		if (setup())
			abort();
		ready = 1;
	}
	if (size > 60000)
		return 0;
	/* A response written after the input closed its side must not kill the run (the
	 * daemon ignores SIGPIPE too), and a close with RST leaves no TIME_WAIT behind: a
	 * long run opens 100k+ connections and would run out of ephemeral ports */
	signal(SIGPIPE, SIG_IGN);
	fd = client_connect();
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	shutdown(fd, SHUT_WR);
	/* bounded: the server answers and closes after our EOF within a few loop turns */
	for (int i = 0; i < 2000 && !closed; i++) {
		ssize_t n;

		event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
		n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			closed = 1;
	}
	close(fd);
	event_base_loop(base, EVLOOP_NONBLOCK);
	return 0;
}
