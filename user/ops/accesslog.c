// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON access log: per-worker SPSC rings filled on the hot path, drained by a logger thread. */
#include "ops/accesslog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/daemon.h"

struct alog_worker {
	_Alignas(64) _Atomic uint64_t head; /* bytes ever appended (producer: the worker) */
	_Alignas(64) _Atomic uint64_t tail; /* bytes ever written out (consumer: logger) */
	_Atomic uint64_t dropped;	    /* lines dropped for lack of room */
	_Atomic uint64_t lines;		    /* lines appended */
	int64_t ts_sec;			    /* second cached in ts_text (worker only) */
	char ts_text[24];		    /* "2026-11-23T09:00:00" */
	char *ring;			    /* ALOG_RING bytes */
};

static struct {
	pthread_mutex_t lock; /* fd/path changes vs the logger's writes (never the hot path) */
	int fd;		      /* -1 when closed */
	int own_fd;	      /* 0 for stdout/stderr */
	char *path;
	struct alog_worker *w[OG_MAX_WORKERS];
	_Atomic int n;
	pthread_t thread;
	int running;
	_Atomic int stop;
} lg = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static int open_path(const char *path, int *own)
{
	if (!strcmp(path, "stderr")) {
		*own = 0;
		return 2;
	}
	if (!strcmp(path, "stdout")) {
		*own = 0;
		return 1;
	}
	*own = 1;
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/* Put <fd> (closed later only when <own>) and <path> in place of the current log file,
 * closing that one if it is ours; fd -1 and path NULL turn the file off. */
static void set_file(int fd, int own, char *path)
{
	pthread_mutex_lock(&lg.lock);
	if (lg.fd >= 0 && lg.own_fd)
		close(lg.fd);
	lg.fd = fd;
	lg.own_fd = own;
	free(lg.path);
	lg.path = path;
	pthread_mutex_unlock(&lg.lock);
}

int alog_configure(const struct cfg_access_log *c, char *err, size_t errlen)
{
	int fd, own;
	char *p;

	if (!c || !c->enabled || !c->path || !*c->path) {
		atomic_store(&og_hook_detail, 0);
		set_file(-1, 0, NULL);
		return 0;
	}
	if (lg.path && !strcmp(lg.path, c->path) && lg.fd >= 0) {
		atomic_store(&og_hook_detail, 1);
		return alog_start();
	}
	fd = open_path(c->path, &own);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "access_log %s: %s", c->path, strerror(e));
		return -e;
	}
	p = strdup(c->path);
	if (!p) {
		if (own)
			close(fd);
		snprintf(err, errlen, "access_log: out of memory");
		return -ENOMEM;
	}
	set_file(fd, own, p);
	atomic_store(&og_hook_detail, 1);
	/* the logger runs whenever the log is on, so no caller can forget to start it */
	return alog_start();
}

int alog_reopen(void)
{
	int fd, own, rc = 0;

	pthread_mutex_lock(&lg.lock);
	if (lg.path && lg.own_fd) {
		fd = open_path(lg.path, &own);
		if (fd < 0) {
			rc = -errno; /* keep writing to the old file rather than lose lines */
		} else {
			close(lg.fd);
			lg.fd = fd;
		}
	}
	pthread_mutex_unlock(&lg.lock);
	return rc;
}

struct alog_worker *alog_worker_new(int id)
{
	struct alog_worker *a;
	int n;

	a = aligned_alloc(64, sizeof(*a));
	if (!a)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->ts_sec = -1;
	a->ring = malloc(ALOG_RING);
	if (!a->ring) {
		free(a);
		return NULL;
	}
	(void)id;
	/* workers may register from their own threads: the lock orders the slot claims */
	pthread_mutex_lock(&lg.lock);
	n = atomic_load(&lg.n);
	if (n >= OG_MAX_WORKERS) {
		pthread_mutex_unlock(&lg.lock);
		free(a->ring);
		free(a);
		return NULL;
	}
	lg.w[n] = a;
	atomic_store(&lg.n, n + 1);
	pthread_mutex_unlock(&lg.lock);
	return a;
}

/* Write ring <a>'s pending bytes out; the space is freed even if the write fails. */
static void flush_ring(struct alog_worker *a)
{
	uint64_t h = atomic_load_explicit(&a->head, memory_order_acquire);
	uint64_t t = atomic_load_explicit(&a->tail, memory_order_relaxed);

	while (t < h) {
		uint64_t off = t % ALOG_RING, len = h - t;
		struct iovec iov[2];
		int n = 1;
		ssize_t wr;

		iov[0].iov_base = a->ring + off;
		iov[0].iov_len = len < ALOG_RING - off ? len : ALOG_RING - off;
		if (iov[0].iov_len < len) {
			iov[1].iov_base = a->ring;
			iov[1].iov_len = len - iov[0].iov_len;
			n = 2;
		}
		wr = lg.fd >= 0 ? writev(lg.fd, iov, n) : (ssize_t)len;
		if (wr < 0 && errno == EINTR)
			continue;
		if (wr <= 0)
			wr = (ssize_t)len; /* disk full or closed: drop rather than wedge workers */
		t += (uint64_t)wr;
	}
	atomic_store_explicit(&a->tail, t, memory_order_release);
}

