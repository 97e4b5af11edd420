/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Worker threads: one event_base each, its own listeners, free lists, pools and timer wheel. */
#ifndef OG_WORKER_H
#define OG_WORKER_H

#include <event2/event.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/buf.h"
#include "core/daemon.h"
#include "http/http_parse.h"
#include "lib/iow.h"
#include "lib/twheel.h"

/* Slots and bytes of the per-worker cache of whole direct responses (respond.c). */
#define OG_DRESP_SLOTS 8
#define OG_DRESP_MAX   480

/*
 * Route <route>'s direct response of runtime generation <gen> as one contiguous buffer,
 * its Date line that of second <sec>: a keep-alive answer is then one write() from one
 * buffer, like the floor's, instead of a gather of four pieces each time.
 */
struct og_dresp {
	uint64_t gen; /* 0: empty */
	time_t sec;
	int16_t route;
	uint16_t len;
	char data[OG_DRESP_MAX];
};

struct og_conn;
struct og_req;
struct og_upconn;

/* Idle upstream connections to one server, and this worker's requests in flight to it. */
struct og_wpool {
	struct og_upconn *idle; /* LIFO stack: the most recently used is the warmest */
	uint32_t n_idle;
	uint32_t inflight; /* for least_request (per worker, like nginx without a shared zone) */
};

/* Everything only the worker thread touches. */
struct og_worker_priv {
	struct og_worker *w;
	struct og_rt *rt;	  /* generation new requests use; changes only in the tick */
	_Atomic uint32_t *rt_ref; /* &rt->refs[w->id].n */

	/* pools for rt: [flat server index] and per-upstream round-robin cursors */
	struct og_wpool *pools;
	uint32_t *srv_base; /* [n_upstreams]: first flat index of each upstream's servers */
	uint32_t *rr;	    /* [n_upstreams] */

	struct og_bufpool bufs;
	struct og_conn *conn_free;
	uint32_t n_conn_free;
	struct og_upconn *upc_free;
	uint32_t n_upc_free;
	struct http_msg *msg; /* scratch head for parsing; a partial head keeps it */
	struct http_msg *msg_free;

	struct og_conn *conns;	      /* every open client connection (drain walks it) */
	struct og_req *req_free;      /* request records not in use */
	struct og_conn *zombies;      /* closed this callback; back to conn_free at its end */
	struct og_upconn *up_zombies; /* same for upstream connections */
	uint32_t n_conns;
	uint32_t n_upconns; /* upstream connections open (any state) */

	struct og_twheel tw;
	struct event *tick;
	uint64_t now_ms;	    /* CLOCK_MONOTONIC_COARSE, refreshed by the tick */
	char gather[OG_GATHER_MAX]; /* og_gather_write scratch */
	uint64_t cb_ns;		    /* CLOCK_MONOTONIC of this loop pass, 0 = not read yet */
	struct event *clk_ev;	    /* clears cb_ns at the end of the pass (worker_cb_ns) */

	char date_line[48]; /* "Date: Mon, 23 Nov 2026 09:00:00 GMT\r\n" */
	uint32_t date_len;
	time_t date_sec;
	struct og_dresp dresp[OG_DRESP_SLOTS]; /* whole direct responses, Date included */

	int n_listen;
	uint64_t accept_paused_until; /* ms; accepting paused after EMFILE until then, 0 = not */
	int lfd[CFG_MAX_LISTEN];
	struct event *lev[CFG_MAX_LISTEN];
	char laddr[CFG_MAX_LISTEN][64]; /* lfd[i]'s address as configured (cfg_addr.text) */

	uint64_t reqid_seq; /* X-Request-Id counter */
	int draining;	    /* SIGTERM seen: no accepts, close idle conns, answer with close */
	uint64_t drain_deadline_ms;
};

/*
 * Which worker listens where, handed down by a higher layer (lanes: reserved order
 * workers) before worker_create_all; any member NULL means the default (every worker
 * listens on every address, nothing else happens). Callbacks run on the main thread at
 * start and on worker threads at reload.
 */
struct worker_policy {
	/* 0: worker <w> opens no listener on <sa>. */
	int (*wants)(int w, const struct sockaddr *sa);
	/* worker <w> opened listening socket <fd> on <sa>. */
	void (*opened)(int w, int fd, const struct sockaddr *sa);
	/* worker <w>'s thread starts, on that thread (scheduling priority). */
	void (*thread_start)(int w);
};
extern struct worker_policy worker_policy;

/*
 * A module above core with per-worker state (the front, the proxy): what the worker loop
 * calls in it. Registered once at start, before worker_create_all (ops/main.c), so core
 * includes none of their headers; called in registration order. Entries may be NULL.
 * Worker thread unless said.
 */
