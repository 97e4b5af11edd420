/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Listening sockets: one SO_REUSEPORT socket per worker per address, accept loop, drain. */
#ifndef OG_LISTENER_H
#define OG_LISTENER_H

#include <stddef.h>

#include "config/config.h"

struct og_worker_priv;

/* Open a non-blocking SO_REUSEPORT listening socket on <a>. Returns the fd or -errno with
 * "listen 1.2.3.4:80: why" in <err>. */
int listener_open(const struct cfg_addr *a, char *err, size_t errlen);
/* worker_policy's verdict on whether worker <w> listens on <a>, and its note that it did. */
int listener_wanted(int w, const struct cfg_addr *a);
void listener_opened(int w, int fd, const struct cfg_addr *a);
/* Start accepting on the worker's listeners (worker's base). Returns 0 or -errno. */
int listener_start(struct og_worker_priv *p);
/* Resume accepting after a pause for lack of descriptors (worker tick). */
void listener_resume(struct og_worker_priv *p);
/* Accept what is queued on every listener, then close them: connections the kernel had
 * already queued to this process are served, not reset. Worker thread. */
void listener_stop(struct og_worker_priv *p);
/* Reconcile the worker's listeners with <newc>'s listen set: keep identical addresses,
 * open added ones, close removed ones (what they had queued is accepted, and served from
 * the loop). Worker thread (on reload). */
void listener_reconcile(struct og_worker_priv *p, const struct config *newc);

#endif /* OG_LISTENER_H */
