/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Client connections: read, parse in place, route, answer or hand to the proxy, in order. */
#ifndef OG_CONN_H
#define OG_CONN_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lib/buf.h"
#include "http/http_parse.h"
#include "lib/twheel.h"
#include "core/worker.h"

enum og_conn_state {
	CS_HEAD = 0, /* waiting for (the rest of) a request head; idle when no bytes */
	CS_DISCARD,  /* response sent, reading and dropping the request body */
	CS_PROXY,    /* request handed to proxy.c */
	CS_WRITING,  /* a direct/error response is being flushed */
	CS_LINGER,   /* write side shut, reading until EOF so the response is not reset */
	CS_CLOSED,   /* fd closed; freed at the end of the event callback */
};

#define CF_CLOSE	0x01 /* close after the current response */
#define CF_HEAD		0x02 /* the current request is HEAD: no body in the response */
#define CF_KA10		0x04 /* HTTP/1.0 request that asked for keep-alive */
#define CF_IDLE		0x08 /* counted in conns_idle */
#define CF_RESP_STARTED 0x10 /* response bytes reached the client (proxy: errors close) */
#define CF_PEER_EOF	0x20 /* the client half-closed */
#define CF_INPROC	0x40 /* conn_process is on the stack for this connection */
#define CF_KEEP		(CF_IDLE | CF_PEER_EOF | CF_INPROC) /* flags that outlive a request */

#define OG_OUT_MAX 5

struct og_upconn;

/*
 * State of the request in progress on a connection. Taken from a per-worker free list
 * when a request head arrives and given back when the connection goes idle, so an idle
 * keep-alive connection costs only struct og_conn (memory per idle connection matters
 * at 10,000+ connections).
 */
struct og_req {
	struct og_req *next_free;
	struct iovec out[OG_OUT_MAX];
	uint8_t nout, oi; /* out[oi..nout) pending */
	uint8_t
	    out_volatile;   /* bit i: out[i] points at memory that changes (copy on short write) */
	uint8_t out_cached; /* out[0] is a worker's cached whole direct response (respond.c) */
	uint8_t method;	    /* enum http_method of the current request */
	uint8_t vminor;	    /* HTTP/1.<vminor> */
	uint8_t body_kind;  /* enum http_body of the current request */
	int16_t route;	    /* route index of the current request, -1 none */
	uint16_t status;    /* status sent for the current request (logs/metrics) */
	int16_t up_srv;	    /* server that answered (ups << 8 | srv), -1 none */
	int16_t last_srv;   /* proxy: server of the failed attempt (retries avoid it) */
	uint8_t attempts;   /* proxy: attempts made */
	uint8_t body_sent;  /* proxy: request body bytes went upstream (no replay possible) */
	uint8_t buffering;  /* proxy: reading a small body whole before going upstream */
	uint8_t idem_key;   /* proxy: the request carries an Idempotency-Key */
	uint32_t body_buffered; /* proxy: body bytes copied behind the head in up_hb */
	struct og_buf *up_hb;	/* proxy: head (+ body) waiting for the body to complete */
	uint8_t up_sent;     /* proxy: a byte of this request reached an upstream (any attempt) */
	uint8_t guard;	     /* proxy: the proxy guard holds a claim for this request */
	uint8_t fault_wait;  /* proxy: held back by an injected delay (proxy/fault.c) */
	uint8_t guard_flags; /* owned by the proxy guard (capture state) */
	uint32_t guard_slot, guard_tag;	 /* owned by the proxy guard: its claim */
	uint32_t guard_head, guard_body; /* owned by the proxy guard: bytes captured */
	struct og_buf *held;		 /* proxy: request head waiting out an injected delay */
	uint32_t body_ready;	/* proxy: validated request body bytes at rb[rpos..] not yet sent */
	uint32_t up_hash;	/* proxy: hash for hash balancing */
	uint32_t up_head_len;	/* proxy: bytes of the rewritten request head (for retries) */
	struct og_buf *wb;	/* owned output bytes (error responses, proxied heads) */
	struct og_buf *lb;	/* access log fields of the current request (only when logging) */
	uint64_t body_left;	/* Content-Length bytes of request body not yet consumed */
	struct http_chunked ck; /* chunked request body scanner */
	struct og_upconn *up;	/* proxy: the upstream connection serving this request */
	struct og_rt *rt;    /* runtime of the current request (referenced), NULL once accounted */
	uint64_t t_start_ns; /* worker_cb_ns() of the read that brought the head's first byte */
	uint64_t up_ns;	     /* upstream exchange time of the current request */
	uint64_t bytes_in, bytes_out; /* of the current request/response */

