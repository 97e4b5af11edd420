/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Config test helpers: load YAML text as "cfg.yaml", dump a config to a string. */
#ifndef OG_CFG_TEST_H
#define OG_CFG_TEST_H

#include <stddef.h>

#include "config/config.h"

/* config_load_string of <yaml> named "cfg.yaml" (messages read "cfg.yaml:L:C: ..."). */
struct config *cfg_test_load(const char *yaml, char *err, size_t errlen);
/* A config that must not load: the message starts "cfg.yaml:<where>: " and holds <phrase>. */
struct cfg_bad {
	const char *yaml;
	const char *where; /* "L:C" */
	const char *phrase;
};

/* One assertion per entry of <bad>[0..<n>). */
void cfg_test_bad(const struct cfg_bad *bad, size_t n);
/* config_dump of <c> as a malloc'd NUL-terminated string (the caller frees it). */
char *cfg_test_dump(const struct config *c);

#endif /* OG_CFG_TEST_H */
