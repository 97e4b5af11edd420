/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Idempotency-Key on proxied routes: claim, replay, 409 while in flight, capture the answer. */
#ifndef OG_IDEM_GUARD_H
#define OG_IDEM_GUARD_H

#include "core/daemon.h"

/*
 * Give each route of <rt> with an `idempotency:` section its table: the table of the route
 * with the same name in <prev> (may be NULL) when its sizes are the same, so keys survive a
 * reload, else a new one. Also installs the proxy guard (first call) and rt->ext_free.
 * Returns 0 or -ENOMEM. Main thread, before <rt> is published.
 */
int idem_guard_attach(struct og_rt *rt, const struct og_rt *prev);

#endif /* OG_IDEM_GUARD_H */
