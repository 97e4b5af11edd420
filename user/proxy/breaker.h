/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Circuit breaker per upstream server: closed -> open after N failures -> half-open probe. */
#ifndef OG_BREAKER_H
#define OG_BREAKER_H

#include <stdint.h>

#include "config/config.h"
#include "core/daemon.h"

/*
 * May a request go to <s> at <now_ms>? Closed: yes. Open: no until open_until_ms, then
 * one probe. With <take_probe>, an open breaker past its time becomes half-open and this
 * caller owns the single probe; without it the call only asks. Lock-free (CAS), any worker.
 */
int breaker_allows(struct og_server *s, uint64_t now_ms, int take_probe);
/* A request to <s> succeeded: a half-open breaker closes; the failure streak resets. */
void breaker_success(struct og_server *s);
/* A request to <s> failed (transport error, timeout, a status in b->statuses): counts toward
 * <b>'s threshold; a failed half-open probe reopens the breaker for open_ms. With <may_open>
 * 0 (<s> is the last usable server of its pool) the breaker never opens: the streak resets
 * and a half-open breaker closes. */
void breaker_failure(struct og_server *s, const struct cfg_breaker *b, uint64_t now_ms,
		     int may_open);

#endif /* OG_BREAKER_H */
