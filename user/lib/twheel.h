/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-worker hashed timer wheel: O(1) arm/disarm, lazy re-arm so a request costs one store. */
#ifndef OG_TWHEEL_H
#define OG_TWHEEL_H

#include <stdint.h>

#define TW_TICK_MS 16	/* resolution of every client/upstream timeout */
#define TW_SLOTS   1024 /* one round = 16.4 s; longer deadlines wait extra rounds */

struct og_timer;
typedef void (*og_timer_cb)(struct og_timer *t, uint64_t now_ms);

struct og_timer {
	struct og_timer *next;
	struct og_timer **pprev; /* NULL when not armed */
	uint64_t deadline_ms;	 /* CLOCK_MONOTONIC ms */
	og_timer_cb cb;
};

struct og_twheel {
	struct og_timer *slot[TW_SLOTS];
	uint64_t tick;	/* next tick to process */
	uint32_t armed; /* timers linked */
};

/* Empty wheel starting at <now_ms>. */
void tw_init(struct og_twheel *tw, uint64_t now_ms);
/*
 * Arm <t> to fire at <deadline_ms>. When <t> is armed already and the new deadline is
 * later, only the deadline is stored: the timer is re-slotted when its old slot comes up.
 */
void tw_arm(struct og_twheel *tw, struct og_timer *t, uint64_t deadline_ms);
/* Disarm <t>; fine when it is not armed. */
void tw_disarm(struct og_twheel *tw, struct og_timer *t);
/* Fire every timer whose deadline is <= <now_ms>. A callback may arm or disarm any timer. */
void tw_run(struct og_twheel *tw, uint64_t now_ms);

static inline int tw_armed(const struct og_timer *t)
{
	return t->pprev != 0;
}

#endif /* OG_TWHEEL_H */
