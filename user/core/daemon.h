/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Global state of the running ordergated: config generation, workers, upstream server health. */
#ifndef OG_DAEMON_H
#define OG_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config/config.h"

#define OG_VERSION     "0.3.0"
#define OG_MAX_WORKERS 64

/*
 * Threads: the main thread runs lifecycle (signals, reload) and the active health
 * checker on its own event_base; each worker thread runs one event_base with its own
 * SO_REUSEPORT listeners; the admin server (admin.c) runs on its own thread.
 *
 * Readers on other threads (admin /metrics, /readyz) read everything below with
 * relaxed atomic loads and never take a lock: values may be a few microseconds stale.
 */

/* ---- shared upstream server state (one per server of the running config) ---- */

enum og_breaker_state {
	OG_BRK_CLOSED = 0,    /* requests flow */
	OG_BRK_OPEN = 1,      /* refused (503 breaker-open) until open_until_ms */
	OG_BRK_HALF_OPEN = 2, /* one probe request in flight; its result closes or reopens */
};

/*
 * One upstream server. <healthy> is written only by the health checker (main thread);
 * breaker/outlier fields are updated by workers with atomic RMW on failures only
 * (successes only store when a counter is non-zero), so the hot path stays cheap.
 */
struct og_server {
	const struct cfg_addr *addr;	 /* into the config of the runtime that owns this */
	_Atomic uint32_t healthy;	 /* 1 up, 0 down (active checks); 1 when checks are off */
	_Atomic uint32_t hc_ok_streak;	 /* consecutive passed checks (health checker only) */
	_Atomic uint32_t hc_fail_streak; /* consecutive failed checks (health checker only) */
	_Atomic uint32_t breaker;	 /* enum og_breaker_state */
	_Atomic uint32_t consec_fail;	 /* consecutive transport failures/5xx (breaker) */
	_Atomic uint64_t open_until_ms;	 /* breaker open until (CLOCK_MONOTONIC ms) */
	_Atomic uint32_t consec_5xx;	 /* consecutive 5xx/transport errors (outlier) */
	_Atomic uint64_t
	    ejected_until_ms;		/* passive ejection until (CLOCK_MONOTONIC ms); 0 = not */
	_Atomic uint64_t ejections;	/* total passive ejections */
	_Atomic uint64_t breaker_opens; /* total times the breaker opened */
};

struct idem_table;

struct og_upstream_rt {
	const struct cfg_upstream *cfg;
	int n_servers;
	struct og_server *servers; /* [n_servers] */
};

/* Per-route data precomputed when a config is loaded (hot path never formats it). */
struct og_route_rt {
	char *resp;		 /* direct response: status line + headers, then "\r\n" + body */
	uint32_t resp_len;	 /* bytes in resp */
	uint32_t resp_head_len;	 /* bytes before the final "\r\n" (Date/Connection go there) */
	struct idem_table *idem; /* Idempotency-Key table (lanes/idem.c), NULL = none; one
				  * reference per generation, set by whoever attached it */
};

/* Requests of one worker running on one generation: written by that worker only (no locked
 * instruction), read by the main thread; one cache line each so workers do not share. */
struct og_rt_ref {
	_Atomic uint32_t n;
	uint32_t pad_[15];
};

/*
 * A config generation: the immutable config plus everything derived from it.
 * Published with an atomic store to og_daemon.rt; each worker adopts it at its next
 * tick (a loop boundary, never inside a request) and records it in og_worker.rt_gen.
 * A request runs on the generation it started on until it ends: it holds a reference
 * in refs[worker id]. The main thread frees an old generation once every worker has
 * adopted a newer one and holds no reference on it (worker_rt_unused).
 */
struct og_rt {
	struct config *cfg;
	uint64_t gen;		    /* 1, 2, ... */
	struct og_route_rt *routes; /* [cfg->n_routes] */
	struct og_upstream_rt *ups; /* [cfg->n_upstreams] */
	struct og_rt *older;	    /* list of retired generations awaiting free (main thread) */
	uint64_t retired_ms; /* CLOCK_MONOTONIC ms when replaced; freed >= 5 s later so an admin
			      * request that loaded the old pointer finishes with it first */
	void (*ext_free)(struct og_rt *rt); /* drops what a higher layer attached (idem tables) */
	struct og_rt_ref refs[OG_MAX_WORKERS]; /* [worker id]: its requests on this generation */
};

/* ---- per-worker counters: single writer (the worker), relaxed readers ---- */

/* Why the gateway closed a client connection (ordergate_client_connections_closed_total). */
enum og_close_reason {
	OG_CLOSE_LIMIT = 0,	 /* refused at accept: max_connections (or the fd budget) reached */
	OG_CLOSE_SHED,		 /* an incomplete or idle head shed to make room for a new one */
	OG_CLOSE_HEADER_TIMEOUT, /* the head did not arrive within header_timeout_ms */
	OG_CLOSE_BODY_TIMEOUT,	 /* the body stalled for body_timeout_ms */
	OG_CLOSE_WRITE_TIMEOUT,	 /* the client did not read for write_timeout_ms */
	OG_CLOSE__COUNT
};

