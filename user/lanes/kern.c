// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The kernel writer: attach or adopt the datapath, then apply queued pins and throttles. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lanes/kern.h"
#include "lanes/kq.h"
#include "lib/log.h"

#define KERN_QUEUE_DEF	4096
#define KERN_TICK_DEF	1000
#define KERN_RECOUNT_MS 1000 /* lapsed throttles stop costing og_xdp a lookup this soon */
#define KERN_BATCH	256  /* requests applied between clock reads */

static struct {
	_Atomic int running;
	struct kq q;
	struct dp_maps maps;
	struct kern_opts o;
	pthread_t thread;
	int efd;	      /* eventfd: wakes the writer */
	_Atomic int sleeping; /* writer is (about to be) in poll: a producer must wake it */
	_Atomic int stop;
	_Atomic uint64_t posted, full, done, applied, failed, recounts;
	_Atomic uint32_t live;
	int attached, adopted;
	char pin_dir[256];
	char ifname[16];
} K = {.efd = -1};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int kern_active(void)
{
	return atomic_load_explicit(&K.running, memory_order_acquire);
}

static int post(const struct kq_req *r)
{
	uint64_t one = 1;

	if (!kern_active())
		return -ENODEV;
	if (kq_push(&K.q, r)) {
		atomic_fetch_add_explicit(&K.full, 1, memory_order_relaxed);
		return -EAGAIN;
	}
	atomic_fetch_add_explicit(&K.posted, 1, memory_order_relaxed);
	/* Dekker with the writer's "sleeping, then look at the queue once more": our push
	 * is visible before we read <sleeping>, so one of the two sides sees the other. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&K.sleeping, memory_order_relaxed) &&
	    atomic_exchange_explicit(&K.sleeping, 0, memory_order_relaxed)) {
		/* an eventfd write does not block unless the counter is near 2^64 */
		if (write(K.efd, &one, sizeof(one)) < 0) {
			/* the writer's poll timeout picks the request up anyway */
		}
	}
	return 0;
}

int kern_pin(const struct og_flow_key *k, uint8_t lane)
{
	struct kq_req r = {.op = KQ_PIN, .lane = lane};

	if (lane == OG_LANE_NONE || lane >= OG_LANE_MAX)
		return -EINVAL;
	r.flow = *k;
	return post(&r);
}

int kern_unpin(const struct og_flow_key *k)
{
	struct kq_req r = {.op = KQ_UNPIN};

	r.flow = *k;
	return post(&r);
}

int kern_throttle(const struct og_addr_key *src, uint64_t pps, uint64_t burst, uint64_t ttl_ms)
{
	struct kq_req r = {.op = KQ_THROTTLE};

	if (!pps || pps > OG_TB_MAX_RATE || !burst || burst > OG_TB_MAX_RATE || !ttl_ms ||
	    ttl_ms > 86400000ULL)
		return -EINVAL;
	r.th.src = *src;
	r.th.pps = pps;
	r.th.burst = burst;
	r.th.ttl_ms = ttl_ms;
	return post(&r);
}

int kern_unthrottle(const struct og_addr_key *src)
{
	struct kq_req r = {.op = KQ_UNTHROTTLE};

	r.th.src = *src;
	return post(&r);
}

/* One side of a flow key: address words and port from <sa>; the family, or 0. */
static int key_side(const struct sockaddr *sa, __be32 addr[4], __be16 *port)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(addr, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)sa;

		addr[0] = a->sin_addr.s_addr;
		*port = a->sin_port;
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)sa;

		*port = a->sin6_port;
		if (!memcmp(a->sin6_addr.s6_addr, mapped, sizeof(mapped))) {
			memcpy(addr, a->sin6_addr.s6_addr + 12, 4);
			return AF_INET;
		}
		memcpy(addr, a->sin6_addr.s6_addr, 16);
		return AF_INET6;
	}
	return 0;
}

int kern_flow_key(const struct sockaddr *peer, const struct sockaddr *local, struct og_flow_key *k)
{
	int f1, f2;

	memset(k, 0, sizeof(*k));
	f1 = key_side(peer, k->saddr, &k->sport);
	f2 = key_side(local, k->daddr, &k->dport);
	if (!f1 || f1 != f2)
		return -EAFNOSUPPORT;
	k->family = (__u8)f1;
	k->proto = IPPROTO_TCP;
	return 0;
}

static void log_fail(const struct kq_req *r, int ret)
{
	static const char *const names[] = {"?", "pin", "unpin", "throttle", "unthrottle"};
	char a[64];

	if (r->op == KQ_PIN || r->op == KQ_UNPIN)
		dp_addr_str(r->flow.family, r->flow.saddr, a, sizeof(a));
	else
		dp_addr_str(r->th.src.family, r->th.src.addr, a, sizeof(a));
	og_log("warn", "event=kern_write op=%s src=%s err=\"%s\"", names[r->op < 5 ? r->op : 0], a,
	       strerror(-ret));
}

