/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Config generations: build the derived runtime of a config, publish it, retire old ones. */
#ifndef OG_RUNTIME_H
#define OG_RUNTIME_H

#include "core/daemon.h"

/*
 * Build the runtime for <cfg> (takes ownership of it): precomputed direct responses and
 * server state. Server health/breaker state is carried over from <prev> (may be NULL)
 * for servers with the same upstream name and address. Returns NULL on ENOMEM.
 */
struct og_rt *rt_new(struct config *cfg, const struct og_rt *prev);
/* Free <rt> and its config. Only once no worker references it. */
void rt_free(struct og_rt *rt);
/* Publish <rt> as current; the previous one is queued for rt_collect. Main thread. */
void rt_publish(struct og_rt *rt);
/* Free retired runtimes no worker references any more. Main thread; <all> at exit. */
void rt_collect(int all);

#endif /* OG_RUNTIME_H */
