// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Order client for the chaos and soak suites: POSTs orders with unique ids, records every outcome.
 *
 * ogorders -a ADDR:PORT [-c CONNS] [-n MAX] [-d SECS] [-r RATE] [-o OUTCOMES] [-T TIMELINE]
 *          [-i INTERVAL_MS] [-p PREFIX] [-u PATH] [-t TIMEOUT_MS] [-m METHOD]
 *
 * Closed loop (no -r): each of CONNS keep-alive connections sends its next order as soon as the
 * last one is answered. Open loop (-r RATE): orders are scheduled at RATE per second whatever
 * the answers do, and latency counts from the scheduled time (a late send is the server's
 * fault, so coordinated omission does not hide it). An order is never retried: a connect
 * failure, a reset, an EOF or a timeout is that order's outcome, as a real order client that
 * must not double an order would see it. OUTCOMES gets one line per order:
 *   ID CODE SEND_US DONE_US      (CODE = HTTP status, STATUS:REASON when the gateway said why
 *                                 in x-ordergate-reason, or connect|reset|closed|timeout|bad;
 *                                 times are CLOCK_REALTIME microseconds)
 * TIMELINE gets one line per interval: t_s sent ok2xx non2xx errors p50_us p99_us max_us.
 * stdout gets one summary line starting with RESULT. SIGTERM or SIGINT ends the load early the
 * same way -d does. Bounded by -n and -d: after -d, orders
 * already due still go out and each gets its timeout, but at -d + 2 timeouts + 1 s the client
 * stops: what is in flight then is "aborted" and what never went out "unsent" (an open-loop
 * client that far behind means the offered rate was above what the server got done).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { S_FREE, S_CONNECTING, S_SENDING, S_READING };

struct slot {
	int fd;	   /* -1: no connection */
	int state; /* with a request unless S_FREE */
	int keep;  /* connection may be reused after this response */
	long id;
	uint64_t sched_ns; /* when the order was due (open loop) or sent (closed loop) */
	uint64_t deadline_ns;
	uint64_t retry_ns; /* closed loop: do not start before this after an error */
	char req[512];
	int reqlen, reqoff;
	char rbuf[16384];
	char why[40]; /* the gateway's x-ordergate-reason, if any */
	int rlen;
};

static struct {
	struct sockaddr_storage sa;
	socklen_t salen;
	int conns, interval_ms, timeout_ms;
	long max;
	double secs, rate;
	const char *prefix, *path, *method;
	FILE *out, *tl;
	uint64_t t0_mono, t0_real_us;
} o = {.conns = 8,
       .interval_ms = 500,
       .timeout_ms = 3000,
       .secs = 10,
       .prefix = "o",
       .path = "/api/v1/orders",
       .method = "POST"};

static struct {
	long sent, ok, non2xx, err;
	uint32_t *lat;
	size_t nlat, caplat;
} all, iv;

/* SIGTERM/SIGINT: stop issuing, let what is in flight finish, report (a caller that does not
 * know in advance how long its fault takes ends the load this way) */
static volatile sig_atomic_t stop_req;

