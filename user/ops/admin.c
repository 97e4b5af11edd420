// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Admin HTTP server: evhttp on its own thread and event_base, off the request hot path. */
#include "ops/admin.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "core/daemon.h"
#include "lanes/ctrl.h"
#include "ops/metrics.h"
#include "proxy/upstream.h"
#include "lanes/klink.h"

static struct {
	struct og_daemon *d;
	struct event_base *base;
	struct evhttp *http;
	struct event *wake; /* read end of <pipe>: admin_stop() asks the loop to end */
	int pipe[2];
	int fd;		      /* listening socket */
	void (*reload)(void); /* POST /reload: ask the main thread to reload */
	pthread_t thread;
	int running;
} adm = {.pipe = {-1, -1}, .fd = -1};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
		  struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, body);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add_printf(b, "%s\n", text);
	reply(req, code, reason, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

/* Does <req> carry "Authorization: Bearer <token>" for the running config's token? A config
 * without admin.token_file has no token: nothing may change state then. Constant time. */
static int authorized(struct evhttp_request *req)
{
	struct og_rt *rt = og_daemon_rt();
	const char *tok = rt ? rt->cfg->admin_token : NULL, *h;
	size_t n, m;
	unsigned diff;

	if (!tok)
		return 0;
	h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7))
		return 0;
	h += 7;
	n = strlen(tok);
	m = strlen(h);
	diff = (unsigned)(n ^ m);
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)tok[i] ^ (unsigned char)(i < m ? h[i] : 0);
	return diff == 0;
}

/*
 * Every request that changes state passes here: without admin.token_file nothing may change
 * state (403), and with one the request needs "Authorization: Bearer TOKEN" (401). Returns 1
 * when <req> may go on; otherwise it has been answered.
 */
static int state_change_ok(struct evhttp_request *req)
{
	struct og_rt *rt = og_daemon_rt();

	if (!rt || !rt->cfg->admin_token) {
		reply_text(req, 403, "Forbidden",
			   "state changes need a token: set admin.token_file in the config");
		return 0;
	}
	if (!authorized(req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
				  "Bearer realm=\"ordergated\"");
		reply_text(req, 401, "Unauthorized", "missing or wrong bearer token");
		return 0;
	}
	return 1;
}

/* POST /reload: the same as SIGHUP (the main thread loads and checks the file). */
static void handle_reload(struct evhttp_request *req, enum evhttp_cmd_type cmd)
{
	if (cmd != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		reply_text(req, 405, "Method Not Allowed", "method not allowed");
		return;
	}
	if (!state_change_ok(req))
		return;
	if (adm.reload)
		adm.reload();
	reply_text(req, 202, "Accepted", "reload requested");
}

/* Readiness for /readyz: listeners up and, for each upstream a route uses, at least one
 * server usable (healthy, not ejected, breaker not open). Returns 1 when ready, 0 when
 * not (with the reason in <why>). Lock-free reads of the daemon's state. */
static int admin_ready(char *why, size_t whylen)
{
	struct og_rt *rt = og_daemon_rt();
	uint64_t now = og_now_ms();

	if (!rt || !atomic_load(&og_d.ready)) {
		snprintf(why, whylen, "starting");
		return 0;
	}
	if (atomic_load(&og_d.draining)) {
		snprintf(why, whylen, "draining");
		return 0;
	}
	for (int i = 0; i < og_d.n_workers; i++) {
		if (!atomic_load(&og_d.workers[i].listening) && rt->cfg->n_listen) {
			snprintf(why, whylen, "worker %d has no listener", i);
			return 0;
		}
	}
	for (int r = 0; r < rt->cfg->n_routes; r++) {
		const struct cfg_route *cr = &rt->cfg->routes[r];
		struct og_upstream_rt *ur;
		int ok = 0;

		if (cr->is_respond)
			continue;
		ur = &rt->ups[cr->upstream];
		for (int s = 0; s < ur->n_servers && !ok; s++)
			ok = upstream_server_usable(&ur->servers[s], now);
		if (!ok) {
			snprintf(why, whylen, "upstream %s has no usable server", ur->cfg->name);
			return 0;
		}
	}
	return 1;
}

