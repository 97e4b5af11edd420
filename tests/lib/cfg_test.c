// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config test helpers: load YAML text as "cfg.yaml", dump a config to a string. */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_test.h"
#include "og_test.h"

struct config *cfg_test_load(const char *yaml, char *err, size_t errlen)
{
	return config_load_string(yaml, strlen(yaml), "cfg.yaml", err, errlen);
}

void cfg_test_bad(const struct cfg_bad *bad, size_t n)
{
	char err[512], want[64];

	for (size_t i = 0; i < n; i++) {
		struct config *c = cfg_test_load(bad[i].yaml, err, sizeof(err));

		snprintf(want, sizeof(want), "cfg.yaml:%s: ", bad[i].where);
		if (c) {
			OK(0, "bad config %zu loaded: %s", i + 1, bad[i].yaml);
			config_free(c);
			continue;
		}
		OK(!strncmp(err, want, strlen(want)) && strstr(err, bad[i].phrase),
		   "bad %zu: %s ... %s (got: %s)", i + 1, want, bad[i].phrase, err);
	}
}

char *cfg_test_dump(const struct config *c)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	char *s;

	config_dump(c, b);
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	evbuffer_remove(b, s, n);
	s[n] = 0;
	evbuffer_free(b);
	return s;
}
