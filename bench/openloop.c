// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Open-loop HTTP/1.1 load generator: fixed-rate sends, latency from each scheduled send. */

/*
 * Request i is due at start + i / rate whatever happened to the ones before it. It goes out on an
 * idle keep-alive connection; when none is idle a new one is opened (up to -C), and only when
 * that cap is reached does it wait for a connection to free up (counted as "waited"). Its latency
 * always runs from the scheduled time, so a stalled server cannot slow the clock that measures it
 * (no coordinated omission). Single thread, epoll, HTTP/1.1 without pipelining.
 *
 * Percentiles cover every request that got a complete response (any status) or timed out (at the
 * time it was given up); connect errors, resets and parse errors are counted, not ranked, since
 * they end early and would flatter the tail.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define MAX_HDRS 8
#define BUF_SZ	 16384
#define SCAN_NS	 2000000LL /* timeout scan period */
#define LATE_NS	 1000000LL /* a send this far behind schedule is "late" */

/* Request outcome: an HTTP status (> 0) or one of these. */
enum { R_PENDING = 0, R_CONNECT = -1, R_TIMEOUT = -2, R_RESET = -3, R_PARSE = -4, R_DROPPED = -5 };
static const char *const kind_name[] = {"", "connect", "timeout", "reset", "parse", "dropped"};
#define N_KINDS 6

enum { C_FREE, C_CONNECTING, C_IDLE, C_BUSY };

struct req {
	int64_t sched; /* ns since start */
	int64_t lat;   /* ns from sched to outcome */
	int32_t status;
};

struct conn {
	int fd;
	int state;
	int32_t req;	  /* index in reqs, -1 when none */
	size_t woff;	  /* bytes of the request written */
	size_t len;	  /* bytes in buf */
	size_t body_at;	  /* offset of the body in buf once the head is parsed */
	int64_t body_got; /* body bytes already dropped from buf (long bodies) */
	int body_kept;	  /* the head was parsed, buf holds body bytes only */
	int64_t clen;	  /* Content-Length, -1 = none */
	int status, chunked, close_after;
	char buf[BUF_SZ];
};

static struct {
	struct sockaddr_in addr;
	char *wire; /* the request as sent */
	size_t wire_len;
	double rate;
	int secs, conns0, maxc;
	int64_t timeout_ns;
	long max_wait;
	const char *raw_path, *sec_path, *label;
} opt = {.rate = 100,
	 .secs = 10,
	 .conns0 = 8,
	 .maxc = 256,
	 .timeout_ns = 5000000000LL,
	 .max_wait = 100000,
	 .label = "openloop"};

static struct conn *conns;
static int *idle, n_idle; /* stack of idle connection slots */
static int *free_slots, n_free;
static int n_open, open_max, n_opened;
static struct req *reqs;
static long n_reqs;
static int32_t *waitq; /* ring of requests waiting for a connection */
static long wq_head, wq_len, n_waited, n_late;
static int epfd;
static int64_t t0; /* monotonic ns at start */
static volatile sig_atomic_t stop;

static int64_t mono_ns(void)
{
	return clock_mono_ns() - t0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *msg)
{
	fprintf(stderr, "openloop: %s\n", msg);
	exit(2);
}

static void finish(int32_t r, int status, int64_t now)
{
	if (r < 0 || reqs[r].status != R_PENDING)
		return;
	reqs[r].status = status;
	reqs[r].lat = now - reqs[r].sched;
}

static void conn_close(struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = C_FREE;
	c->req = -1;
	free_slots[n_free++] = (int)(c - conns);
	n_open--;
}

/* conn_fail: the connection is unusable; its request (if any) ends with KIND. */
static void conn_fail(struct conn *c, int kind, int64_t now)
{
	finish(c->req, kind, now);
	conn_close(c);
}

