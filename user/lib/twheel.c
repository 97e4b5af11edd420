// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Hashed timer wheel with lazy re-arm (timers re-slot themselves when they come up early). */
#include <stddef.h>
#include <string.h>

#include "lib/twheel.h"

void tw_init(struct og_twheel *tw, uint64_t now_ms)
{
	memset(tw->slot, 0, sizeof(tw->slot));
	tw->tick = now_ms / TW_TICK_MS;
	tw->armed = 0;
}

static void tw_link(struct og_twheel *tw, struct og_timer *t)
{
	uint64_t tk = t->deadline_ms / TW_TICK_MS;
	struct og_timer **head;

	if (tk < tw->tick)
		tk = tw->tick;
	head = &tw->slot[tk % TW_SLOTS];
	t->next = *head;
	if (*head)
		(*head)->pprev = &t->next;
	*head = t;
	t->pprev = head;
	tw->armed++;
}

void tw_disarm(struct og_twheel *tw, struct og_timer *t)
{
	if (!t->pprev)
		return;
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
	tw->armed--;
}

void tw_arm(struct og_twheel *tw, struct og_timer *t, uint64_t deadline_ms)
{
	if (t->pprev) {
		if (deadline_ms >= t->deadline_ms) {
			t->deadline_ms = deadline_ms; /* lazy: re-slotted when its slot comes up */
			return;
		}
		tw_disarm(tw, t);
	}
	t->deadline_ms = deadline_ms;
	tw_link(tw, t);
}

void tw_run(struct og_twheel *tw, uint64_t now_ms)
{
	uint64_t now_tick = now_ms / TW_TICK_MS;
	uint32_t n = 0;

	while (tw->tick <= now_tick && n++ < TW_SLOTS) {
		struct og_timer **head = &tw->slot[tw->tick % TW_SLOTS];
		struct og_timer *list = *head, *t;

		/* Detach the slot so timers re-linked into it wait for the next round. */
		*head = NULL;
		if (list)
			list->pprev = &list;
		tw->tick++;
		while ((t = list) != NULL) {
			list = t->next;
			if (list)
				list->pprev = &list;
			t->next = NULL;
			t->pprev = NULL;
			tw->armed--;
			if (t->deadline_ms <= now_ms)
				t->cb(t, now_ms);
			else
				tw_link(tw, t);
		}
	}
	if (tw->tick <= now_tick)
		tw->tick = now_tick + 1; /* fell a whole round behind: every slot was visited */
}
