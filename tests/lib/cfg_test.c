// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config test helpers: load YAML text as "cfg.yaml", dump a config to a string. */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_test.h"

struct config *cfg_test_load(const char *yaml, char *err, size_t errlen)
{
	return config_load_string(yaml, strlen(yaml), "cfg.yaml", err, errlen);
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