/* Apply one request; returns 1 when og_throttle changed (a recount is due). */
static int apply(const struct kq_req *r)
{
	int ret = -EINVAL, th = 0;

	switch (r->op) {
	case KQ_PIN:
		ret = dp_flow_pin_set(&K.maps, &r->flow, r->lane);
		break;
	case KQ_UNPIN:
		ret = dp_flow_pin_clear(&K.maps, &r->flow);
		if (ret == -ENOENT)
			ret = 0; /* evicted from the LRU, or never written: nothing to undo */
		break;
	case KQ_THROTTLE:
		ret = dp_throttle_put(&K.maps, &r->th.src, r->th.pps, r->th.burst,
				      r->th.ttl_ms * 1000000ULL);
		th = 1;
		break;
	case KQ_UNTHROTTLE:
		ret = dp_throttle_del(&K.maps, &r->th.src);
		if (ret == -ENOENT)
			ret = 0;
		th = 1;
		break;
	}
	if (ret) {
		atomic_fetch_add_explicit(&K.failed, 1, memory_order_relaxed);
		log_fail(r, ret);
	} else {
		atomic_fetch_add_explicit(&K.applied, 1, memory_order_relaxed);
	}
	return th;
}

static void recount(void)
{
	__u32 live = 0;
	int ret = dp_throttle_recount(&K.maps, &live);

	if (ret)
		og_log("warn", "event=kern_recount err=\"%s\"", strerror(-ret));
	atomic_store_explicit(&K.live, live, memory_order_relaxed);
	atomic_fetch_add_explicit(&K.recounts, 1, memory_order_relaxed);
}

static int drain(int *th)
{
	struct kq_req r;
	int n = 0;

	while (n < KERN_BATCH && kq_pop(&K.q, &r)) {
		*th |= apply(&r);
		n++;
	}
	return n;
}

/*
 * Drain, recount when og_throttle changed (before the batch counts as done, so
 * kern_flush returns with og_config current), run the tick when due, then sleep in
 * poll until a producer wakes us or the next tick or recount is due.
 */
