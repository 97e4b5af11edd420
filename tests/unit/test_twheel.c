// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Timer wheel and buffer pool: deadlines fire on time, lazy re-arm, disarm, free lists reuse. */
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "../lib/og_test.h"
#include "lib/twheel.h"

struct rec {
	struct og_timer t;
	int fired;
	uint64_t at;
};

static void cb(struct og_timer *t, uint64_t now)
{
	struct rec *r = (struct rec *)t;

	r->fired++;
	r->at = now;
}

static void run_until(struct og_twheel *tw, uint64_t from, uint64_t to)
{
	for (uint64_t now = from; now <= to; now += 4)
		tw_run(tw, now);
}

int main(void)
{
	struct og_twheel tw;
	struct rec a = {.t.cb = cb}, b = {.t.cb = cb}, c = {.t.cb = cb}, d = {.t.cb = cb};
	uint64_t t0 = 1000000;

	tw_init(&tw, t0);
	tw_arm(&tw, &a.t, t0 + 100);
	tw_arm(&tw, &b.t, t0 + 100);
	tw_arm(&tw, &c.t, t0 + 40000); /* more than one wheel round */
	tw_arm(&tw, &d.t, t0 + 50);
	OK_EQ(tw.armed, 4, "four timers armed");
	tw_disarm(&tw, &d.t);
	OK(!tw_armed(&d.t), "disarmed timer is not armed");
	/* lazy re-arm: pushing b later only stores the deadline */
	tw_arm(&tw, &b.t, t0 + 500);
	run_until(&tw, t0, t0 + 99);
	OK(!a.fired && !b.fired, "nothing fires before its deadline");
	run_until(&tw, t0 + 100, t0 + 140);
	OK(a.fired == 1 && a.at >= t0 + 100 && a.at < t0 + 100 + 2 * TW_TICK_MS,
	   "a fires within two ticks of its deadline (at +%llu)", (unsigned long long)(a.at - t0));
	OK(!b.fired, "b, pushed later, did not fire at its old deadline");
	run_until(&tw, t0 + 140, t0 + 600);
	OK(b.fired == 1 && b.at >= t0 + 500, "b fires at its new deadline");
	OK(!d.fired, "the disarmed timer never fires");
	OK(!c.fired, "c (beyond one round) has not fired early");
	run_until(&tw, t0 + 600, t0 + 40100);
	OK(c.fired == 1 && c.at >= t0 + 40000, "c fires after more than a wheel round");
	/* an earlier deadline than the armed one re-links the timer */
	tw_arm(&tw, &a.t, t0 + 60000);
	tw_arm(&tw, &a.t, t0 + 40200);
	run_until(&tw, t0 + 40100, t0 + 40300);
	OK_EQ(a.fired, 2, "moving a deadline earlier takes effect");
	/* a long stall: every overdue timer fires in one run */
	tw_arm(&tw, &b.t, t0 + 40400);
	tw_run(&tw, t0 + 200000);
	OK_EQ(b.fired, 2, "overdue timer fires after a long stall");
	OK_EQ(tw.armed, 0, "nothing left armed");

	struct og_bufpool bp;
	struct og_buf *x, *y;

	buf_pool_init(&bp);
	x = buf_get(&bp, 100);
	OK(x && x->cap == OG_BUF_SMALL_CAP, "small request gets a small buffer");
	buf_put(&bp, x);
	y = buf_get(&bp, 10);
	OK(y == x, "a returned buffer is reused (no malloc)");
	x = buf_get(&bp, OG_BUF_SMALL_CAP + 1);
	OK(x && x->cap == OG_BUF_LARGE_CAP, "large request gets a large buffer");
	memset(x->data, 1, x->cap);
	OK(buf_get(&bp, OG_BUF_LARGE_CAP + 1) == NULL, "beyond the large size: refused");
	buf_put(&bp, x);
	buf_put(&bp, y);
	OK_EQ(bp.live, 0, "every buffer accounted for");
	buf_pool_destroy(&bp);
	return og_done();
}