static void flush_all(void)
{
	int n = atomic_load(&lg.n);

	pthread_mutex_lock(&lg.lock);
	for (int i = 0; i < n; i++)
		flush_ring(lg.w[i]);
	pthread_mutex_unlock(&lg.lock);
}

static void *logger_main(void *arg)
{
	struct timespec ts = {0, ALOG_FLUSH_MS * 1000000L};

	(void)arg;
	while (!atomic_load(&lg.stop)) {
		nanosleep(&ts, NULL);
		flush_all();
	}
	return NULL;
}

int alog_start(void)
{
	sigset_t all, old;
	int rc;

	if (lg.running)
		return 0;
	atomic_store(&lg.stop, 0);
	/* signals belong to the main thread's event loop, never to the logger */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&lg.thread, NULL, logger_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	pthread_setname_np(lg.thread, "og-alog");
	lg.running = 1;
	return 0;
}

void alog_stop(void)
{
	int n;

	if (lg.running) {
		atomic_store(&lg.stop, 1);
		pthread_join(lg.thread, NULL);
		lg.running = 0;
	}
	flush_all();
	atomic_store(&og_hook_detail, 0);
	set_file(-1, 0, NULL);
	n = atomic_load(&lg.n);
	atomic_store(&lg.n, 0);
	for (int i = 0; i < n; i++) {
		free(lg.w[i]->ring);
		free(lg.w[i]);
		lg.w[i] = NULL;
	}
}

uint64_t alog_dropped(void)
{
	uint64_t s = 0;
	int n = atomic_load(&lg.n);

	for (int i = 0; i < n; i++)
		s += atomic_load_explicit(&lg.w[i]->dropped, memory_order_relaxed);
	return s;
}

uint64_t alog_written(void)
{
	uint64_t s = 0;
	int n = atomic_load(&lg.n);

	for (int i = 0; i < n; i++)
		s += atomic_load_explicit(&lg.w[i]->lines, memory_order_relaxed);
	return s;
}

/* ---- formatting (pure) ---- */

struct out {
	char *p, *end; /* end leaves room for the closing fields checked by callers */
};

static void put(struct out *o, const char *s, size_t n)
{
	if ((size_t)(o->end - o->p) < n)
		n = (size_t)(o->end - o->p);
	memcpy(o->p, s, n);
	o->p += n;
}
#define PUTS(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_u64(struct out *o, uint64_t v)
{
	char t[24];
	int i = sizeof(t);

	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, t + i, sizeof(t) - (size_t)i);
}

/* <ns> as milliseconds with 3 decimals (microsecond precision). */
static void put_ms(struct out *o, uint64_t ns)
{
	uint64_t us = ns / 1000;
	char f[4] = {(char)('0' + us % 1000 / 100), (char)('0' + us % 100 / 10),
		     (char)('0' + us % 10), 0};

	put_u64(o, us / 1000);
	PUTS(o, ".");
	put(o, f, 3);
}

/* 1 for bytes a JSON string cannot carry as they are (quote, backslash, controls, >= 0x7f). */
static const unsigned char esc_need[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x7f ... 0xff] = 1,
};

/*
 * JSON string body of <s> (<n> bytes), at most <budget> output bytes, never splitting an
 * escape. Bytes >= 0x7f are escaped as \u00XX so every line is valid ASCII JSON whatever
 * a client sent (the parser refuses such bytes in targets anyway). Runs of plain bytes are
 * copied at once: the common path has nothing to escape.
 */
static void put_esc(struct out *o, const char *s, size_t n, size_t budget)
{
	static const char hex[] = "0123456789abcdef";
	char *lim = o->p + ((size_t)(o->end - o->p) < budget ? (size_t)(o->end - o->p) : budget);
	size_t i = 0;

	while (i < n) {
		size_t j = i, room = (size_t)(lim - o->p);
		unsigned char c;

		while (j < n && !esc_need[(unsigned char)s[j]])
			j++;
		if (j - i > room) {
			memcpy(o->p, s + i, room);
			o->p += room;
			return;
		}
		memcpy(o->p, s + i, j - i);
		o->p += j - i;
		if (j == n)
			return;
		c = (unsigned char)s[j];
		if (c == '"' || c == '\\') {
			if (lim - o->p < 2)
				return;
			*o->p++ = '\\';
			*o->p++ = (char)c;
		} else {
			if (lim - o->p < 6)
				return;
			memcpy(o->p, "\\u00", 4);
			o->p[4] = hex[c >> 4];
			o->p[5] = hex[c & 15];
			o->p += 6;
		}
		i = j + 1;
	}
}

static void put_str_or_null(struct out *o, const char *s, size_t n, size_t budget)
{
	if (!s) {
		PUTS(o, "null");
		return;
	}
	if ((size_t)(o->end - o->p) < budget + 2)
		budget = (size_t)(o->end - o->p) > 2 ? (size_t)(o->end - o->p) - 2 : 0;
	PUTS(o, "\"");
	put_esc(o, s, n, budget);
	PUTS(o, "\"");
}

