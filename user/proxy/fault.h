/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Fault injection per route (like Envoy's fault filter): delay or abort before the upstream. */
#ifndef OG_FAULT_H
#define OG_FAULT_H

#include <stdatomic.h>
#include <stdint.h>

#include "config/config.h"

/* What fault_pick decided for one request. */
struct fault_choice {
	uint32_t delay_ms;     /* 0 = no delay */
	uint32_t abort_status; /* 0 = no abort */
};

/*
 * Draw the faults of route config <f> for one request: abort with abort_percent, else
 * delay with delay_percent, the delay uniform in delay_ms +- delay_jitter_ms. Per-thread
 * generator, no lock. Worker thread.
 */
struct fault_choice fault_pick(const struct cfg_fault *f);

/* Injected faults per route index (CFG_MAX_ROUTES: out of range), all workers; relaxed. */
struct fault_counts {
	_Atomic uint64_t delays[CFG_MAX_ROUTES + 1];
	_Atomic uint64_t delay_ms[CFG_MAX_ROUTES + 1]; /* sum of the delays drawn */
	_Atomic uint64_t aborts[CFG_MAX_ROUTES + 1];
};
extern struct fault_counts fault_counts;

/* Count <ch> for route <route>. Worker thread (faulted requests only). */
void fault_count(int route, const struct fault_choice *ch);

#endif /* OG_FAULT_H */
