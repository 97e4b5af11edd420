/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* JSON access log: workers append lines to lock-free per-worker rings, a logger thread writes them.
 */
#ifndef OG_ACCESSLOG_H
#define OG_ACCESSLOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/hooks.h"
#include "config/config.h"

/*
 * Each worker owns one single-producer/single-consumer byte ring (ALOG_RING bytes).
 * alog_write() formats one line on the worker's stack and copies it into the ring, or
 * counts it dropped when the ring is full: the worker never blocks and never calls
 * write(). The logger thread wakes every ALOG_FLUSH_MS, writes what each ring holds with
 * one writev() per ring, and frees the space. SIGUSR1 -> alog_reopen() reopens the file
 * in place (dup2 onto the same fd, so a write in flight finishes on the old file).
 */
#define ALOG_RING     (2u << 20)
#define ALOG_FLUSH_MS 10
#define ALOG_LINE_MAX 4096 /* longer lines are cut: path is truncated first */

struct alog_worker;

/* One finished request, as the worker knows it; strings need not be NUL-terminated. */
struct alog_entry {
	const char *req_id; /* X-Request-Id sent upstream / echoed; may be NULL */
	size_t req_id_len;
	const struct sockaddr *client; /* peer address (AF_INET/AF_INET6) or NULL */
	const char *method;
	size_t method_len;
	const char *path; /* request target as received */
	size_t path_len;
	const char *route;    /* route name (NUL-terminated) or NULL when none matched */
	int status;	      /* 0: closed without a response */
	uint64_t bytes_in;    /* request bytes read from the client (head + body) */
	uint64_t bytes_out;   /* response bytes written to the client */
	uint64_t dur_ns;      /* head parsed .. response flushed */
	const char *upstream; /* server address text (NUL-terminated) or NULL */
	uint64_t up_ns;	      /* upstream exchange time; ignored when <upstream> is NULL */
};

/* Is the access log on? Any thread. The log is the consumer of the request details the
 * front keeps only on demand (og_hook_detail), so that flag is the log's on switch. */
static inline int alog_on(void)
{
	return og_hook_detail_on();
}

/*
 * Apply config <c> (start and every reload): opens <c>->path (O_APPEND|O_CREAT, 0640,
 * or stdout/stderr), turns the log on and starts the logger thread (alog_start), or turns
 * it off when disabled/absent. A path that cannot be opened is refused with a message in
 * <err> and leaves the old state.
 * Returns 0 or -errno. Main thread.
 */
int alog_configure(const struct cfg_access_log *c, char *err, size_t errlen);
/* Allocate worker <id>'s ring and register it with the logger; NULL on ENOMEM/too many.
 * Any thread (a worker may register itself); never after alog_stop() began. */
struct alog_worker *alog_worker_new(int id);
/* Start the logger thread. Returns 0 or -errno. Main thread. */
int alog_start(void);
/* Flush every ring, stop the logger thread, close the file, free the rings. Main thread,
 * after the workers ended. */
void alog_stop(void);
/* Reopen the log file at the same path (log rotation, SIGUSR1). Returns 0 or -errno.
 * Any thread, not a signal handler. */
int alog_reopen(void);
/*
 * Format entry <e> as one JSON line (ts = now, RFC 3339 UTC with ms) into ring <a>, or
 * count it dropped when the ring lacks room. Worker thread of <a> only; never blocks,
 * never allocates. <a> NULL or the log off: nothing happens.
 */
void alog_write(struct alog_worker *a, const struct alog_entry *e);
/* Lines dropped because a ring was full, summed over workers. Any thread. */
uint64_t alog_dropped(void);
/* Lines written to the file so far, summed over workers. Any thread. */
uint64_t alog_written(void);

/* Format <e> with wall-clock time <ts_ns> (CLOCK_REALTIME) as one JSON line ending in '\n'
 * into <buf>. Returns the length, 0 when <cap> < ALOG_LINE_MAX. Pure; exposed for tests. */
size_t alog_format(char *buf, size_t cap, const struct alog_entry *e, uint64_t ts_ns);

#endif /* OG_ACCESSLOG_H */
