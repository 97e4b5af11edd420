// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The config ordergated runs with when started without -c FILE. */
#include "config/config.h"

/*
 * Access log on, to stdout (the daemon's own log is stderr): an order gateway keeps an
 * audit trail unless the operator turns it off, as nginx logs access by default. The
 * benchmarks run their own config with every server's access log off. Workers default to
 * online CPUs.
 */
const char config_default_yaml[] = "# ordergated's embedded default (ordergated with no -c FILE)\n"
				   "listen: [\":8080\"]\n"
				   "admin: { listen: \"127.0.0.1:9901\" }\n"
				   "access_log: { path: stdout }\n"
				   "routes:\n"
				   "  - name: ping\n"
				   "    match: { path: /ping }\n"
				   "    respond: { status: 200, body: \"pong\" }\n";