struct og_worker_mod {
	/* worker created for generation <rt> (main thread, before the worker starts) */
	int (*init)(struct og_worker_priv *p, struct og_rt *rt);
	/* switch to generation <nrt> (tick, no request inside); an error keeps <ort> and the
	 * worker tries again at the next tick */
	int (*adopt)(struct og_worker_priv *p, struct og_rt *ort, struct og_rt *nrt);
	/* every tick, before the timers run */
	void (*tick)(struct og_worker_priv *p);
	/* draining: close what is idle for <idle_ms> or more (drain start and every tick) */
	void (*drain)(struct og_worker_priv *p, uint64_t idle_ms);
	/* work in flight the drain waits for (0 = none) */
	uint32_t (*busy)(struct og_worker_priv *p);
	/* close everything now (grace over, exit) */
	void (*close_all)(struct og_worker_priv *p);
	/* end of a callback: reclaim what it closed */
	void (*reap)(struct og_worker_priv *p);
	/* out of descriptors: close one connection that is least worth keeping (an incomplete
	 * head); 1 when one was closed */
	int (*shed)(struct og_worker_priv *p);
};

/* Register <m> (static storage). Main thread, before worker_create_all. 0 or -ENOSPC. */
int worker_mod_register(const struct og_worker_mod *m);
/* Who takes accepted connections (the front): <read_now> 1 = read and serve at once. */
typedef void og_accept_fn(struct og_worker_priv *p, int fd, const struct sockaddr *peer,
			  socklen_t plen, int read_now);
void worker_accept_register(og_accept_fn *fn);
/* Hand accepted socket <fd> to the front (listener.c). */
void worker_accept(struct og_worker_priv *p, int fd, const struct sockaddr *peer, socklen_t plen,
		   int read_now);
/* Out of descriptors at accept: ask the modules to shed one connection; 1 when one did. */
int worker_shed(struct og_worker_priv *p);
/* End of a core callback: every module reclaims what it closed. */
void worker_reap(struct og_worker_priv *p);

/* Create the workers (event bases, listeners on SO_REUSEPORT sockets) for runtime <rt>.
 * Returns 0 or -errno with a message in <err>. Main thread, before starting them. */
int worker_create_all(struct og_rt *rt, char *err, size_t errlen);
/* Start every worker thread. */
int worker_start_all(void);
/* Join every worker thread (after drain). */
void worker_join_all(void);
/* Worker threads still running (drain is over at 0). Any thread. */
int worker_alive(void);
/* 1 when every worker adopted a generation newer than <rt> and no request of any worker
 * runs on <rt> any more: it may be freed. Main thread. */
int worker_rt_unused(const struct og_rt *rt);

/* Refresh the worker's cached clock (one cheap vDSO read). */
static inline uint64_t worker_clock(struct og_worker_priv *p)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	p->now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	return p->now_ms;
}

/*
 * CLOCK_MONOTONIC in ns, read at most once per pass of the event loop, as nginx and
 * HAProxy cache their clock per loop pass: the first read in a pass also activates
 * p->clk_ev, which libevent runs after every callback already queued for that pass (an
 * event activated from a callback joins the end of the queue being run) and which
 * clears the cached value for the next pass. Under load a pass carries a batch of
 * events, so a proxied request (stamped when sent, and again when its answer arrives
 * in a later pass) costs a fraction of a clock read instead of two reads of ~45 ns.
 * A request's start is the pass that read its head's first byte; its end is a fresh
 * read (worker_now_ns), so one answered in that same pass still measures its real time.
 * libevent's own cached time cannot serve: it is CLOCK_MONOTONIC_COARSE.
 */
static inline uint64_t worker_cb_ns(struct og_worker_priv *p)
{
	if (!p->cb_ns) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		p->cb_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		if (p->clk_ev)
			event_active(p->clk_ev, EV_TIMEOUT, 0);
	}
	return p->cb_ns;
}

/*
 * CLOCK_MONOTONIC in ns read now (not the pass's cached value), for the end of a
 * request: one answered in the pass that read it would otherwise measure 0. The
 * reading also becomes the pass's cached clock, so later stamps in the pass are closer.
 */
static inline uint64_t worker_now_ns(struct og_worker_priv *p)
{
	struct timespec ts;
	int had = p->cb_ns != 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	p->cb_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (!had && p->clk_ev)
		event_active(p->clk_ev, EV_TIMEOUT, 0);
	return p->cb_ns;
}

/* <now> - <then>, never negative. */
static inline uint64_t og_elapsed_ns(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/*
 * Take a reference on the worker's current generation for a new request. Never adopts:
 * workers pick up a newly published generation (og_d.rt) and a drain request
 * (og_d.draining) by themselves in their tick (16 ms), between callbacks, so a request
 * and everything it calls see one generation. Worker thread only.
 */
static inline struct og_rt *worker_rt_get(struct og_worker_priv *p)
{
	atomic_store_explicit(p->rt_ref, atomic_load_explicit(p->rt_ref, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	return p->rt;
}

/* Drop a reference taken by worker_rt_get on <rt> (the current or an older generation).
 * Release: the main thread that sees the count reach 0 may free <rt>. */
static inline void worker_rt_put(struct og_worker_priv *p, struct og_rt *rt)
{
	_Atomic uint32_t *r = &rt->refs[p->w->id].n;

	atomic_store_explicit(r, atomic_load_explicit(r, memory_order_relaxed) - 1,
			      memory_order_release);
}
/* Called by conn.c when a client connection closes: exits the loop when draining is done. */
void worker_conn_closed(struct og_worker_priv *p);

#endif /* OG_WORKER_H */
