// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Table-driven key loader: applies a mapping's keys by their descriptors (config_keys.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config_keys.h"

static int apply(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		 const struct cfg_node *x)
{
	struct cfg_ld *ld = w->ld;
	void *f = cfg_field(w, d);

	switch (d->kind) {
	case CFG_K_U32:
		return cfg_get_u32(ld, x, d->name, d->lo, d->hi, d->unit, f);
	case CFG_K_MS:
		return CFG_GET_MS(ld, x, d->name, d->lo, d->hi, f);
	case CFG_K_DEC:
		return cfg_get_decimal(ld, x, d->name, d->dlo, d->dhi, f);
	case CFG_K_BOOL:
		return cfg_get_bool(ld, x, d->name, f);
	case CFG_K_PATH:
		return cfg_get_path(ld, x, d->name, 0, f);
	case CFG_K_NAME:
		return cfg_get_name(ld, x, d->unit, f);
	case CFG_K_SECT:
		return d->sect(ld, x);
	case CFG_K_FN:
		return d->fn(w, d, k, x);
	}
	return -EINVAL;
}

int cfg_walk_keys(const struct cfg_walk *w, const struct cfg_node *v, const struct cfg_key *keys)
{
	const char *names[CFG_MAX_KEYS + 1];
	int n = 0, r;

	while (keys[n].name && n < CFG_MAX_KEYS) {
		names[n] = keys[n].name;
		n++;
	}
	names[n] = NULL;
	if (keys[n].name) /* a table longer than CFG_MAX_KEYS: a bug, refused, never cut short */
		return cfg_fail(w->ld, v, "internal error: more than %d keys %s", CFG_MAX_KEYS,
				w->where);
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];
		int ki = cfg_key_index(w->ld, k, names, NULL, w->where);

		if (ki < 0)
			return -EINVAL;
		if (w->seen)
			w->seen[ki] = (struct cfg_seen){k, x};
		if ((r = apply(w, &keys[ki], k, x)))
			return r;
	}
	return 0;
}

int cfg_want_part(const struct cfg_walk *w, const struct cfg_node *v, const char *part, char *where,
		  size_t len)
{
	char what[32];

	snprintf(where, len, "in %s of %s", part, w->where + 3);
	snprintf(what, sizeof(what), "\"%s\"", part);
	return cfg_want_map(w->ld, v, what, w->where);
}

struct cfg_seen cfg_seen_key(const struct cfg_seen *seen, const struct cfg_key *keys,
			     const char *name)
{
	for (int i = 0; keys[i].name && i < CFG_MAX_KEYS; i++)
		if (!strcmp(keys[i].name, name))
			return seen[i];
	return (struct cfg_seen){NULL, NULL};
}