static void on_stop(int sig)
{
	(void)sig;
	stop_req = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t real_us(uint64_t mono)
{
	return o.t0_real_us + (mono - o.t0_mono) / 1000;
}

static void lat_add(uint32_t us)
{
	for (int k = 0; k < 2; k++) {
		typeof(all) *s = k ? &iv : &all;

		if (s->nlat == s->caplat) {
			s->caplat = s->caplat ? s->caplat * 2 : 4096;
			s->lat = realloc(s->lat, s->caplat * sizeof(*s->lat));
			if (!s->lat) {
				perror("realloc");
				exit(2);
			}
		}
		s->lat[s->nlat++] = us;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t pct(uint32_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (double)n);
	return v[i >= n ? n - 1 : i];
}

static void timeline_flush(uint64_t now)
{
	if (o.tl) {
		qsort(iv.lat, iv.nlat, sizeof(*iv.lat), cmp_u32);
		fprintf(o.tl, "%.3f %ld %ld %ld %ld %u %u %u\n", (double)(now - o.t0_mono) / 1e9,
			iv.sent, iv.ok, iv.non2xx, iv.err, pct(iv.lat, iv.nlat, 0.5),
			pct(iv.lat, iv.nlat, 0.99), iv.nlat ? iv.lat[iv.nlat - 1] : 0);
		fflush(o.tl);
	}
	iv.sent = iv.ok = iv.non2xx = iv.err = 0;
	iv.nlat = 0;
}

static void slot_close(int ep, struct slot *s)
{
	if (s->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	s->fd = -1;
	s->rlen = 0;
}

/* Record the outcome of the slot's order; code > 0 is an HTTP status, else <what>. */
static void finish(int ep, struct slot *s, int code, const char *what, uint64_t now)
{
	uint32_t us = (uint32_t)((now - s->sched_ns) / 1000);

	if (o.out) {
		if (code > 0 && s->why[0])
			fprintf(o.out, "%s-%ld %d:%s %llu %llu\n", o.prefix, s->id, code, s->why,
				(unsigned long long)real_us(s->sched_ns),
				(unsigned long long)real_us(now));
		else if (code > 0)
			fprintf(o.out, "%s-%ld %d %llu %llu\n", o.prefix, s->id, code,
				(unsigned long long)real_us(s->sched_ns),
				(unsigned long long)real_us(now));
		else
			fprintf(o.out, "%s-%ld %s %llu %llu\n", o.prefix, s->id, what,
				(unsigned long long)real_us(s->sched_ns),
				(unsigned long long)real_us(now));
	}
	if (code >= 200 && code < 300) {
		all.ok++;
		iv.ok++;
		lat_add(us);
	} else if (code > 0) {
		all.non2xx++;
		iv.non2xx++;
		lat_add(us);
	} else {
		all.err++;
		iv.err++;
	}
	if (code <= 0 || !s->keep) {
		slot_close(ep, s);
		/* an error costs a pause, so a dead gateway is not hammered in a tight loop */
		if (code <= 0)
			s->retry_ns = now + 20000000ull;
	}
	s->state = S_FREE;
}

static int slot_connect(int ep, struct slot *s)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
	int one = 1;

	s->fd = socket(o.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s->fd, (struct sockaddr *)&o.sa, o.salen) < 0 && errno != EINPROGRESS) {
		int e = errno;

		close(s->fd);
		s->fd = -1;
		return -e;
	}
	s->state = S_CONNECTING;
	epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
	return 0;
}

static void slot_want(int ep, struct slot *s, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = s};

	epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
}

