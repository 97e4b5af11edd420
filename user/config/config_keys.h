/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Table-driven key loader: one descriptor per key of a config mapping, one walk for them all. */
#ifndef OG_CONFIG_KEYS_H
#define OG_CONFIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config_int.h"

enum cfg_kind {
	CFG_K_U32,  /* cfg_get_u32 into a uint32_t, within [lo, hi], <unit> in the message */
	CFG_K_MS,   /* the same, the unit " (ms)" */
	CFG_K_DEC,  /* cfg_get_decimal into a double, within [dlo, dhi] */
	CFG_K_BOOL, /* cfg_get_bool into an int */
	CFG_K_PATH, /* cfg_get_path into a char * (no "*") */
	CFG_K_NAME, /* cfg_get_name into a char *; <unit> is how messages call the key */
	CFG_K_SECT, /* sect(ld, value): a section loader that needs nothing else */
	CFG_K_FN,   /* fn(walk, descriptor, key node, value node): anything else */
};

struct cfg_key;

/* Where a key of a walk's table was written: its key and value nodes (NULL: not written). */
struct cfg_seen {
	const struct cfg_node *k, *v;
};

/* One walk over a mapping: the struct the offsets point into, and what callbacks may need. */
struct cfg_walk {
	struct cfg_ld *ld;
	void *obj;
	const char *where;     /* "in ...": unknown keys, and the callbacks' own sections */
	struct cfg_seen *seen; /* CFG_MAX_KEYS slots in table order, or NULL: none wanted */
};

typedef int (*cfg_key_fn)(const struct cfg_walk *w, const struct cfg_key *d,
			  const struct cfg_node *k, const struct cfg_node *v);

struct cfg_key {
	const char *name;
	enum cfg_kind kind;
	size_t off; /* of the field in walk->obj (CFG_K_FN: whatever the callback makes of it) */
	uint32_t lo, hi;
	const char *unit;
	double dlo, dhi;
	int (*sect)(struct cfg_ld *ld, const struct cfg_node *v);
	cfg_key_fn fn;
};

/*
 * A route's sections loaded elsewhere, as callbacks of the route's table (w->obj is the route,
 * w->where "in route N"): lane (order|normal|bulk) and limit ({ rps, burst, key }) in
 * config_lanes.c, idempotency and fault (around the upstream exchange) in config_guard.c.
 */
int cfg_load_route_lane(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
			const struct cfg_node *v);
int cfg_load_route_limit(const struct cfg_walk *w, const struct cfg_key *d,
			 const struct cfg_node *k, const struct cfg_node *v);
int cfg_load_idempotency(const struct cfg_walk *w, const struct cfg_key *d,
			 const struct cfg_node *k, const struct cfg_node *v);
int cfg_load_fault(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		   const struct cfg_node *v);

/* Table rows; <T> is the type walk->obj points to. */
// clang-format off
#define CFG_U32(T, key, field, lo, hi, unit) {key, CFG_K_U32, offsetof(T, field), lo, hi, unit}
#define CFG_MS(T, key, field, lo, hi)	     {key, CFG_K_MS, offsetof(T, field), lo, hi, " (ms)"}
#define CFG_DEC(T, key, field, lo, hi)	     {key, CFG_K_DEC, offsetof(T, field), .dlo = lo, .dhi = hi}
#define CFG_BOOL(T, key, field)		     {key, CFG_K_BOOL, offsetof(T, field)}
#define CFG_PATH(T, key, field)		     {key, CFG_K_PATH, offsetof(T, field)}
#define CFG_NAME(T, key, field, as)	     {key, CFG_K_NAME, offsetof(T, field), .unit = as}
#define CFG_SECT(key, f)		     {key, CFG_K_SECT, .sect = f}
#define CFG_FN(key, f)			     {key, CFG_K_FN, .fn = f}
#define CFG_FN_AT(T, key, field, f)	     {key, CFG_K_FN, offsetof(T, field), .fn = f}
/* A callback row with bounds and a unit for the callback to use (d->lo, d->hi, d->unit). */
#define CFG_FN_U32(T, key, field, lo, hi, unit, f)                                                 \
	{key, CFG_K_FN, offsetof(T, field), lo, hi, unit, .fn = f}
#define CFG_KEYS_END {NULL}
// clang-format on

/* Most keys in one table (the largest, the top level, has 18); a longer table fails loads. */
#define CFG_MAX_KEYS 24

/*
 * Walk mapping <v> (already checked by cfg_want_map) in document order: each key is looked up
 * in <keys> (NULL-named row last; unknown keys fail as cfg_key_index says, naming w->where)
 * and its value applied by its row. Returns 0, or the first failure.
 */
int cfg_walk_keys(const struct cfg_walk *w, const struct cfg_node *v, const struct cfg_key *keys);

/*
 * Section <part> of the thing walk <w> is in (w->where "in route 2"): <v> must be a mapping
 * (cfg_want_map, named "\"<part>\"" and placed at w->where); <where> gets "in <part> of
 * route 2" for the section's own walk. Returns 0 or the failure.
 */
int cfg_want_part(const struct cfg_walk *w, const struct cfg_node *v, const char *part, char *where,
		  size_t len);

/* What a walk with <seen> found for key <name> of <keys>: {NULL, NULL} when not written. */
struct cfg_seen cfg_seen_key(const struct cfg_seen *seen, const struct cfg_key *keys,
			     const char *name);

/* The field of walk <w> that row <d> points to. */
static inline void *cfg_field(const struct cfg_walk *w, const struct cfg_key *d)
{
	return (char *)w->obj + d->off;
}

#endif /* OG_CONFIG_KEYS_H */
