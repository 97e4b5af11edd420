// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The config ordergated runs with when started without -c FILE. */
#include "config/config.h"

/*
 * Access log off: the default is what `make bench` and a first try run, and a
 * line per request to a terminal is noise there. Workers default to online CPUs.
 */
const char config_default_yaml[] = "# ordergated's embedded default (ordergated with no -c FILE)\n"
				   "listen: [\":8080\"]\n"
				   "admin: { listen: \"127.0.0.1:9901\" }\n"
				   "access_log: off\n"
				   "routes:\n"
				   "  - name: ping\n"
				   "    match: { path: /ping }\n"
				   "    respond: { status: 200, body: \"pong\" }\n";