static void *writer_main(void *arg)
{
	uint32_t tick_ms = K.o.tick_ms ? K.o.tick_ms : KERN_TICK_DEF;
	uint64_t now = mono_ms(), next_tick = now + tick_ms, next_recount = now + KERN_RECOUNT_MS;
	struct pollfd pfd = {.fd = K.efd, .events = POLLIN};
	uint64_t v, due;

	(void)arg;
	for (;;) {
		int stop = atomic_load(&K.stop), th = 0, n = drain(&th);

		now = mono_ms();
		if (th || now >= next_recount) {
			recount();
			next_recount = now + KERN_RECOUNT_MS;
		}
		if (n)
			atomic_fetch_add_explicit(&K.done, (uint64_t)n, memory_order_release);
		if (n == KERN_BATCH)
			continue;
		if (stop)
			break;
		if (K.o.tick && now >= next_tick) {
			K.o.tick(&K.maps, now, K.o.tick_ctx);
			next_tick = now + tick_ms;
			continue; /* apply what the tick queued before sleeping */
		}
		atomic_store_explicit(&K.sleeping, 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		if (kq_ready(&K.q)) {
			atomic_store(&K.sleeping, 0);
			continue;
		}
		due = next_recount;
		if (K.o.tick && next_tick < due)
			due = next_tick;
		if (poll(&pfd, 1, due > now ? (int)(due - now) : 1) > 0 &&
		    read(K.efd, &v, sizeof(v)) < 0) {
			/* another wake drained it: nothing to do */
		}
		atomic_store(&K.sleeping, 0);
	}
	return NULL;
}

/* Attach og_xdp and the TC programs to <ifname>, or adopt them when they already run
 * there: a running datapath (ours from ordergatectl, or a previous daemon) is left
 * exactly as it is, and the pin dir comes from its state file. */
static int attach_or_adopt(const struct kern_opts *o, char *err, size_t errlen)
{
	struct dp_opts dopt = {.pin_dir = o->pin_dir, .mode = o->mode, .flows = o->flows};
	struct dp_live lv = {0};
	struct dp_state st;
	int ifindex, ret;

	ifindex = dp_ifindex(o->ifname, err, errlen);
	if (ifindex < 0)
		return ifindex;
	ret = dp_live_query(ifindex, &lv);
	if (!ret && lv.xdp_attached && lv.tc_in && lv.tc_out) {
		K.adopted = 1;
		if (!o->pin_dir && dp_state_read(o->ifname, &st) == 0 && st.pin_dir[0])
			snprintf(K.pin_dir, sizeof(K.pin_dir), "%s", st.pin_dir);
		og_log("info", "event=kern_adopt ifname=%s xdp_prog_id=%u pin_dir=%s", o->ifname,
		       lv.xdp_prog_id, K.pin_dir);
		return 0;
	}
	dp_quiet_libs(false);
	ret = dp_attach(o->ifname, &dopt, &st, err, errlen);
	if (ret)
		return ret;
	K.attached = 1;
	snprintf(K.pin_dir, sizeof(K.pin_dir), "%s", st.pin_dir[0] ? st.pin_dir : K.pin_dir);
	og_log("info", "event=kern_attach ifname=%s mode=%s xdp=%s pin_dir=%s", o->ifname,
	       st.mode == DP_XDP_GENERIC ? "generic" : "native",
	       st.multiprog ? "dispatcher" : "legacy", K.pin_dir);
	return 0;
}

static int maps_dup(const struct dp_maps *src, char *err, size_t errlen)
{
	memset(&K.maps, 0, sizeof(K.maps));
	K.maps.cfg_lock = -1;
	K.maps.ncpus = src->ncpus;
	for (int i = 0; i < DP_MAP_COUNT; i++) {
		K.maps.fd[i] = src->fd[i] >= 0 ? dup(src->fd[i]) : -1;
		if (src->fd[i] >= 0 && K.maps.fd[i] < 0) {
			snprintf(err, errlen, "dup: %s", strerror(errno));
			dp_maps_close(&K.maps);
			return -errno;
		}
	}
	return dp_maps_mmap(&K.maps, err, errlen);
}

int kern_start(const struct kern_opts *o, char *err, size_t errlen)
{
	sigset_t all, old;
	int ret;

	if (kern_active())
		return -EALREADY;
	K.o = *o;
	K.attached = K.adopted = 0;
	snprintf(K.pin_dir, sizeof(K.pin_dir), "%s", o->pin_dir ? o->pin_dir : OG_PIN_DIR);
	snprintf(K.ifname, sizeof(K.ifname), "%s", o->ifname ? o->ifname : "");
	if (o->maps) {
		ret = maps_dup(o->maps, err, errlen);
		if (ret)
			return ret;
		snprintf(K.pin_dir, sizeof(K.pin_dir), "(unpinned)");
	} else {
		if (o->ifname && o->ifname[0]) {
			ret = attach_or_adopt(o, err, errlen);
			if (ret)
				return ret;
		}
		ret = dp_maps_open(&K.maps, K.pin_dir, err, errlen);
		if (ret)
			return ret;
		/* the writer keeps og_config's lock open: after a privilege drop it could
		 * not open the root-owned file again, and its writes would go unlocked */
		ret = dp_config_lock_keep(&K.maps);
		if (ret)
			og_log("warn", "event=kern_lock err=\"og_config lock: %s\"",
			       strerror(-ret));
	}
	ret = kq_init(&K.q, o->queue ? o->queue : KERN_QUEUE_DEF);
	K.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ret || K.efd < 0) {
		snprintf(err, errlen, "kern: out of memory or descriptors");
		ret = ret ? ret : -errno;
		goto fail;
	}
	atomic_store(&K.stop, 0);
	atomic_store(&K.sleeping, 0);
	atomic_store_explicit(&K.running, 1, memory_order_release);
	/* signals belong to the main thread's loop */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = -pthread_create(&K.thread, NULL, writer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		atomic_store(&K.running, 0);
		snprintf(err, errlen, "kern: thread: %s", strerror(-ret));
		goto fail;
	}
	pthread_setname_np(K.thread, "og-kern");
	return 0;
fail:
	kq_free(&K.q);
	if (K.efd >= 0)
		close(K.efd);
	K.efd = -1;
	dp_maps_close(&K.maps);
	return ret;
}

void kern_stop(void)
{
	uint64_t one = 1;

	if (!kern_active())
		return;
	/* later posts get -ENODEV; what is queued is applied before the thread ends */
	atomic_store_explicit(&K.running, 0, memory_order_release);
	atomic_store(&K.stop, 1);
	if (write(K.efd, &one, sizeof(one)) < 0) {
		/* the poll timeout ends the wait */
	}
	pthread_join(K.thread, NULL);
	kq_free(&K.q);
	close(K.efd);
	K.efd = -1;
	dp_maps_close(&K.maps);
}

int kern_flush(int timeout_ms)
{
	uint64_t want = atomic_load(&K.posted), end = mono_ms() + (uint64_t)timeout_ms;

	while (atomic_load_explicit(&K.done, memory_order_acquire) < want) {
		if (!kern_active() || mono_ms() >= end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

void kern_stats_read(struct kern_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->posted = atomic_load_explicit(&K.posted, memory_order_relaxed);
	s->full = atomic_load_explicit(&K.full, memory_order_relaxed);
	s->applied = atomic_load_explicit(&K.applied, memory_order_relaxed);
	s->failed = atomic_load_explicit(&K.failed, memory_order_relaxed);
	s->recounts = atomic_load_explicit(&K.recounts, memory_order_relaxed);
	s->throttles_live = atomic_load_explicit(&K.live, memory_order_relaxed);
	s->running = kern_active();
	s->attached = K.attached;
	s->adopted = K.adopted;
	snprintf(s->pin_dir, sizeof(s->pin_dir), "%s", K.pin_dir);
	snprintf(s->ifname, sizeof(s->ifname), "%s", K.ifname);
}