struct og_wstats {
	_Atomic uint64_t conns_accepted; /* total client connections accepted */
	_Atomic uint64_t conns_active;	 /* gauge: client connections open (idle included) */
	_Atomic uint64_t conns_idle;	 /* gauge: client keep-alive connections between requests */
	_Atomic uint64_t requests;	 /* total requests whose head was parsed */
	_Atomic uint64_t
	    responses[6]; /* by status class: [1]=1xx .. [5]=5xx, [0]=closed unanswered */
	_Atomic uint64_t parse_errors;	  /* requests refused by the parser (4xx + close) */
	_Atomic uint64_t timeouts;	  /* client header/body/write timeouts */
	_Atomic uint64_t up_conns_active; /* gauge: upstream connections carrying a request */
	_Atomic uint64_t up_conns_idle;	  /* gauge: upstream keep-alive connections pooled */
	_Atomic uint64_t up_conns_opened; /* total upstream connects started */
	_Atomic uint64_t up_reused;	  /* total requests sent over a pooled connection */
	_Atomic uint64_t up_retries;	  /* total retried upstream attempts */
	_Atomic uint64_t up_errors;	  /* total upstream failures answered 502/503/504 */
	_Atomic uint64_t
	    conns_closed[OG_CLOSE__COUNT]; /* client connections we closed, by reason */
	_Atomic uint64_t bytes_in;	   /* client bytes read */
	_Atomic uint64_t bytes_out;	   /* client bytes written */
};

/* Increment a single-writer counter without a locked instruction. */
#define OG_WSTAT_ADD(w, field, n)                                                                  \
	atomic_store_explicit(&(w)->stats.field,                                                   \
			      atomic_load_explicit(&(w)->stats.field, memory_order_relaxed) + (n), \
			      memory_order_relaxed)
#define OG_WSTAT_GET(w, field) atomic_load_explicit(&(w)->stats.field, memory_order_relaxed)

struct og_worker_priv; /* worker.c internals: free lists, pools, timer wheel */
struct metrics_worker; /* metrics.c: per-worker histograms/counters, or NULL */
struct alog_worker;    /* accesslog.c: per-worker log buffer, or NULL */

struct og_worker {
	int id; /* 0 .. n_workers-1 */
	pthread_t thread;
	struct event_base *base;
	_Atomic uint64_t rt_gen;    /* generation this worker adopted (new requests run on it) */
	_Atomic uint32_t listening; /* listeners this worker has open (0 while draining) */
	struct og_wstats stats;
	struct metrics_worker *metrics; /* set by metrics_worker_new() before the thread starts */
	struct alog_worker *alog;	/* set by alog_worker_new() before the thread starts */
	struct og_worker_priv *priv;
};

/* ---- the daemon ---- */

struct og_daemon {
	_Atomic(struct og_rt *) rt; /* current config generation; never NULL while running */
	int n_workers;
	struct og_worker *workers;	    /* [n_workers] */
	struct event_base *main_base;	    /* main thread: signals, reload, health checks */
	uint64_t start_mono_ms;		    /* CLOCK_MONOTONIC ms at start */
	uint64_t start_wall_s;		    /* wall clock at start (build/uptime info) */
	_Atomic uint32_t draining;	    /* 1 after SIGTERM/SIGINT */
	_Atomic uint64_t drain_deadline_ms; /* CLOCK_MONOTONIC ms: in-flight work is cut after it */
	_Atomic uint32_t ready;		    /* 1 once every worker's listeners are bound */
	_Atomic uint64_t reloads_ok;	    /* successful reloads */
	_Atomic uint64_t reloads_failed;    /* reloads refused (bad config) */
	_Atomic uint32_t gens_live;	    /* config generations built and not yet freed */
	const char *config_path;	    /* -c FILE, or NULL for the embedded default */
	uint64_t fd_limit; /* RLIMIT_NOFILE soft limit after raising it to the hard one */
	uint32_t conn_cap; /* client connections per worker the fd budget allows (0 = no cap) */
};

/* The one daemon instance (daemon.c). Other threads read it through the atomics above. */
extern struct og_daemon og_d;

/* Current runtime, for readers on any thread (admin). Valid until the next reload + a
 * grace period; admin handlers use it within one request. */
static inline struct og_rt *og_daemon_rt(void)
{
	return atomic_load_explicit(&og_d.rt, memory_order_acquire);
}

/* Monotonic milliseconds (CLOCK_MONOTONIC_COARSE; cheap, ~4 ms resolution). */
uint64_t og_now_ms(void);

#endif /* OG_DAEMON_H */