/* Write what is left of the request; 0 when done or blocked, <0 on error. */
static int slot_write(int ep, struct slot *s)
{
	while (s->reqoff < s->reqlen) {
		ssize_t n =
		    send(s->fd, s->req + s->reqoff, (size_t)(s->reqlen - s->reqoff), MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		s->reqoff += (int)n;
	}
	s->state = S_READING;
	slot_want(ep, s, EPOLLIN);
	return 0;
}

/* Start order <id> on slot <s>, due at <sched>. */
static void slot_start(int ep, struct slot *s, long id, uint64_t sched, uint64_t now)
{
	int blen;
	char body[160];

	s->id = id;
	s->sched_ns = sched;
	s->deadline_ns = now + (uint64_t)o.timeout_ms * 1000000ull;
	s->keep = 1;
	blen = snprintf(body, sizeof(body), "{\"id\":\"%s-%ld\",\"side\":\"buy\",\"qty\":1}",
			o.prefix, id);
	s->reqlen = snprintf(s->req, sizeof(s->req),
			     "%s %s HTTP/1.1\r\nHost: ordergate\r\nX-Order-Id: %s-%ld\r\n"
			     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			     o.method, o.path, o.prefix, id, blen, body);
	s->reqoff = 0;
	s->rlen = 0;
	s->why[0] = 0;
	all.sent++;
	iv.sent++;
	if (s->fd < 0) {
		if (slot_connect(ep, s) < 0)
			finish(ep, s, 0, "connect", now);
		return;
	}
	s->state = S_SENDING;
	slot_want(ep, s, EPOLLOUT);
	if (slot_write(ep, s) < 0)
		finish(ep, s, 0, "reset", now);
}

/* A whole response in rbuf? Returns its status, 0 when more is needed, -1 when malformed. */
static int parse_resp(struct slot *s, int eof)
{
	char *end, *p, *line;
	int status, clen = -1, chunked = 0, head, need;

	s->rbuf[s->rlen] = 0;
	end = memmem(s->rbuf, (size_t)s->rlen, "\r\n\r\n", 4);
	if (!end)
		return s->rlen >= (int)sizeof(s->rbuf) - 1 ? -1 : 0;
	head = (int)(end - s->rbuf) + 4;
	if (sscanf(s->rbuf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	for (line = strstr(s->rbuf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
		p = line + 2;
		if (!strncasecmp(p, "content-length:", 15))
			clen = atoi(p + 15);
		else if (!strncasecmp(p, "transfer-encoding:", 18) && strcasestr(p, "chunked") &&
			 strcasestr(p, "chunked") < strstr(p, "\r\n"))
			chunked = 1;
		else if (!strncasecmp(p, "x-ordergate-reason:", 19))
			sscanf(p + 19, " %39[A-Za-z0-9_.-]", s->why);
		else if (!strncasecmp(p, "connection:", 11) && strcasestr(p, "close") &&
			 strcasestr(p, "close") < strstr(p, "\r\n"))
			s->keep = 0;
	}
	if (chunked) {
		/* our origins never chunk; the terminal chunk is enough for anything else */
		if (!memmem(s->rbuf + head - 2, (size_t)(s->rlen - head + 2), "\r\n0\r\n\r\n", 7))
			return s->rlen >= (int)sizeof(s->rbuf) - 1 ? -1 : 0;
		s->keep = 0;
		return status;
	}
	if (clen < 0) {
		s->keep = 0;
		return eof ? status : 0;
	}
	need = head + clen;
	if (need >= (int)sizeof(s->rbuf))
		return -1;
	if (s->rlen < need)
		return 0;
	if (s->rlen > need)
		s->keep = 0; /* bytes nobody asked for: do not trust this connection */
	return status;
}

static void slot_event(int ep, struct slot *s, uint32_t evs, uint64_t now)
{
	if (s->state == S_CONNECTING) {
		int err = 0;
		socklen_t l = sizeof(err);

		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err || (evs & (EPOLLERR | EPOLLHUP))) {
			finish(ep, s, 0, "connect", now);
			return;
		}
		s->state = S_SENDING;
	}
	if (s->state == S_SENDING) {
		if (slot_write(ep, s) < 0)
			finish(ep, s, 0, "reset", now);
		return;
	}
	if (s->state == S_READING) {
		ssize_t n =
		    recv(s->fd, s->rbuf + s->rlen, sizeof(s->rbuf) - 1 - (size_t)s->rlen, 0);
		int st;

		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			finish(ep, s, 0, "reset", now);
			return;
		}
		s->rlen += (int)n;
		st = parse_resp(s, n == 0);
		if (st > 0)
			finish(ep, s, st, NULL, now);
		else if (st < 0)
			finish(ep, s, 0, "bad", now);
		else if (n == 0)
			finish(ep, s, 0, "closed", now);
	}
}

static int parse_addr(const char *a)
{
	char host[128];
	const char *c = strrchr(a, ':');
	struct sockaddr_in *s4 = (struct sockaddr_in *)&o.sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&o.sa;
	size_t hl;

	if (!c || (hl = (size_t)(c - a)) >= sizeof(host))
		return -1;
	memcpy(host, a, hl);
	host[hl] = 0;
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(c + 1));
		o.salen = sizeof(*s6);
		return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)atoi(c + 1));
	o.salen = sizeof(*s4);
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: ogorders -a ADDR:PORT [-c CONNS] [-n MAX] [-d SECS] [-r RATE] "
			"[-o OUTCOMES] [-T TIMELINE] [-i INTERVAL_MS] [-p PREFIX] [-u PATH] "
			"[-t TIMEOUT_MS] [-m METHOD]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct slot *slots;
	struct epoll_event evs[256];
	struct timespec rt;
	uint64_t now, end_ns, hard_end, next_iv, next_sched, period = 0;
	long next_id = 1, pending = 0, aborted = 0;
	int ep, opt, i, busy;

	while ((opt = getopt(argc, argv, "a:c:n:d:r:o:T:i:p:u:t:m:")) != -1) {
		switch (opt) {
		case 'a':
			if (parse_addr(optarg) < 0) {
				fprintf(stderr, "ogorders: bad address %s\n", optarg);
				return 2;
			}
			break;
		case 'c':
			o.conns = atoi(optarg);
			break;
		case 'n':
			o.max = atol(optarg);
			break;
		case 'd':
			o.secs = atof(optarg);
			break;
		case 'r':
			o.rate = atof(optarg);
			break;
		case 'o':
			o.out = fopen(optarg, "w");
			if (!o.out) {
				perror(optarg);
				return 2;
			}
			break;
		case 'T':
			o.tl = fopen(optarg, "w");
			if (!o.tl) {
				perror(optarg);
				return 2;
			}
			break;
		case 'i':
			o.interval_ms = atoi(optarg);
			break;
		case 'p':
			o.prefix = optarg;
			break;
		case 'u':
			o.path = optarg;
			break;
		case 't':
			o.timeout_ms = atoi(optarg);
			break;
		case 'm':
			o.method = optarg;
			break;
		default:
			usage();
		}
	}
	if (!o.salen || o.conns < 1 || o.conns > 4096 || o.secs <= 0 || o.interval_ms < 10 ||
	    o.timeout_ms < 1)
		usage();
	slots = calloc((size_t)o.conns, sizeof(*slots));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!slots || ep < 0)
		return 2;
	for (i = 0; i < o.conns; i++)
		slots[i].fd = -1;
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_REALTIME, &rt);
	o.t0_real_us = (uint64_t)rt.tv_sec * 1000000ull + (uint64_t)rt.tv_nsec / 1000;
	now = o.t0_mono = mono_ns();
	end_ns = now + (uint64_t)(o.secs * 1e9);
	/* after -d: pending orders still go out, and each has its own timeout to finish */
	hard_end = end_ns + 2 * (uint64_t)o.timeout_ms * 1000000ull + 1000000000ull;
	next_iv = now + (uint64_t)o.interval_ms * 1000000ull;
	next_sched = now;
	if (o.rate > 0)
		period = (uint64_t)(1e9 / o.rate);

	for (;;) {
		int n, wait_ms = 5, issuing;

		now = mono_ns();
		if (stop_req && end_ns > now) {
			end_ns = now;
			hard_end = end_ns + 2 * (uint64_t)o.timeout_ms * 1000000ull + 1000000000ull;
		}
		issuing = now < end_ns && (!o.max || next_id <= o.max);
		/* open loop: orders fall due whatever the server does; they wait for a free slot */
		if (period)
			while (issuing && next_sched <= now &&
			       (!o.max || next_id + pending <= o.max)) {
				pending++;
				next_sched += period;
			}
		busy = 0;
		for (i = 0; i < o.conns; i++) {
			struct slot *s = &slots[i];

			if (s->state != S_FREE && now >= s->deadline_ns)
				finish(ep, s, 0, s->state == S_CONNECTING ? "connect" : "timeout",
				       now);
			if (s->state == S_FREE && period && pending) {
				/* due time of the oldest pending order */
				slot_start(ep, s, next_id++,
					   next_sched - (uint64_t)pending * period, now);
				pending--;
			} else if (s->state == S_FREE && !period && issuing && now >= s->retry_ns &&
				   (!o.max || next_id <= o.max)) {
				slot_start(ep, s, next_id++, now, now);
			}
			busy += s->state != S_FREE;
		}
		if (now >= next_iv) {
			timeline_flush(now);
			next_iv += (uint64_t)o.interval_ms * 1000000ull;
		}
		if ((!issuing && !busy && !pending) || now >= hard_end)
			break;
		if (period && issuing && next_sched > now)
			wait_ms = (int)((next_sched - now) / 1000000);
		if (wait_ms > 5)
			wait_ms = 5;
		n = epoll_wait(ep, evs, 256, wait_ms);
		now = mono_ns();
		for (i = 0; i < n; i++)
			slot_event(ep, evs[i].data.ptr, evs[i].events, now);
	}
	timeline_flush(now);
	for (i = 0; i < o.conns; i++) {
		/* still within its timeout at the hard end: the client gave up, not the server */
		if (slots[i].state != S_FREE) {
			finish(ep, &slots[i], 0, "aborted", now);
			all.err--;
			aborted++;
		}
		slot_close(ep, &slots[i]);
	}
	qsort(all.lat, all.nlat, sizeof(*all.lat), cmp_u32);
	printf("RESULT sent=%ld ok=%ld non2xx=%ld errors=%ld aborted=%ld unsent=%ld p50_us=%u "
	       "p99_us=%u p999_us=%u max_us=%u secs=%.2f rate=%.0f\n",
	       all.sent, all.ok, all.non2xx, all.err, aborted, pending, pct(all.lat, all.nlat, 0.5),
	       pct(all.lat, all.nlat, 0.99), pct(all.lat, all.nlat, 0.999),
	       all.nlat ? all.lat[all.nlat - 1] : 0, (double)(now - o.t0_mono) / 1e9,
	       (double)all.sent / ((double)(now - o.t0_mono) / 1e9));
	if (o.out)
		fclose(o.out);
	if (o.tl)
		fclose(o.tl);
	return 0;
}