static void put_client(struct out *o, const struct sockaddr *sa)
{
	char a[INET6_ADDRSTRLEN];

	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		const unsigned char *b = (const unsigned char *)&in->sin_addr;

		/* by hand: inet_ntop goes through sprintf and cost a third of the line */
		PUTS(o, "\"");
		for (int k = 0; k < 4; k++) {
			put_u64(o, b[k]);
			if (k < 3)
				PUTS(o, ".");
		}
		PUTS(o, ":");
		put_u64(o, ntohs(in->sin_port));
		PUTS(o, "\"");
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		PUTS(o, "\"[");
		put(o, a, strlen(a));
		PUTS(o, "]:");
		put_u64(o, ntohs(in6->sin6_port));
		PUTS(o, "\"");
	} else {
		PUTS(o, "null");
	}
}

static void fmt_sec(char *t, size_t cap, int64_t sec)
{
	struct tm tm;
	time_t s = (time_t)sec;

	gmtime_r(&s, &tm);
	strftime(t, cap, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* Line with the seconds part of ts already formatted in <sec_text>. */
static size_t fmt_line(char *buf, size_t cap, const struct alog_entry *e, const char *sec_text,
		       unsigned ms)
{
	/* 96 bytes stay reserved for the numeric tail, so cutting only ever hits strings */
	struct out o = {buf, buf + cap - 96};
	char msb[5] = {'.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10),
		       (char)('0' + ms % 10), 0};

	PUTS(&o, "{\"ts\":\"");
	put(&o, sec_text, strlen(sec_text));
	put(&o, msb, 4);
	PUTS(&o, "Z\",\"req_id\":");
	put_str_or_null(&o, e->req_id, e->req_id_len, 256);
	PUTS(&o, ",\"client\":");
	put_client(&o, e->client);
	PUTS(&o, ",\"method\":");
	put_str_or_null(&o, e->method, e->method_len, 64);
	PUTS(&o, ",\"path\":");
	put_str_or_null(&o, e->path, e->path_len, cap - 1400);
	PUTS(&o, ",\"route\":");
	put_str_or_null(&o, e->route, e->route ? strlen(e->route) : 0, 256);
	PUTS(&o, ",\"upstream\":");
	put_str_or_null(&o, e->upstream, e->upstream ? strlen(e->upstream) : 0, 128);
	o.end = buf + cap; /* the numeric tail below is at most ~90 bytes */
	PUTS(&o, ",\"status\":");
	put_u64(&o, (uint64_t)(e->status > 0 ? e->status : 0));
	PUTS(&o, ",\"bytes_in\":");
	put_u64(&o, e->bytes_in);
	PUTS(&o, ",\"bytes_out\":");
	put_u64(&o, e->bytes_out);
	PUTS(&o, ",\"duration_ms\":");
	put_ms(&o, e->dur_ns);
	PUTS(&o, ",\"upstream_ms\":");
	if (e->upstream)
		put_ms(&o, e->up_ns);
	else
		PUTS(&o, "null");
	PUTS(&o, "}\n");
	return (size_t)(o.p - buf);
}

size_t alog_format(char *buf, size_t cap, const struct alog_entry *e, uint64_t ts_ns)
{
	char sec[24];

	if (cap < ALOG_LINE_MAX)
		return 0;
	fmt_sec(sec, sizeof(sec), (int64_t)(ts_ns / 1000000000ull));
	return fmt_line(buf, cap, e, sec, (unsigned)(ts_ns / 1000000ull % 1000));
}

void alog_write(struct alog_worker *a, const struct alog_entry *e)
{
	char line[ALOG_LINE_MAX];
	struct timespec ts;
	uint64_t h, t;
	size_t n, off, first;

	if (!a || !alog_on())
		return;
	clock_gettime(CLOCK_REALTIME, &ts); /* wall clock: log timestamps only */
	if (ts.tv_sec != a->ts_sec) {
		fmt_sec(a->ts_text, sizeof(a->ts_text), ts.tv_sec);
		a->ts_sec = ts.tv_sec;
	}
	n = fmt_line(line, sizeof(line), e, a->ts_text, (unsigned)(ts.tv_nsec / 1000000));
	h = atomic_load_explicit(&a->head, memory_order_relaxed);
	t = atomic_load_explicit(&a->tail, memory_order_acquire);
	if (ALOG_RING - (h - t) < n) {
		atomic_store_explicit(&a->dropped,
				      atomic_load_explicit(&a->dropped, memory_order_relaxed) + 1,
				      memory_order_relaxed);
		return;
	}
	off = h % ALOG_RING;
	first = n < ALOG_RING - off ? n : ALOG_RING - off;
	memcpy(a->ring + off, line, first);
	memcpy(a->ring, line + first, n - first);
	atomic_store_explicit(&a->head, h + n, memory_order_release);
	atomic_store_explicit(&a->lines, atomic_load_explicit(&a->lines, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}
