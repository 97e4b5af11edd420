/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Calls from the hot path into metrics and the access log, kept in one place. */
#ifndef OG_HOOKS_H
#define OG_HOOKS_H

#include "core/daemon.h"

struct og_conn;

/* A request finished (response flushed or connection closed mid-way). Worker thread. */
void hook_request_done(struct og_worker *w, const struct og_conn *c);
/* Upstream attempt finished for the current request of <c> on server <srv> of upstream
 * <ups>: <status> (0 = transport failure), <ns> from send to response complete. */
void hook_upstream_done(struct og_worker *w, const struct og_conn *c, int ups, int srv, int status,
			uint64_t ns);
/* An error response with x-ordergate-reason <reason> was produced. */
void hook_error(struct og_worker *w, const char *reason);
/* Worker created / tick (16 ms) / exiting. */
void hook_worker_init(struct og_worker *w);
void hook_worker_tick(struct og_worker *w);
void hook_worker_exit(struct og_worker *w);

#endif /* OG_HOOKS_H */
