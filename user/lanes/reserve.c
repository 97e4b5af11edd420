// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reserved order workers: listener placement, og_reuseport steering, nice for the others. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "og.skel.h"
#include "lanes/reserve.h"
#include "lib/log.h"

#ifndef SO_ATTACH_REUSEPORT_EBPF
#define SO_ATTACH_REUSEPORT_EBPF 52
#endif

#define RP_GROUP_SLOTS 64 /* og_rp_socks slots per listening address: OG_MAX_WORKERS */

static struct {
	struct reserve_opts o;
	uint16_t ports[64];
	struct og_bpf *skel; /* only og_reuseport and the og_rp_* maps are loaded */
	pthread_mutex_t mu;  /* group allocation: reloads open listeners on worker threads */
	struct og_rp_key groups[OG_RP_MAX_SOCKS / RP_GROUP_SLOTS];
	int n_groups;
	uint32_t sockets, attach_failed;
} R = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int port_of(const struct sockaddr *sa, uint8_t *family)
{
	*family = sa->sa_family;
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return -1;
}

static int is_order_port(int port)
{
	for (int i = 0; i < R.o.n_order_ports; i++)
		if (R.ports[i] == port)
			return 1;
	return 0;
}

int reserve_is_order_worker(int w)
{
	return (uint32_t)w < R.o.n_reserved;
}

int reserve_wants(int w, const struct sockaddr *sa)
{
	uint8_t fam;
	int port = port_of(sa, &fam);

	if (!R.o.n_reserved || port < 0 || !is_order_port(port))
		return 1;
	return reserve_is_order_worker(w);
}

/* Load only og_reuseport and its three maps from the one skeleton: the datapath's maps
 * are pinned by name and belong to the attach, not to this process. */
static int load_prog(char *err, size_t errlen)
{
	struct bpf_program *p;
	struct bpf_map *m;
	int ret;

	R.skel = og_bpf__open();
	if (!R.skel) {
		snprintf(err, errlen, "og_reuseport: open: %s", strerror(errno));
		return -errno;
	}
	bpf_object__for_each_program(p, R.skel->obj)
	    bpf_program__set_autoload(p, p == R.skel->progs.og_reuseport);
	bpf_object__for_each_map(m, R.skel->obj)
	{
		const char *n = bpf_map__name(m);

		bpf_map__set_pin_path(m, NULL);
		if (!strchr(n, '.') && strncmp(n, "og_rp_", 6))
			bpf_map__set_autocreate(m, false);
	}
	ret = og_bpf__load(R.skel);
	if (ret) {
		snprintf(err, errlen, "og_reuseport: load: %s", strerror(-ret));
		og_bpf__destroy(R.skel);
		R.skel = NULL;
		return ret;
	}
	return 0;
}

int reserve_setup(const struct reserve_opts *o, char *err, size_t errlen)
{
	int fd, ret;

	R.o = *o;
	if (R.o.n_order_ports > (int)(sizeof(R.ports) / sizeof(R.ports[0])))
		R.o.n_order_ports = sizeof(R.ports) / sizeof(R.ports[0]);
	if (R.o.n_order_ports > 0)
		memcpy(R.ports, o->order_ports, sizeof(uint16_t) * R.o.n_order_ports);
	R.o.order_ports = R.ports;
	if (R.o.n_reserved && (int)R.o.n_reserved >= o->n_workers) {
		/* every worker reserved would leave nobody for the rest: keep one */
		R.o.n_reserved = o->n_workers > 1 ? o->n_workers - 1 : 0;
		og_log("warn", "event=reserve_workers want=%u workers=%d reserved=%u",
		       o->n_reserved, o->n_workers, R.o.n_reserved);
	}
	if (!R.o.n_reserved || !o->n_order_src)
		return 0;
	ret = load_prog(err, errlen);
	if (ret) {
		/* without BPF (no CAP_BPF) the order ports and nice still work: say so, go on */
		og_log("warn", "event=reuseport err=\"%s\" steering=off", err);
		err[0] = 0;
		return 0;
	}
	fd = bpf_map__fd(R.skel->maps.og_rp_src);
	for (int i = 0; i < o->n_order_src; i++) {
		struct og_lane_val v = {.lane = OG_LANE_ORDER};
		struct og_lpm_key k;
		char buf[64];

		dp_prefix_to_lpm(&o->order_src[i], &k);
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) {
			ret = -errno;
			snprintf(err, errlen, "og_reuseport: source %s: %s",
				 dp_prefix_str(&o->order_src[i], buf, sizeof(buf)),
				 strerror(errno));
			reserve_teardown();
			return ret;
		}
	}
	return 0;
}

