/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Process lifecycle: signals (TERM/INT drain, HUP reload, USR1 log reopen) on the main loop. */
#ifndef OG_LIFECYCLE_H
#define OG_LIFECYCLE_H

#include <stddef.h>

/* Run the main thread's loop (signals, reload, health checks, runtime collection) until
 * the workers have drained after SIGTERM/SIGINT. Returns 0 on a clean drain. */
int lifecycle_run(void);
/* Re-read the config file and publish it; keeps the running config on error. Returns 0 or
 * -EINVAL with "file:line:column: why" in <err>. Main thread. */
int lifecycle_reload(char *err, size_t errlen);
/* Let a listener closed by a draining process hand its queued connections to its
 * SO_REUSEPORT siblings (net.ipv4.tcp_migrate_req); logs what it did. Main thread. */
void lifecycle_enable_migrate(void);

#endif /* OG_LIFECYCLE_H */