static int conn_open(void)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP};
	int fd, one = 1, slot;
	struct conn *c;

	if (!n_free)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&opt.addr, sizeof(opt.addr)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	slot = free_slots[--n_free];
	c = &conns[slot];
	memset(c, 0, offsetof(struct conn, buf));
	c->fd = fd;
	c->state = C_CONNECTING;
	c->req = -1;
	ev.data.u32 = (uint32_t)slot;
	epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	n_open++;
	n_opened++;
	if (n_open > open_max)
		open_max = n_open;
	return slot;
}

static void set_out(struct conn *c, int want)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0)};

	ev.data.u32 = (uint32_t)(c - conns);
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_write(struct conn *c, int64_t now)
{
	while (c->woff < opt.wire_len) {
		ssize_t n = write(c->fd, opt.wire + c->woff, opt.wire_len - c->woff);
		if (n < 0 && errno == EAGAIN) {
			set_out(c, 1);
			return;
		}
		if (n <= 0) {
			conn_fail(c, R_RESET, now);
			return;
		}
		c->woff += (size_t)n;
	}
	set_out(c, 0);
}

/* conn_send: request R goes out on connection C (connected or still connecting). */
static void conn_send(struct conn *c, int32_t r, int64_t now)
{
	c->req = r;
	c->woff = c->len = c->body_at = 0;
	c->body_got = c->body_kept = 0;
	c->clen = -1;
	c->status = c->chunked = c->close_after = 0;
	if (now - reqs[r].sched > LATE_NS)
		n_late++;
	if (c->state == C_CONNECTING)
		return; /* written when the connect completes */
	c->state = C_BUSY;
	conn_write(c, now);
}

/* dispatch: send request R now if a connection can take it; 0 when sent, -1 when none can. */
static int dispatch(int32_t r, int64_t now)
{
	int slot;

	if (n_idle) {
		conn_send(&conns[idle[--n_idle]], r, now);
		return 0;
	}
	if (n_open >= opt.maxc || (slot = conn_open()) < 0)
		return -1;
	conn_send(&conns[slot], r, now);
	return 0;
}

static void conn_idle(struct conn *c)
{
	c->state = C_IDLE;
	c->req = -1;
	idle[n_idle++] = (int)(c - conns);
}

/* idle_remove: take slot S off the idle stack (the server closed an idle connection). */
static void idle_remove(int s)
{
	for (int i = 0; i < n_idle; i++)
		if (idle[i] == s) {
			idle[i] = idle[--n_idle];
			return;
		}
}

static int hdr_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n && line[n] == ':' && !strncasecmp(line, name, n);
}

static const char *hdr_val(const char *line, size_t len, const char *name, size_t *vlen)
{
	const char *v = line + strlen(name) + 1, *e = line + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*vlen = (size_t)(e - v);
	return v;
}

/* parse_head: 1 when the head is complete and parsed, 0 when more is needed, -1 when malformed. */
static int parse_head(struct conn *c)
{
	char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *p, *eol;
	size_t vlen;
	const char *v;

	if (!end)
		return c->len >= BUF_SZ ? -1 : 0;
	if (c->len < 12 || memcmp(c->buf, "HTTP/1.", 7) || c->buf[8] != ' ')
		return -1;
	c->status = atoi(c->buf + 9);
	if (c->status < 100 || c->status > 599)
		return -1;
	c->close_after = c->buf[7] == '0';
	for (p = memchr(c->buf, '\n', c->len) + 1; p < end; p = eol + 2) {
		eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
		size_t len = (size_t)(eol - p);
		if (hdr_is(p, len, "content-length")) {
			v = hdr_val(p, len, "content-length", &vlen);
			c->clen = strtoll(v, NULL, 10);
		} else if (hdr_is(p, len, "transfer-encoding")) {
			v = hdr_val(p, len, "transfer-encoding", &vlen);
			c->chunked = vlen >= 7 && !strncasecmp(v + vlen - 7, "chunked", 7);
		} else if (hdr_is(p, len, "connection")) {
			v = hdr_val(p, len, "connection", &vlen);
			if (vlen == 5 && !strncasecmp(v, "close", 5))
				c->close_after = 1;
			else if (vlen == 10 && !strncasecmp(v, "keep-alive", 10))
				c->close_after = 0;
		}
	}
	c->body_at = (size_t)(end + 4 - c->buf);
	if (c->status < 200 || c->status == 204 || c->status == 304)
		c->clen = 0;
	return 1;
}