	/* lanes (user/lanes/lanes.h) */
	uint8_t lane;	      /* OG_LANE_* the request runs in, 0 = not classified */
	uint8_t lane_flags;   /* LQ_* */
	uint16_t retry_after; /* seconds for Retry-After on a 429, 0 = none */
};

struct og_conn {
	struct event ev;
	struct og_timer tm;
	struct og_worker_priv *p;
	struct og_conn *next, *prev; /* worker's live list; next = free/zombie link when closed */
	struct og_req *rq;	     /* request in progress, NULL while idle */
	struct og_buf *rb;	     /* input, NULL while idle */
	struct http_msg *msg;	     /* only while a head is partial */
	uint64_t idle_since_ms;	     /* worker clock when the connection last went idle */
	int fd;
	uint32_t rpos, rlen; /* rb->data[rpos..rlen) is unconsumed input */
	short evmask;	     /* events armed now */
	uint8_t state;	     /* enum og_conn_state */
	uint8_t flags;	     /* CF_* */
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} peer;

	uint64_t t_head_ns; /* worker_cb_ns() of the read that brought the next head's first byte */
	uint64_t t_read_ns; /* worker_cb_ns() of the last read */
	uint8_t lane_l4;    /* LC_* flags | the connection's L4 lane (lanes/lanes.h) */
	uint8_t lane_pin;   /* lane pinned into og_flow_lane for this flow, 0 = none */
};

/* Plug the front into the worker loop: accepted sockets, tick, drain, reap. Main thread,
 * before the workers are created. Returns 0 or -errno. */
int conn_register(void);
/* Take over accepted socket <fd> from <peer>; closes <fd> on failure. <read_now>: read and
 * serve what already arrived at once, else when the loop reports it readable. Worker thread. */
void conn_accept(struct og_worker_priv *p, int fd, const struct sockaddr *peer, socklen_t plen,
		 int read_now);
/* Close the oldest client connection with an incomplete head (else the oldest idle one) to
 * make room; 1 when one was closed. Worker thread. */
int conn_shed_one(struct og_worker_priv *p);
/* Arm exactly <mask> (EV_READ|EV_WRITE) on the client socket; no syscall when unchanged. */
void conn_want(struct og_conn *c, short mask);
/*
 * Write out[oi..nout). Returns 0 when everything went out, -EAGAIN when the rest waits for
 * EV_WRITE (armed, input disarmed), another -errno when the socket failed (caller closes).
 */
int conn_flush(struct og_conn *c);
/* Answer the current request with an error <status> carrying `x-ordergate-reason: <reason>`;
 * <close> forces Connection: close. Continues or lingers the connection afterwards. */
void conn_respond_error(struct og_conn *c, int status, const char *reason, int close);
/* Answer the current request with the <len> bytes at <data> (owned by the request, e.g. in
 * c->rq->wb): a whole response of <status>. Flushes, then continues or closes the connection;
 * a request body not yet read is read and dropped after it (conn_request_done). */
void conn_send_whole(struct og_conn *c, int status, char *data, size_t len);
/* The current request is complete (response flushed): account it, then continue with the
 * next pipelined request, go idle, or linger-close. */
void conn_request_done(struct og_conn *c);
/* After an asynchronous completion: parse and serve buffered pipelined requests, or go
 * idle. No-op unless the connection waits for a head; safe to call re-entrantly. */
void conn_continue(struct og_conn *c);
/* Close now (fd closed, request state dropped; memory reclaimed after the callback). */
void conn_close(struct og_conn *c);
/* Read into rb; returns bytes read, 0 on EOF, -EAGAIN, -ENOBUFS when rb is full, -errno. */
ssize_t conn_read(struct og_conn *c);
/* Drain: answer in-flight requests with close, close idle connections idle >= <idle_ms>. */
void conn_drain_sweep(struct og_worker_priv *p, uint64_t idle_ms);
/* Release closed connections to the free list (end of each event callback). */
void conn_reap(struct og_worker_priv *p);
/* Record the X-Request-Id generated for the current request (access log). */
void conn_log_req_id(struct og_conn *c, const char *id, size_t len);
/* Client address as text (for X-Forwarded-For); returns length. */
int conn_peer_text(const struct og_conn *c, char *out, size_t outlen);

#endif /* OG_CONN_H */