static void handle(struct evhttp_request *req, void *arg)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct evbuffer *b;
	int posts;

	(void)arg;
	if (!path || !*path)
		path = "/";
	if (!strcmp(path, "/reload")) {
		handle_reload(req, cmd);
		return;
	}
	posts = !strcmp(path, "/limits") || !strcmp(path, "/faults");
	if (cmd == EVHTTP_REQ_POST && posts) {
		char err[256];

		if (!state_change_ok(req))
			return;
		if ((path[1] == 'l' ? admin_limits_post : admin_faults_post)(req, err,
									     sizeof(err))) {
			reply_text(req, 400, "Bad Request", err);
			return;
		}
		cmd = EVHTTP_REQ_GET; /* answer with the limits or faults as they are now */
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
				  posts ? "GET, HEAD, POST" : "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed", "method not allowed");
		return;
	}
	if (!strcmp(path, "/healthz")) {
		reply_text(req, 200, "OK", "ok");
	} else if (!strcmp(path, "/readyz")) {
		char why[256] = "";

		if (admin_ready(why, sizeof(why)) > 0)
			reply_text(req, 200, "OK", "ready");
		else
			reply_text(req, 503, "Service Unavailable", why[0] ? why : "not ready");
	} else if (!strcmp(path, "/metrics")) {
		b = evbuffer_new();
		if (!b || metrics_render(b, adm.d) < 0) {
			if (b)
				evbuffer_free(b);
			evhttp_send_error(req, 500, "metrics rendering failed");
			return;
		}
		reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", b);
		evbuffer_free(b);
	} else if (!strcmp(path, "/config")) {
		struct og_rt *rt = og_daemon_rt();

		b = evbuffer_new();
		if (!b || !rt) {
			if (b)
				evbuffer_free(b);
			evhttp_send_error(req, 503, "no config loaded");
			return;
		}
		config_dump(rt->cfg, b);
		reply(req, 200, "OK", "application/yaml; charset=utf-8", b);
		evbuffer_free(b);
	} else if (!strcmp(path, "/lanes") || !strcmp(path, "/limits") ||
		   !strcmp(path, "/faults")) {
		b = evbuffer_new();
		if (!b) {
			evhttp_send_error(req, 500, "out of memory");
			return;
		}
		if (path[1] == 'f')
			admin_faults_render(b);
		else if (path[2] == 'a')
			ctrl_render_lanes(b);
		else
			ctrl_render_limits(b);
		reply(req, 200, "OK", "application/json", b);
		evbuffer_free(b);
	} else if (!strcmp(path, "/flows")) {
		const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
		int top = 20, r;

		if (q && !strncmp(q, "top=", 4))
			top = atoi(q + 4);
		if (top < 1 || top > 100000)
			top = 20;
		b = evbuffer_new();
		r = b ? klink_flows_json(b, top) : -ENOMEM;
		if (r) {
			if (b)
				evbuffer_free(b);
			reply_text(req, 503, "Service Unavailable",
				   r == -ENODEV ? "no datapath: the config has no xdp section"
						: strerror(-r));
			return;
		}
		reply(req, 200, "OK", "application/json", b);
		evbuffer_free(b);
	} else {
		reply_text(req, 404, "Not Found",
			   "not found: try /metrics /healthz /readyz /config /lanes /limits "
			   "/faults /flows, "
			   "POST /limits, POST /faults, POST /reload");
	}
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	char c;

	(void)what;
	(void)arg;
	while (read(fd, &c, 1) > 0)
		;
	event_base_loopbreak(adm.base);
}

static void *admin_main(void *arg)
{
	(void)arg;
	event_base_dispatch(adm.base);
	return NULL;
}

static void cleanup(void)
{
	if (adm.http)
		evhttp_free(adm.http); /* closes the bound socket it owns */
	else if (adm.fd >= 0)
		close(adm.fd);
	if (adm.wake)
		event_free(adm.wake);
	if (adm.base)
		event_base_free(adm.base);
	for (int i = 0; i < 2; i++)
		if (adm.pipe[i] >= 0)
			close(adm.pipe[i]);
	adm.http = NULL;
	adm.wake = NULL;
	adm.base = NULL;
	adm.fd = adm.pipe[0] = adm.pipe[1] = -1;
}

struct evhttp *admin_http_new(struct event_base *base, struct og_daemon *d, void (*reload)(void))
{
	struct evhttp *h = evhttp_new(base);

	if (!h)
		return NULL;
	adm.d = d;
	adm.reload = reload;
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
					  EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
					  EVHTTP_REQ_PATCH);
	/* every client-controlled size has a bound: head, body, idle time */
	evhttp_set_timeout(h, 10);
	evhttp_set_max_headers_size(h, 16384);
	evhttp_set_max_body_size(h, 65536);
	evhttp_set_gencb(h, handle, NULL);
	return h;
}

static void reload_signal(void)
{
	kill(getpid(), SIGHUP); /* the main loop owns signals and does the reload */
}

int admin_start(struct og_daemon *d, char *err, size_t errlen)
{
	struct og_rt *rt = atomic_load(&d->rt);
	const struct cfg_addr *a;
	sigset_t all, old;
	int one = 1, rc;

	if (adm.running)
		return 0;
	if (!rt || !rt->cfg->admin_enabled)
		return 0;
	a = &rt->cfg->admin;
	adm.d = d;
	adm.fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (adm.fd < 0)
		goto fail_errno;
	setsockopt(adm.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* a new instance beside a draining one needs the same admin port (takeover) */
	setsockopt(adm.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(adm.fd, (const struct sockaddr *)&a->ss, a->len) < 0 || listen(adm.fd, 64) < 0)
		goto fail_errno;
	if (pipe2(adm.pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		goto fail_errno;
	adm.base = event_base_new();
	adm.http = adm.base ? admin_http_new(adm.base, d, reload_signal) : NULL;
	if (!adm.http) {
		rc = -ENOMEM;
		snprintf(err, errlen, "admin: out of memory");
		goto fail;
	}
	if (!evhttp_accept_socket_with_handle(adm.http, adm.fd)) {
		rc = -ENOMEM;
		snprintf(err, errlen, "admin.listen %s: cannot accept", a->text);
		goto fail;
	}
	adm.wake = event_new(adm.base, adm.pipe[0], EV_READ | EV_PERSIST, on_wake, NULL);
	if (!adm.wake || event_add(adm.wake, NULL) < 0) {
		rc = -ENOMEM;
		snprintf(err, errlen, "admin: out of memory");
		goto fail;
	}
	/* signals belong to the main thread's event loop, never to the admin thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&adm.thread, NULL, admin_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		rc = -rc;
		snprintf(err, errlen, "admin: thread: %s", strerror(-rc));
		goto fail;
	}
	pthread_setname_np(adm.thread, "og-admin");
	adm.running = 1;
	return 0;
fail_errno:
	rc = -errno;
	snprintf(err, errlen, "admin.listen %s: %s", a->text, strerror(errno));
fail:
	cleanup();
	return rc;
}

void admin_stop(void)
{
	if (!adm.running)
		return;
	if (write(adm.pipe[1], "x", 1) < 0)
		event_base_loopbreak(adm.base);
	pthread_join(adm.thread, NULL);
	adm.running = 0;
	cleanup();
}