/*
 * body_done: the whole response is in. Chunked bodies end with a zero-size chunk; the last
 * chunk is found by its "0\r\n\r\n" tail, enough for the small bodies benchmarks send (trailers
 * are not expected). A response with neither length ends at close.
 */
static int body_done(struct conn *c)
{
	int64_t have = c->body_got + (int64_t)(c->len - c->body_at);

	if (c->chunked)
		return have >= 5 && !memcmp(c->buf + c->len - 5, "0\r\n\r\n", 5);
	if (c->clen >= 0)
		return have >= c->clen;
	return 0;
}

static void complete(struct conn *c, int64_t now)
{
	finish(c->req, c->status, now);
	if (c->close_after)
		conn_close(c);
	else
		conn_idle(c);
}

static void on_readable(struct conn *c, int64_t now)
{
	for (;;) {
		ssize_t n;

		if (c->len == BUF_SZ) {
			/* Past the head only the body's length and its last bytes matter. */
			if (!c->body_at) {
				conn_fail(c, R_PARSE, now);
				return;
			}
			size_t keep = 8, drop = c->len - keep;
			c->body_got += (int64_t)(drop - c->body_at);
			memmove(c->buf, c->buf + drop, keep);
			c->len = keep;
			c->body_at = 0;
			c->body_kept = 1;
		}
		n = read(c->fd, c->buf + c->len, BUF_SZ - c->len);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (c->state == C_BUSY && (c->body_at || c->body_kept) && !c->chunked &&
			    c->clen < 0)
				complete(c, now); /* body delimited by the close */
			else if (c->state == C_BUSY)
				conn_fail(c, R_RESET, now);
			else {
				if (c->state == C_IDLE)
					idle_remove((int)(c - conns));
				conn_fail(c, R_RESET, now);
			}
			return;
		}
		if (c->state != C_BUSY)
			continue; /* bytes nobody asked for: ignore */
		c->len += (size_t)n;
		if (!c->body_at && !c->body_kept) {
			int r = parse_head(c);
			if (r < 0) {
				conn_fail(c, R_PARSE, now);
				return;
			}
			if (!r)
				continue;
		}
		if (body_done(c)) {
			complete(c, now);
			return;
		}
	}
}

static void on_event(struct epoll_event *ev, int64_t now)
{
	struct conn *c = &conns[ev->data.u32];

	if (c->fd < 0)
		return;
	if (c->state == C_CONNECTING && (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err || (ev->events & (EPOLLERR | EPOLLHUP))) {
			conn_fail(c, R_CONNECT, now);
			return;
		}
		if (c->req >= 0) {
			c->state = C_BUSY;
			conn_write(c, now);
		} else {
			set_out(c, 0);
			conn_idle(c);
		}
		if (c->fd < 0)
			return;
	} else if (c->state == C_BUSY && (ev->events & EPOLLOUT) && c->woff < opt.wire_len) {
		conn_write(c, now);
		if (c->fd < 0)
			return;
	}
	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
		on_readable(c, now);
}