void reserve_teardown(void)
{
	if (R.skel)
		og_bpf__destroy(R.skel);
	R.skel = NULL;
	R.n_groups = 0;
}

/* Index of the group for (port, family), allocated and described on first use. */
static int group_of(const struct og_rp_key *k, int *fresh)
{
	struct og_rp_group g = {0};
	int i;

	*fresh = 0;
	for (i = 0; i < R.n_groups; i++)
		if (!memcmp(&R.groups[i], k, sizeof(*k)))
			return i;
	if (R.n_groups == (int)(sizeof(R.groups) / sizeof(R.groups[0])))
		return -ENOSPC;
	g.base = (uint32_t)R.n_groups * RP_GROUP_SLOTS;
	g.n_order = R.o.n_reserved;
	g.n_other = (uint32_t)R.o.n_workers - R.o.n_reserved;
	if (bpf_map_update_elem(bpf_map__fd(R.skel->maps.og_rp_groups), k, &g, BPF_ANY))
		return -errno;
	R.groups[R.n_groups] = *k;
	*fresh = 1;
	return R.n_groups++;
}

void reserve_opened(int w, int fd, const struct sockaddr *sa)
{
	struct og_rp_key k = {0};
	uint64_t v = (uint64_t)fd;
	int port, gi, fresh, pfd;
	uint32_t slot;

	if (!R.skel || w < 0 || w >= RP_GROUP_SLOTS)
		return;
	port = port_of(sa, &k.family);
	if (port < 0 || is_order_port(port))
		return; /* order ports already have only order workers */
	k.port = (uint16_t)port;
	pthread_mutex_lock(&R.mu);
	gi = group_of(&k, &fresh);
	if (gi < 0) {
		R.attach_failed++;
		pthread_mutex_unlock(&R.mu);
		og_log("warn", "event=reuseport port=%d err=\"%s\"", port, strerror(-gi));
		return;
	}
	/* order workers first, then the others: the layout og_rp_group describes */
	slot = (uint32_t)gi * RP_GROUP_SLOTS + (uint32_t)w;
	if (bpf_map_update_elem(bpf_map__fd(R.skel->maps.og_rp_socks), &slot, &v, BPF_ANY)) {
		R.attach_failed++;
		og_log("warn", "event=reuseport port=%d worker=%d err=\"sockarray: %s\"", port, w,
		       strerror(errno));
	} else {
		R.sockets++;
	}
	/* the program belongs to the group: attaching it through any one member is enough;
	 * a reload's new socket on an existing group inherits it */
	pfd = bpf_program__fd(R.skel->progs.og_reuseport);
	if (fresh && setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &pfd, sizeof(pfd)) < 0) {
		R.attach_failed++;
		og_log("warn", "event=reuseport port=%d err=\"attach: %s\"", port, strerror(errno));
	}
	pthread_mutex_unlock(&R.mu);
}

void reserve_thread_start(int w)
{
	if (!R.o.n_reserved || !R.o.nice || reserve_is_order_worker(w))
		return;
	/* per thread: on Linux PRIO_PROCESS with a TID sets that thread's nice; raising it
	 * needs no privilege */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), R.o.nice) < 0)
		og_log("warn", "event=nice worker=%d nice=%d err=\"%s\"", w, R.o.nice,
		       strerror(errno));
}

void reserve_stats_read(struct reserve_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->n_reserved = R.o.n_reserved;
	s->groups = (uint32_t)R.n_groups;
	s->sockets = R.sockets;
	s->attach_failed = R.attach_failed;
	s->prog_loaded = R.skel != NULL;
	s->nice = R.o.nice;
}
