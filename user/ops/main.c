// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ordergated: parse the command line, load the config, start workers, admin and lifecycle. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fdlimit.h"
#include "core/privdrop.h"
#include "ops/accesslog.h"
#include "ops/admin.h"
#include "ops/hooks.h"
#include "core/daemon.h"
#include "proxy/fault_ov.h"
#include "proxy/health.h"
#include "ops/lifecycle.h"
#include "lanes/klink.h"
#include "lib/log.h"
#include "lanes/idem_guard.h"
#include "core/runtime.h"
#include "core/worker.h"
#include "front/conn.h"
#include "proxy/upstream.h"
#include "lanes/ctrl.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ordergated [-c FILE] [-t] [-h] [-v]\n"
		"  -c FILE  run with the YAML config FILE (default: the embedded config:\n"
		"           listen :8080, /ping -> 200 pong, admin on 127.0.0.1:9901)\n"
		"  -t       check the config and exit: 0 \"FILE: ok\", 1 \"FILE:LINE:COL: why\"\n"
		"  -h       this help\n"
		"  -v       print the version\n"
		"signals: TERM/INT drain and exit 0, HUP reload the config, USR1 reopen the "
		"access log\n");
}

static struct config *load(const char *path, char *err, size_t errlen)
{
	if (path)
		return config_load_file(path, err, errlen);
	return config_load_string(config_default_yaml, strlen(config_default_yaml), "<embedded>",
				  err, errlen);
}

static int run(struct config *cfg)
{
	struct klink_opts ko;
	char err[512];
	struct og_rt *rt;
	sigset_t all, old;
	struct timespec ts;
	int r, kbpf;

	signal(SIGPIPE, SIG_IGN);
	og_d.fd_limit = fdlimit_raise();
	clock_gettime(CLOCK_REALTIME, &ts);
	og_d.start_wall_s = (uint64_t)ts.tv_sec;
	og_d.start_mono_ms = og_now_ms();
	rt = rt_new(cfg, NULL);
	if (rt && idem_guard_attach(rt, NULL)) {
		rt_free(rt);
		rt = NULL;
	}
	if (!rt) {
		og_log("error", "event=start err=\"out of memory\"");
		return 1;
	}
	fault_ov_resolve(rt);
	rt_publish(rt);
	if (alog_configure(&cfg->access_log, err, sizeof(err))) {
		og_log("error", "event=start err=\"access_log: %s\"", err);
		return 1;
	}
	og_d.main_base = event_base_new();
	if (!og_d.main_base)
		return 1;
	lifecycle_enable_migrate();
	hooks_register();
	if (conn_register() || upstream_register()) {
		og_log("error", "event=start err=\"module registration\"");
		return 1;
	}
	/* the kernel link: options from the config's xdp:, lanes: and limits: sections */
	klink_opts_default(&ko);
	klink_opts_config(&ko, cfg);
	ko.n_workers = cfg->workers < 1		       ? 1
		       : cfg->workers > OG_MAX_WORKERS ? OG_MAX_WORKERS
						       : (int)cfg->workers;
	if (klink_prepare(&ko, err, sizeof(err))) {
		og_log("error", "event=start err=\"%s\"", err);
		return 1;
	}
	if (worker_create_all(rt, err, sizeof(err))) {
		og_log("error", "event=start err=\"%s\"", err);
		return 1;
	}
	if (klink_start(&ko, err, sizeof(err))) {
		og_log("error", "event=start err=\"xdp: %s\"", err);
		return 1;
	}
	klink_apply_config(cfg); /* and again after every reload (lifecycle.c) */
	og_d.conn_cap = fdlimit_conn_cap(og_d.fd_limit, og_d.n_workers);
	if (og_d.conn_cap < cfg->max_connections)
		og_log("info",
		       "event=fdlimit nofile=%llu conn_cap=%u per_worker max_connections=%u",
		       (unsigned long long)og_d.fd_limit, og_d.conn_cap, cfg->max_connections);
	if (admin_start(&og_d, err, sizeof(err))) {
		og_log("error", "event=start err=\"%s\"", err);
		return 1;
	}
	/* every listener, the admin socket and the log are open: root is no longer needed */
	kbpf = cfg->xdp.present || cfg->lanes.lane[OG_LANE_ORDER].reserve_workers > 0;
	if (privdrop(cfg->user, kbpf, err, sizeof(err))) {
		og_log("error", "event=start err=\"%s\"", err);
		return 1;
	}
	if (cfg->user)
		og_log("info", "event=privdrop user=%s uid=%d caps=net_bind_service%s", cfg->user,
		       (int)geteuid(), kbpf ? ",bpf" : "");
	/* Workers never see signals: the main loop owns them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = worker_start_all();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		og_log("error", "event=start err=\"pthread_create: %s\"", strerror(-r));
		return 1;
	}
	health_start(og_d.main_base, rt);
	/* the lane controller's fast loop (the kernel link runs its own slow loop on its writer
	 * thread, and klink_start handed the controller og_lane_stats with ctrl_attach_dp) */
	if (ctrl_start(og_d.main_base)) {
		og_log("error", "event=start err=\"controller: out of memory\"");
		return 1;
	}
	atomic_store(&og_d.ready, 1);
	og_log("info", "event=start version=%s pid=%d config=%s workers=%d listen=%s%s admin=%s",
	       OG_VERSION, (int)getpid(), cfg->source, og_d.n_workers,
	       cfg->n_listen ? cfg->listen[0].text : "-", cfg->n_listen > 1 ? ",..." : "",
	       cfg->admin_enabled ? cfg->admin.text : "off");
	r = lifecycle_run();
	worker_join_all();
	ctrl_stop();
	health_stop();
	admin_stop();
	klink_stop(); /* after admin: /flows reads through it */
	alog_stop();
	rt_collect(1);
	rt_free(atomic_exchange(&og_d.rt, NULL));
	og_log("info", "event=exit status=%d", r ? 1 : 0);
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int check = 0, opt;
	char err[512];
	struct config *cfg;

	while ((opt = getopt(argc, argv, "c:thv")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("ordergated %s\n", OG_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	cfg = load(path, err, sizeof(err));
	if (check) {
		if (!cfg) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("%s: ok\n", path ? path : "<embedded>");
		config_free(cfg);
		return 0;
	}
	if (!cfg) {
		og_log("error", "event=config err=\"%s\"", err);
		return 1;
	}
	og_d.config_path = path;
	return run(cfg);
}