static void scan_timeouts(int64_t now)
{
	for (int i = 0; i < opt.maxc; i++) {
		struct conn *c = &conns[i];
		if (c->fd >= 0 && c->req >= 0 && now - reqs[c->req].sched >= opt.timeout_ns)
			conn_fail(c, R_TIMEOUT, now);
	}
	/* A request still waiting for a connection times out the same way. */
	while (wq_len && now - reqs[waitq[wq_head]].sched >= opt.timeout_ns) {
		finish(waitq[wq_head], R_TIMEOUT, now);
		wq_head = (wq_head + 1) % opt.max_wait;
		wq_len--;
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* pct: nearest-rank percentile P (0..1] of N sorted values, in µs. */
static double pct(const int64_t *v, long n, double p)
{
	long i;

	if (!n)
		return 0;
	i = (long)((double)n * p + 0.999999) - 1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return (double)v[i] / 1000.0;
}

static int ranked(const struct req *r)
{
	return r->status > 0 || r->status == R_TIMEOUT;
}

static void write_seconds(void)
{
	FILE *f = fopen(opt.sec_path, "w");
	int64_t *v = malloc(sizeof(*v) * (size_t)(opt.rate + 2) * 2);
	long i = 0;

	if (!f || !v)
		die("cannot write the per-second file");
	fprintf(f, "# second count p50_us p99_us max_us errors\n");
	for (int s = 0; s < opt.secs; s++) {
		long n = 0, err = 0;
		for (; i < n_reqs && reqs[i].sched < (int64_t)(s + 1) * 1000000000LL; i++) {
			if (ranked(&reqs[i]))
				v[n++] = reqs[i].lat;
			if (reqs[i].status <= 0 || reqs[i].status >= 400)
				err++;
		}
		qsort(v, (size_t)n, sizeof(*v), cmp_i64);
		fprintf(f, "%d %ld %.0f %.0f %.0f %ld\n", s, n, pct(v, n, .5), pct(v, n, .99),
			n ? (double)v[n - 1] / 1000.0 : 0.0, err);
	}
	free(v);
	fclose(f);
}

static void report(void)
{
	int64_t *v = malloc(sizeof(*v) * (size_t)(n_reqs + 1));
	long n = 0, kinds[N_KINDS] = {0}, codes[600] = {0}, ok = 0, unsent = 0;
	FILE *raw = opt.raw_path ? fopen(opt.raw_path, "w") : NULL;

	if (!v || (opt.raw_path && !raw))
		die("cannot write the results");
	for (long i = 0; i < n_reqs; i++) {
		struct req *r = &reqs[i];
		if (r->status == R_PENDING) {
			unsent++; /* never finished before the hard stop */
			continue;
		}
		if (ranked(r))
			v[n++] = r->lat;
		if (r->status > 0) {
			codes[r->status]++;
			ok += r->status < 400;
		} else {
			kinds[-r->status]++;
		}
		if (raw)
			fprintf(raw, "%.0f %.0f %d\n", (double)r->sched / 1000.0,
				(double)r->lat / 1000.0, r->status);
	}
	if (raw)
		fclose(raw);
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	printf(
	    "%s: scheduled=%ld ranked=%ld ok=%ld p50_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f"
	    " conns_opened=%d conns_max=%d waited=%ld late=%ld unfinished=%ld",
	    opt.label, n_reqs, n, ok, pct(v, n, .5), pct(v, n, .99), pct(v, n, .999),
	    n ? (double)v[n - 1] / 1000.0 : 0.0, n_opened, open_max, n_waited, n_late, unsent);
	for (int k = 1; k < N_KINDS; k++)
		printf(" %s=%ld", kind_name[k], kinds[k]);
	for (int s = 100; s < 600; s++)
		if (codes[s])
			printf(" status_%d=%ld", s, codes[s]);
	printf("\n");
	fflush(stdout);
	free(v);
	if (opt.sec_path)
		write_seconds();
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: openloop -a HOST:PORT [-r RPS] [-d SECS] [-m METHOD] [-p PATH] [-H 'Name: "
	    "value']...\n"
	    "                [-b BODY] [-c CONNS] [-C MAX_CONNS] [-t TIMEOUT_MS] [-w MAX_WAITING]\n"
	    "                [-o RAW_FILE] [-s PER_SECOND_FILE] [-l LABEL]\n"
	    "  Sends RPS requests per second for SECS seconds, each timed from its scheduled "
	    "send.\n"
	    "  -c connections opened up front (8); -C at most this many open (256); -t a request\n"
	    "  not answered this long after its scheduled time is a timeout (5000); -w requests "
	    "that\n"
	    "  may wait for a connection when all -C are busy (100000; beyond, dropped). -o "
	    "writes\n"
	    "  'sched_us latency_us status' per request (status < 0: -1 connect, -2 timeout,\n"
	    "  -3 reset, -4 parse, -5 dropped); -s writes per-second count/p50/p99/max/errors.\n");
	exit(2);
}

static void build_wire(const char *method, const char *path, const char *host, char **hdrs,
		       int n_hdrs, const char *body)
{
	size_t cap = 512 + strlen(path) + (body ? strlen(body) : 0);
	int n;

	for (int i = 0; i < n_hdrs; i++)
		cap += strlen(hdrs[i]) + 2;
	opt.wire = malloc(cap);
	if (!opt.wire)
		die("out of memory");
	n = snprintf(opt.wire, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host);
	for (int i = 0; i < n_hdrs; i++)
		n += snprintf(opt.wire + n, cap - (size_t)n, "%s\r\n", hdrs[i]);
	if (body)
		n += snprintf(opt.wire + n, cap - (size_t)n, "Content-Length: %zu\r\n\r\n%s",
			      strlen(body), body);
	else
		n += snprintf(opt.wire + n, cap - (size_t)n, "\r\n");
	opt.wire_len = (size_t)n;
}

static long num(const char *s, long lo, long hi, const char *what)
{
	char *e;
	long v = strtol(s, &e, 10);

	if (*s == '\0' || *e != '\0' || v < lo || v > hi) {
		fprintf(stderr, "openloop: %s must be a whole number from %ld to %ld, got '%s'\n",
			what, lo, hi, s);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	const char *method = "GET", *path = "/", *body = NULL, *addr = NULL;
	char *hdrs[MAX_HDRS], host[64], *colon;
	int n_hdrs = 0, o;

	while ((o = getopt(argc, argv, "a:r:d:m:p:H:b:c:C:t:w:o:s:l:")) != -1) {
		switch (o) {
		case 'a':
			addr = optarg;
			break;
		case 'r':
			opt.rate = (double)num(optarg, 1, 100000, "-r");
			break;
		case 'd':
			opt.secs = (int)num(optarg, 1, 3600, "-d");
			break;
		case 'm':
			method = optarg;
			break;
		case 'p':
			path = optarg;
			break;
		case 'H':
			if (n_hdrs == MAX_HDRS)
				die("too many -H");
			hdrs[n_hdrs++] = optarg;
			break;
		case 'b':
			body = optarg;
			break;
		case 'c':
			opt.conns0 = (int)num(optarg, 0, 60000, "-c");
			break;
		case 'C':
			opt.maxc = (int)num(optarg, 1, 60000, "-C");
			break;
		case 't':
			opt.timeout_ns = num(optarg, 1, 600000, "-t") * 1000000LL;
			break;
		case 'w':
			opt.max_wait = num(optarg, 1, 10000000, "-w");
			break;
		case 'o':
			opt.raw_path = optarg;
			break;
		case 's':
			opt.sec_path = optarg;
			break;
		case 'l':
			opt.label = optarg;
			break;
		default:
			usage();
		}
	}
	if (!addr || optind != argc)
		usage();
	if (opt.conns0 > opt.maxc)
		opt.conns0 = opt.maxc;
	snprintf(host, sizeof(host), "%s", addr);
	colon = strrchr(host, ':');
	if (!colon)
		die("-a wants HOST:PORT");
	*colon = '\0';
	opt.addr.sin_family = AF_INET;
	opt.addr.sin_port = htons((uint16_t)num(colon + 1, 1, 65535, "port"));
	if (inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1",
		      &opt.addr.sin_addr) != 1)
		die("-a wants a numeric IPv4 address");
	*colon = ':';
	build_wire(method, path, host, hdrs, n_hdrs, body);
}

static void setup(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	n_reqs = (long)(opt.rate * opt.secs);
	reqs = calloc((size_t)n_reqs, sizeof(*reqs));
	conns = calloc((size_t)opt.maxc, sizeof(*conns));
	idle = calloc((size_t)opt.maxc, sizeof(*idle));
	free_slots = calloc((size_t)opt.maxc, sizeof(*free_slots));
	waitq = calloc((size_t)opt.max_wait, sizeof(*waitq));
	if (!reqs || !conns || !idle || !free_slots || !waitq)
		die("out of memory");
	for (int i = opt.maxc - 1; i >= 0; i--) {
		conns[i].fd = -1;
		conns[i].req = -1;
		free_slots[n_free++] = i;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1 failed");
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* warm: open the first -c connections and wait (up to 2 s) until they are connected. */
static void warm(void)
{
	struct epoll_event evs[256];
	int64_t end;

	for (int i = 0; i < opt.conns0; i++)
		if (conn_open() < 0)
			die("cannot open the initial connections");
	end = mono_ns() + 2000000000LL;
	while (n_idle < opt.conns0 && mono_ns() < end && !stop) {
		int n = epoll_wait(epfd, evs, 256, 10);
		for (int i = 0; i < n; i++)
			on_event(&evs[i], mono_ns());
	}
	if (n_idle < opt.conns0)
		fprintf(stderr, "openloop: only %d of %d initial connections connected\n", n_idle,
			opt.conns0);
	n_opened = 0; /* count what the run itself had to open */
}

static void run(void)
{
	struct epoll_event evs[256];
	double interval = 1e9 / opt.rate;
	int64_t start = mono_ns(), next_scan = 0, now, hard_end;
	long next = 0;

	hard_end = start + (int64_t)opt.secs * 1000000000LL + opt.timeout_ns + 1000000000LL;
	/* Tells a script that the clock of the schedule started (e.g. to start a second load). */
	fprintf(stderr, "%s: started\n", opt.label);
	for (;;) {
		int64_t due, wait_ns;
		int n;

		now = mono_ns();
		while (next < n_reqs && (due = start + (int64_t)(next * interval)) <= now) {
			reqs[next].sched = due;
			if (wq_len || dispatch((int32_t)next, now) < 0) {
				if (wq_len == opt.max_wait) {
					finish((int32_t)next, R_DROPPED, now);
				} else {
					waitq[(wq_head + wq_len) % opt.max_wait] = (int32_t)next;
					wq_len++;
					n_waited++;
				}
			}
			next++;
		}
		while (wq_len && dispatch(waitq[wq_head], now) == 0) {
			wq_head = (wq_head + 1) % opt.max_wait;
			wq_len--;
		}
		if (now >= next_scan) {
			scan_timeouts(now);
			next_scan = now + SCAN_NS;
		}
		if (stop || now >= hard_end)
			break;
		if (next == n_reqs && !wq_len && n_idle == n_open)
			break; /* everything scheduled has an outcome */
		wait_ns = next_scan - now;
		if (next < n_reqs && start + (int64_t)(next * interval) - now < wait_ns)
			wait_ns = start + (int64_t)(next * interval) - now;
		n = epoll_wait_ns(epfd, evs, 256, wait_ns);
		now = mono_ns();
		for (int i = 0; i < n; i++)
			on_event(&evs[i], now);
	}
	/* Re-base scheduled times on the first send, so the files start at 0. */
	for (long i = 0; i < n_reqs; i++)
		reqs[i].sched -= start;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	t0 = 0;
	t0 = mono_ns();
	setup();
	warm();
	run();
	report();
	return 0;
}
