/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Upstream connections: per-worker keep-alive pools, connect, server choice (balance). */
#ifndef OG_UPSTREAM_H
#define OG_UPSTREAM_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdint.h>

#include "lib/buf.h"
#include "http/http_parse.h"
#include "lib/twheel.h"
#include "core/worker.h"

enum og_upc_state {
	UC_CONNECTING = 0, /* non-blocking connect in progress */
	UC_IDLE,	   /* pooled keep-alive connection */
	UC_BUSY,	   /* carrying a request/response */
	UC_CLOSED,	   /* fd closed; reclaimed at the end of the callback */
};

struct og_conn;
struct og_upconn;

/*
 * Who uses a connection taken from the pool, and how the pool hands its events back:
 * the pool knows nothing of what travels on it (like nginx's peer get/free). A static
 * table; the pool itself handles a pooled (idle) connection's events.
 */
struct og_upc_owner {
	void (*event)(struct og_upconn *u, short what); /* readiness while connecting/busy */
	void (*timeout)(struct og_upconn *u);		/* its timer fired while connecting/busy */
	void (*cb_end)(struct og_worker_priv *p);	/* after either: reclaim what was closed */
};

struct og_upconn {
	struct event ev;
	struct og_timer tm;
	struct og_worker_priv *p;
	struct og_upconn *next, *prev; /* pool list; next = free/zombie link when closed */
	struct og_rt *rt; /* generation whose pool this belongs to (pooled connections) */
	int fd;
	short evmask;
	uint8_t state;			  /* enum og_upc_state */
	uint8_t reused;			  /* this request went over a pooled connection */
	uint32_t n_req;			  /* requests carried so far (keepalive_requests) */
	uint16_t ups, srv;		  /* upstream and server index in rt */
	uint32_t flat;			  /* index into the worker's pools[] */
	struct og_conn *c;		  /* client whose request this carries */
	const struct og_upc_owner *owner; /* set by upstream_get for each use */

	/* one exchange (proxy.c) */
	struct og_buf *wb; /* request head to send */
	uint32_t wpos, wlen;
	struct og_buf *rb; /* response bytes */
	uint32_t rpos, rlen;
	struct http_msg *msg; /* response head while partial */
	uint8_t rs;	      /* proxy.c response state */
	uint8_t resp_body;    /* enum http_body of the response */
	uint8_t sent_any;     /* a byte of the request was written */
	uint8_t got_any;      /* a byte of the response was read */
	uint8_t req_done;     /* the whole request went out */
	uint8_t keepalive;    /* reusable after this response */
	uint8_t chunk_wrap;   /* EOF-delimited body sent chunked to the client */
	uint8_t counted;      /* counted in pools[].inflight */
	uint16_t status;      /* response status */
	uint64_t resp_left;   /* Content-Length bytes still to relay */
	struct http_chunked rck;
	uint64_t t_sent_ns;
	char chunkhdr[20]; /* "%x\r\n" when wrapping an EOF body in chunks */
};

/* Plug the pools into the worker loop (after conn_register: the front closes first). Main
 * thread, before the workers are created. Returns 0 or -errno. */
int upstream_register(void);
/* Set the worker up for runtime <nrt> (pools sized for it); closes idle connections of
 * <ort> (may be NULL at start). Returns 0 or -ENOMEM. Worker thread. */
int upstream_worker_adopt(struct og_worker_priv *p, struct og_rt *ort, struct og_rt *nrt);
/*
 * Pick a server of upstream <ups> for a request (<hash> used by hash balancing), skipping
 * <avoid> (-1 none) when another is usable. Returns the server index, or -1 with *<reason>
 * set ("no-healthy-server", "breaker-open"). Takes the half-open probe slot when it picks
 * a server whose breaker is half-open.
 */
int upstream_pick(struct og_worker_priv *p, struct og_rt *rt, int ups, uint32_t hash, int avoid,
		  const char **reason);
/* 1 when server <srv> of <ups> has no idle connection on this worker and max_connections
 * busy ones: the request gets 503 pool-exhausted instead of yet another connection. */
int upstream_full(struct og_worker_priv *p, struct og_rt *rt, int ups, int srv);
/* A pooled connection to server <srv> of <ups>, or a new one being connected (state
 * UC_CONNECTING), or NULL with errno set (connect refused at once). Its events and timer
 * go to <owner> until it is released or closed. */
struct og_upconn *upstream_get(struct og_worker_priv *p, struct og_rt *rt, int ups, int srv,
			       const struct og_upc_owner *owner);
/* Return <u> to its pool when reusable and room is left, else close it. */
void upstream_release(struct og_upconn *u, int reusable);
/* Close <u> (any state). */
void upstream_close(struct og_upconn *u);
/* Arm exactly <mask> on <u>'s socket. */
void upstream_want(struct og_upconn *u, short mask);
/* Record an attempt's outcome for breaker and outlier ejection: <status> 0 for a transport
 * failure (connect, reset, timeout, bad response), else the response status; only the
 * statuses configured under breaker/outlier count as failures. Never opens or ejects the
 * last usable server of the pool, nor more than outlier.max_ejection_percent of it. */
void upstream_report(struct og_worker_priv *p, struct og_rt *rt, int ups, int srv, int status);
/* Close this worker's pooled connections to server <srv> of upstream <ups>. */
void upstream_purge_server(struct og_worker_priv *p, int ups, int srv);
/* Upstream connections carrying a request (drain waits for them). */
uint32_t upstream_active(struct og_worker_priv *p);
/* Close the pooled (idle) connections (drain). */
void upstream_close_idle(struct og_worker_priv *p);
/* Close the pooled connections too: busy ones belong to a client connection's request and
 * close with it (conn_close -> proxy_abort), which the front's close_all does first. */
void upstream_close_all(struct og_worker_priv *p);
/* Reclaim closed connections (end of callback). */
void upstream_reap(struct og_worker_priv *p);
/* Usable now (health, ejection, breaker) — read-only, any thread. */
int upstream_server_usable(struct og_server *s, uint64_t now_ms);

#endif /* OG_UPSTREAM_H */
