// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Signals and reload on the main thread; workers learn of both through atomics, never locks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ops/accesslog.h"
#include "proxy/fault_ov.h"
#include "proxy/health.h"
#include "ops/lifecycle.h"
#include "lanes/klink.h"
#include "lib/log.h"
#include "lanes/idem_guard.h"
#include "core/runtime.h"
#include "core/worker.h"

static struct event *ev_sig[4], *ev_house;

int lifecycle_reload(char *err, size_t errlen)
{
	struct og_rt *cur = og_daemon_rt(), *nrt;
	struct config *cfg;
	char aerr[256];

	cfg = og_d.config_path
		  ? config_load_file(og_d.config_path, err, errlen)
		  : config_load_string(config_default_yaml, strlen(config_default_yaml),
				       "<embedded>", err, errlen);
	if (!cfg)
		return -EINVAL;
	if (cfg->workers != cur->cfg->workers)
		og_log("warn", "event=reload note=\"workers: %u -> %u takes effect on restart\"",
		       cur->cfg->workers, cfg->workers);
	if (alog_configure(&cfg->access_log, aerr, sizeof(aerr)))
		og_log("error", "event=reload access_log_err=\"%s\"", aerr);
	nrt = rt_new(cfg, cur);
	if (nrt && idem_guard_attach(nrt, cur)) {
		rt_free(nrt); /* frees cfg too */
		snprintf(err, errlen, "%s: out of memory", og_d.config_path);
		return -ENOMEM;
	}
	if (!nrt) {
		config_free(cfg);
		snprintf(err, errlen, "%s: out of memory", og_d.config_path);
		return -ENOMEM;
	}
	fault_ov_resolve(nrt); /* POST /faults overrides follow their route names */
	rt_publish(nrt);
	health_start(og_d.main_base, nrt);
	/* order ports and sources into og_port_lane/og_src_rules, slow loop thresholds; what
	 * needs a restart (xdp:, reserved workers) is logged. <cur> lives until rt_collect. */
	klink_reload(cur->cfg, cfg);
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	char err[512];

	switch (sig) {
	case SIGHUP:
		if (atomic_load(&og_d.draining))
			return;
		if (lifecycle_reload(err, sizeof(err)) == 0) {
			atomic_fetch_add(&og_d.reloads_ok, 1);
			og_log("info", "event=reload status=ok gen=%llu",
			       (unsigned long long)og_daemon_rt()->gen);
		} else {
			atomic_fetch_add(&og_d.reloads_failed, 1);
			og_log("error", "event=reload status=refused err=\"%s\" keeping_gen=%llu",
			       err, (unsigned long long)og_daemon_rt()->gen);
		}
		break;
	case SIGUSR1:
		if (alog_reopen() == 0)
			og_log("info", "event=access_log_reopen status=ok");
		else
			og_log("error", "event=access_log_reopen status=failed");
		break;
	default: {
		uint32_t grace = og_daemon_rt()->cfg->shutdown_grace_ms;

		if (atomic_load(&og_d.draining)) {
			og_log("warn", "event=signal sig=%d note=\"already draining\"", (int)sig);
			return;
		}
		atomic_store(&og_d.drain_deadline_ms, og_now_ms() + grace);
		atomic_store(&og_d.draining, 1);
		health_stop();
		og_log("info", "event=drain sig=%s grace_ms=%u", sig == SIGTERM ? "TERM" : "INT",
		       grace);
	}
	}
}

static void on_house(evutil_socket_t fd, short what, void *arg)
{
	rt_collect(0);
	fault_ov_sweep(og_now_ms());
	if (atomic_load(&og_d.draining) && worker_alive() == 0)
		event_base_loopbreak(og_d.main_base);
}

int lifecycle_run(void)
{
	static const int sigs[4] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	struct timeval tv = {0, 50 * 1000};

	for (int i = 0; i < 4; i++) {
		ev_sig[i] = evsignal_new(og_d.main_base, sigs[i], on_signal, NULL);
		if (!ev_sig[i] || evsignal_add(ev_sig[i], NULL))
			return -ENOMEM;
	}
	ev_house = event_new(og_d.main_base, -1, EV_PERSIST, on_house, NULL);
	if (!ev_house || event_add(ev_house, &tv))
		return -ENOMEM;
	event_base_dispatch(og_d.main_base);
	for (int i = 0; i < 4; i++)
		event_free(ev_sig[i]);
	event_free(ev_house);
	return 0;
}

void lifecycle_enable_migrate(void)
{
	const char *path = "/proc/sys/net/ipv4/tcp_migrate_req";
	char v = '0';
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return;
	if (read(fd, &v, 1) == 1 && v == '0') {
		if (pwrite(fd, "1", 1, 0) == 1)
			og_log("info", "event=sysctl net.ipv4.tcp_migrate_req=1 why=\"a draining "
				       "process hands queued connections to its successor\"");
		else
			og_log("warn", "event=sysctl net.ipv4.tcp_migrate_req=0 note=\"cannot set: "
				       "takeover may reset connections queued at close\"");
	}
	close(fd);
}
