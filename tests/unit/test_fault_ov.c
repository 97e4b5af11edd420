// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Runtime fault overrides: bounds, TTL, names across reloads, two generations, no torn reads. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/daemon.h"
#include "proxy/fault_ov.h"
#include "../lib/og_test.h"

#define UPS	      "upstreams:\n  o: { servers: [\"127.0.0.1:9001\"] }\nroutes:\n"
#define R(name, path) "  - { name: " #name ", match: { path_prefix: " path " }, upstream: o }\n"
#define PING	      "  - { name: ping, match: { path: /ping }, respond: { body: pong } }\n"

static struct config *load(const char *y)
{
	char err[512] = "";
	struct config *c = config_load_string(y, strlen(y), "t.yaml", err, sizeof(err));

	if (!c) {
		fprintf(stderr, "config: %s\n", err);
		exit(1);
	}
	return c;
}

static int pos(const struct config *c, const char *name)
{
	for (int r = 0; r < c->n_routes; r++)
		if (!strcmp(c->routes[r].name, name))
			return r;
	return -1;
}

static struct cfg_fault F(uint32_t d, uint32_t j, uint32_t dp, uint32_t st, uint32_t ap) {
	return (struct cfg_fault){d, j, dp, st, ap};
}

static int
set(const char *name, struct cfg_fault f, uint64_t ttl, uint64_t now, char *err)
{
	err[0] = 0;
	return fault_ov_set(name, &f, ttl, now, err, 256);
}

/* 1 when the override of <name> in <rt> at <now> is abort_percent <ap> (0: none at all). */
static int shows(const struct og_rt *rt, const char *name, uint64_t now, uint32_t ap)
{
	struct cfg_fault o;
	int r = fault_ov_get(rt->gen, pos(rt->cfg, name), now, &o);

	return ap ? r == 1 && o.abort_percent == ap : r == 0;
}

static void quiet(int on)
{
	static int saved = -1;

	if (on) {
		int nul = open("/dev/null", O_WRONLY);

		saved = dup(2);
		dup2(nul, 2);
		close(nul);
	} else if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
}

static void test_bounds(struct og_rt *g1)
{
	char err[256];
	struct cfg_fault o;
	int r;

	OK(set("a", F(0, 0, 0, 503, 50), 1000, 0, err) == -EINVAL && strstr(err, "no config"),
	   "before any generation: refused (%s)", err);
	fault_ov_resolve(g1);
	OK(set("nope", F(0, 0, 0, 503, 50), 1000, 0, err) == -EINVAL &&
	       strstr(err, "unknown route \"nope\""),
	   "unknown route named in the error (%s)", err);
	OK(set("ping", F(0, 0, 0, 503, 50), 1000, 0, err) == -EINVAL &&
	       strstr(err, "upstream routes only"),
	   "a respond route is refused (%s)", err);
	OK(set("a", F(100, 101, 100, 503, 0), 1000, 0, err) == -EINVAL && strstr(err, "exceed"),
	   "jitter above the delay is refused (%s)", err);
	OK(set("a", F(600001, 0, 100, 503, 0), 1000, 0, err) == -EINVAL,
	   "delay above 600000 ms is refused (%s)", err);
	OK(set("a", F(0, 0, 0, 503, 101), 1000, 0, err) == -EINVAL,
	   "abort_percent 101 refused (%s)", err);
	OK(set("a", F(0, 0, 0, 199, 10), 1000, 0, err) == -EINVAL && strstr(err, "200..599"),
	   "abort_status 199 refused (%s)", err);
	OK(set("a", F(0, 0, 0, 503, 10), 3600001, 0, err) == -EINVAL && strstr(err, "ttl_ms"),
	   "ttl above an hour refused (%s)", err);
	OK(set("", F(0, 0, 0, 503, 10), 1000, 0, err) == -EINVAL, "empty route name refused");
	OK(set("a", F(0, 0, 0, 0, 0), 0, 0, err) == 0, "ttl_ms 0 with nothing to remove: fine");
	OK_EQ(atomic_load(&fault_ov_live), 0, "nothing refused was stored");
	OK(fault_ov_get(g1->gen, pos(g1->cfg, "a"), 0, &o) == 0, "no override: get says none");

	OK(set("a", F(600000, 600000, 100, 599, 100), 1000, 0, err) == 0, "largest values: %s",
	   err);
	memset(&o, 0, sizeof(o));
	r = fault_ov_get(g1->gen, pos(g1->cfg, "a"), 10, &o);
	OK(r == 1 && o.delay_ms == 600000 && o.delay_jitter_ms == 600000 &&
	       o.delay_percent == 100 && o.abort_status == 599 && o.abort_percent == 100,
	   "... read back whole (%u %u %u %u %u)", o.delay_ms, o.delay_jitter_ms, o.delay_percent,
	   o.abort_status, o.abort_percent);
	OK(set("a", F(0, 0, 100, 503, 0), 1000, 0, err) == 0 &&
	       fault_ov_get(g1->gen, pos(g1->cfg, "a"), 10, &o) == 1 && o.delay_percent == 0,
	   "no delay: delay_percent 0, like the config");
	OK_EQ(atomic_load(&fault_ov_live), 1, "one override live (replaced, not added)");
	OK(fault_ov_get(g1->gen, pos(g1->cfg, "b"), 10, &o) == 0, "route b has none");
	OK(fault_ov_get(g1->gen + 7, pos(g1->cfg, "a"), 10, &o) == 0,
	   "a generation the tables do not hold sees none");
	OK(fault_ov_get(g1->gen, pos(g1->cfg, "a"), 999, &o) == 1, "1 ms before the TTL: on");
	OK(fault_ov_get(g1->gen, pos(g1->cfg, "a"), 1000, &o) == 0, "at the TTL: off (lapsed)");
	fault_ov_sweep(999);
	OK_EQ(atomic_load(&fault_ov_live), 1, "sweep before the TTL keeps it");
	fault_ov_sweep(1000);
	OK_EQ(atomic_load(&fault_ov_live), 0,
	      "sweep at the TTL drops it: the hot path reads nothing");
}

