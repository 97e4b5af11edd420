// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config "trusted_proxies": the client networks whose X-Forwarded-For is believed. */
#include <arpa/inet.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

int cfg_parse_cidr(char *buf, size_t digits, struct cfg_cidr *out, int *max)
{
	char *slash = strchr(buf, '/');
	unsigned long plen;

	if (slash)
		*slash = 0;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		*max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		*max = 128;
	} else {
		return -EINVAL;
	}
	plen = (unsigned long)*max;
	if (slash) {
		size_t n = strlen(slash + 1);

		if (!n || strspn(slash + 1, "0123456789") != n || n > digits ||
		    (plen = strtoul(slash + 1, NULL, 10)) > (unsigned long)*max)
			return -ERANGE;
	}
	out->prefix_len = (uint8_t)plen;
	return 0;
}

/* "10.0.0.0/8", "::1/128", "192.0.2.7" (one host). */
static int get_cidr(struct cfg_ld *ld, const struct cfg_node *v, struct cfg_cidr *out)
{
	char buf[64], g[64];
	int max;

	if (v->type == CFG_N_SCALAR && v->len && v->len < sizeof(buf)) {
		memcpy(buf, v->s, v->len);
		buf[v->len] = 0;
		if (!cfg_parse_cidr(buf, sizeof(buf), out, &max))
			return 0;
	}
	return cfg_fail(ld, v,
			"\"trusted_proxies\" entries are addresses or networks (\"10.0.0.0/8\", "
			"\"::1/128\"), got %s",
			cfg_got(v, g, sizeof(g)));
}

int cfg_load_trusted(struct cfg_ld *ld, const struct cfg_node *v)
{
	struct config *c = ld->c;
	char g[64];

	if (v->type != CFG_N_SEQ)
		return cfg_fail(ld, v, "\"trusted_proxies\" must be a list of networks, got %s",
				cfg_got(v, g, sizeof(g)));
	if (v->n > CFG_MAX_TRUSTED)
		return cfg_fail(ld, v->kids[CFG_MAX_TRUSTED], "at most %d trusted networks",
				CFG_MAX_TRUSTED);
	for (int i = 0; i < v->n; i++)
		if (get_cidr(ld, v->kids[i], &c->trusted[i]))
			return -EINVAL;
	c->n_trusted = v->n;
	return 0;
}

int cfg_cidr_match(const struct cfg_cidr *n, int family, const void *addr)
{
	const uint8_t *a = addr;
	unsigned bits = n->prefix_len, bytes = bits / 8;

	if (n->family != family)
		return 0;
	if (memcmp(n->addr, a, bytes))
		return 0;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));

		if ((n->addr[bytes] & mask) != (a[bytes] & mask))
			return 0;
	}
	return 1;
}