static void test_reload(struct og_rt *g1, struct og_rt *g2, struct og_rt *g3, struct og_rt *g4)
{
	char err[256];
	uint64_t ttl = 0;
	struct cfg_fault o;
	struct og_rt g5 = {.gen = 5};
	int r;

	OK(set("a", F(0, 0, 0, 503, 30), 60000, 0, err) == 0, "override a 30 %% (%s)", err);
	OK(shows(g1, "a", 1, 30) && shows(g1, "b", 1, 0), "gen 1: a has it, b not");
	fault_ov_resolve(g2); /* reload: routes reordered, a moved */
	OK(pos(g1->cfg, "a") != pos(g2->cfg, "a"), "gen 2 moved route a (%d -> %d)",
	   pos(g1->cfg, "a"), pos(g2->cfg, "a"));
	OK(shows(g2, "a", 1, 30), "gen 2: the override follows the name to its new position");
	OK(shows(g2, "b", 1, 0) && shows(g2, "new", 1, 0), "gen 2: b and the new route have none");
	OK(shows(g1, "a", 1, 30),
	   "gen 1 (requests before their worker adopts gen 2) still sees it");
	OK(set("a", F(0, 0, 0, 503, 40), 60000, 0, err) == 0 && shows(g1, "a", 1, 40) &&
	       shows(g2, "a", 1, 40),
	   "a change reaches both generations' tables");
	OK(set("b", F(0, 0, 0, 503, 20), 60000, 0, err) == 0 && shows(g2, "b", 1, 20),
	   "a new override shows in the newest generation");
	fault_ov_resolve(g3);
	OK(shows(g3, "a", 1, 40) && shows(g3, "b", 1, 20), "gen 3 resolves both");
	OK(shows(g2, "a", 1, 40), "gen 2 stays readable beside gen 3");
	OK(shows(g1, "a", 1, 40), "gen 1 too (four generations are kept)");
	g5.cfg = g3->cfg;
	fault_ov_resolve(&g5);
	OK(shows(g1, "a", 1, 0) && shows(&g5, "a", 1, 40),
	   "gen 1 is gone once four newer ones exist (gen 5 took its table)");
	r = fault_ov_peek("a", 100, &o, &ttl);
	OK(r == 1 && o.abort_percent == 40 && ttl == 59900, "peek: values and remaining ttl (%llu)",
	   (unsigned long long)ttl);
	OK(set("a", F(0, 0, 0, 0, 0), 0, 0, err) == 0 && shows(g3, "a", 1, 0) &&
	       shows(g2, "a", 1, 0),
	   "ttl_ms 0 removes it from every table");
	OK_EQ(atomic_load(&fault_ov_live), 1, "b remains");
	OK(fault_ov_peek("a", 100, &o, &ttl) == 0, "peek: a has none");
	fault_ov_resolve(g4); /* a reload drops route b */
	OK(set("b", F(0, 0, 0, 503, 5), 60000, 0, err) == -EINVAL && strstr(err, "unknown route"),
	   "a route the newest generation dropped cannot get an override (%s)", err);
	OK(set("b", F(0, 0, 0, 0, 0), 0, 0, err) == 0, "... but its override can be removed (%s)",
	   err);
	OK_EQ(atomic_load(&fault_ov_live), 0, "none left");
}

static void test_full(void)
{
	char y[16384], err[256], name[16];
	size_t n = snprintf(y, sizeof(y), UPS);
	struct og_rt g = {.gen = 100};
	int i, r = 0;

	for (i = 0; i <= FAULT_OV_MAX; i++)
		n += snprintf(y + n, sizeof(y) - n,
			      "  - { name: r%d, match: { path: /r%d }, "
			      "upstream: o }\n",
			      i, i);
	g.cfg = load(y);
	fault_ov_resolve(&g);
	quiet(1);
	for (i = 0; i < FAULT_OV_MAX && !r; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		r = set(name, F(0, 0, 0, 503, 1), 60000, 0, err);
	}
	r = r ? r : set("r64", F(0, 0, 0, 503, 1), 60000, 0, err);
	quiet(0);
	OK(r == -ENOSPC && strstr(err, "at most"), "override %d refused: %s", FAULT_OV_MAX + 1,
	   err);
	quiet(1);
	for (i = 0; i < FAULT_OV_MAX; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		set(name, F(0, 0, 0, 0, 0), 0, 0, err);
	}
	quiet(0);
	OK_EQ(atomic_load(&fault_ov_live), 0, "all removed");
	config_free(g.cfg);
}

/* A writer flips route a between "30 % for long" and "70 %, already lapsed" while a reader
 * reads: a torn read would pair the 70 % record with the long TTL and show 70. */
static struct og_rt *stress_rt;
static _Atomic int stop;

static void *writer(void *arg)
{
	char err[256];

	for (int i = 0; i < 50000 && !atomic_load(&stop); i++) {
		set("a", F(0, 0, 0, 503, 30), 1000000, 0, err);
		set("a", F(0, 0, 0, 503, 70), 10, 0, err);
		if (!(i % 1000))
			fault_ov_resolve(stress_rt); /* generations move too */
	}
	atomic_store(&stop, 1);
	return NULL;
}

static void test_torn(struct og_rt *g)
{
	pthread_t th;
	long n = 0, on = 0, torn = 0;
	struct cfg_fault o;

	stress_rt = g;
	fault_ov_resolve(g);
	quiet(1);
	pthread_create(&th, NULL, writer, NULL);
	while (!atomic_load(&stop)) {
		/* the generation is resolved into alternating tables: one of them always holds it
		 */
		if (fault_ov_get(g->gen, pos(g->cfg, "a"), 100, &o)) {
			on++;
			torn += o.abort_percent != 30;
		}
		n++;
	}
	pthread_join(th, NULL);
	quiet(0);
	og_diag("%ld reads, %ld saw the long override", n, on);
	OK(n > 1000 && on > 0, "the reader ran beside the writer (%ld reads, %ld on)", n, on);
	OK_EQ(torn, 0, "no torn read (record of one write, TTL of another)");
}

int main(void)
{
	struct og_rt g1 = {.gen = 1}, g2 = {.gen = 2}, g3 = {.gen = 3}, g4 = {.gen = 4};

	g1.cfg = load(UPS PING R(a, "/a") R(b, "/b"));
	g2.cfg = load(UPS R(new, "/n") PING R(b, "/b") R(a, "/a"));
	g3.cfg = load(UPS PING R(a, "/a") R(b, "/b"));
	g4.cfg = load(UPS PING R(a, "/a"));
	test_bounds(&g1);
	test_reload(&g1, &g2, &g3, &g4);
	test_full();
	g3.gen = 200;
	test_torn(&g3);
	config_free(g1.cfg);
	config_free(g2.cfg);
	config_free(g3.cfg);
	config_free(g4.cfg);
	return og_done();
}
