/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internal to the config loader: the YAML node tree with its marks, and the string arena. */
#ifndef OG_CONFIG_INT_H
#define OG_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

enum cfg_ntype { CFG_N_SCALAR, CFG_N_SEQ, CFG_N_MAP };

/*
 * One YAML node. The loader turns libyaml's events into this tree first so the
 * schema walk can look at a whole mapping (duplicates, required keys) and still
 * point at any key or value by its 1-based line and column.
 */
struct cfg_node {
	enum cfg_ntype type;
	int line, col; /* 1-based, where the node starts */
	int plain;     /* scalar written without quotes (so `off` differs from "off") */
	char *s;       /* scalar text, NUL-terminated (may hold NULs: use len) */
	size_t len;
	int n;			/* seq: items; map: pairs */
	struct cfg_node **kids; /* seq: n items; map: 2n nodes, key then value */
};

/* A chain of malloc'd blocks freed together: the config's strings, or a load's nodes. */
struct cfg_blk {
	struct cfg_blk *next;
	char data[];
};

/* Allocate <n> zeroed bytes on the chain <head>; NULL when out of memory. */
void *cfg_alloc(void **head, size_t n);
/* Copy <n> bytes of <s> plus a NUL onto the chain <head>. */
char *cfg_strndup(void **head, const char *s, size_t n);
/* Free every block on the chain <head>. */
void cfg_free_chain(void **head);

/*
 * Parse the YAML text <buf>[0..<len>) into a node tree allocated on <heap>.
 * Returns the root mapping, or NULL with "<name>:L:C: why" in <err> (syntax
 * errors carry libyaml's problem text; aliases, several documents, nesting
 * deeper than 32 and an empty document are refused).
 */
struct cfg_node *cfg_yaml_parse(const char *buf, size_t len, const char *name, void **heap,
				char *err, size_t errlen);

#define CFG_MAX_NAME 64	       /* upstream and route names */
#define CFG_MAX_PATH 4096      /* match.path, path_prefix, health.path */
#define CFG_MS_MAX   86400000u /* longest duration: one day, in ms */

/* One load in progress: where errors go, the config being filled, nodes to look back at. */
struct cfg_ld {
	const char *name; /* file name for messages */
	char *err;
	size_t errlen;
	struct config *c;
	void *heap; /* the node tree; freed when the load ends */
	const struct cfg_node *route_ups[CFG_MAX_ROUTES]; /* "upstream:" values, resolved last */
	const struct cfg_node *route_node[CFG_MAX_ROUTES];
	const struct cfg_node *route_name[CFG_MAX_ROUTES];
	const struct cfg_node *admin_node;
	const struct cfg_node *listen_node[CFG_MAX_LISTEN];
	const struct cfg_node *route_lane[CFG_MAX_ROUTES]; /* "lane:" values, checked last */
	const struct cfg_node *reserve_node;		   /* lanes.order.reserve_workers */
	const struct cfg_node *workers_node;		   /* workers: value, if written */
};

/* A key recognised only to be refused with <why> (a feature that is not built yet). */
struct cfg_refused {
	const char *key;
	const char *why;
};

/*
 * Schema helpers (config_value.c). Each getter checks node <v> for the key
 * named <key>, stores the value (strings on the config's chain) and returns 0,
 * or writes "<file>:L:C: <why>" into the load's error buffer and returns -EINVAL.
 */
int cfg_fail(struct cfg_ld *ld, const struct cfg_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "<file>: out of memory"; returns -ENOMEM. */
int cfg_oom(struct cfg_ld *ld);
/* Copy <n> bytes of <s> onto the config's string chain. */
char *cfg_keep(struct cfg_ld *ld, const char *s, size_t n);
/* 1 for an unquoted empty, "~" or "null" scalar. */
int cfg_is_null(const struct cfg_node *n);
/* 1 for the unquoted scalar <w> (so `off` but not "off"). */
int cfg_is_plain_word(const struct cfg_node *n, const char *w);
/* How <n> reads in a "got ..." phrase: the scalar quoted and cut, or "a list"/"a mapping". */
const char *cfg_got(const struct cfg_node *n, char *buf, size_t len);
/* Index of key node <k> in NULL-terminated <keys>; refused and unknown keys fail (with a
 * suggestion). */
int cfg_key_index(struct cfg_ld *ld, const struct cfg_node *k, const char *const *keys,
		  const struct cfg_refused *ref, const char *where);
/* <n> is a mapping without duplicate keys; <what> names it, <where> says where it sits. */
int cfg_want_map(struct cfg_ld *ld, const struct cfg_node *n, const char *what, const char *where);
int cfg_get_u32(struct cfg_ld *ld, const struct cfg_node *v, const char *key, uint32_t lo,
		uint32_t hi, const char *unit, uint32_t *out);
#define CFG_GET_MS(ld, v, key, lo, hi, out) cfg_get_u32(ld, v, key, lo, hi, " (ms)", out)
int cfg_get_str(struct cfg_ld *ld, const struct cfg_node *v, const char *key, char **out);
/* 1 when <s>[0..<n>) is a non-empty RFC 9110 token. */
int cfg_is_token(const char *s, size_t n);
int cfg_get_name(struct cfg_ld *ld, const struct cfg_node *v, const char *key, char **out);
int cfg_get_field_value(struct cfg_ld *ld, const struct cfg_node *v, const char *key, char **out);
int cfg_get_header_name(struct cfg_ld *ld, const struct cfg_node *v, const char *key, char **out);
int cfg_get_path(struct cfg_ld *ld, const struct cfg_node *v, const char *key, int allow_star,
		 char **out);

/* Addresses (config_addr.c): "host:port", numeric only; <connect> refuses wildcard hosts. */
int cfg_load_trusted(struct cfg_ld *ld, const struct cfg_node *v);
int cfg_get_addr(struct cfg_ld *ld, const struct cfg_node *v, const char *what, int connect,
		 struct cfg_addr *a);
/*
 * "ADDR" or "ADDR/LEN" in the NUL-terminated <buf> (cut at the slash) into <out>; <*max> gets
 * the family's bits (32 or 128). 0, -EINVAL when ADDR is not a numeric IPv4 or IPv6 address,
 * -ERANGE when LEN is not 0 to <*max> in 1 to <digits> digits (config_trust.c).
 */
int cfg_parse_cidr(char *buf, size_t digits, struct cfg_cidr *out, int *max);
/* 1 when listeners on <a> and <b> cannot both bind (same port, same or wildcard address). */
int cfg_addr_clash(const struct cfg_addr *a, const struct cfg_addr *b);

/* true / false (plain YAML booleans). */
int cfg_get_bool(struct cfg_ld *ld, const struct cfg_node *v, const char *key, int *out);
/* A decimal like 0.7 within [<lo>, <hi>]. */
int cfg_get_decimal(struct cfg_ld *ld, const struct cfg_node *v, const char *key, double lo,
		    double hi, double *out);

/* Sections (config_upstream.c, config_route.c, config_lanes.c). */
int cfg_load_lanes(struct cfg_ld *ld, const struct cfg_node *v);
int cfg_load_limits(struct cfg_ld *ld, const struct cfg_node *v);
int cfg_load_xdp(struct cfg_ld *ld, const struct cfg_node *v);
/* Defaults of limits: (also when the section is absent). */
void cfg_limits_defaults(struct cfg_limits *l);
/* After the walk: cross-checks of lanes against workers and routes. */
int cfg_finish_lanes(struct cfg_ld *ld);
int cfg_load_upstreams(struct cfg_ld *ld, const struct cfg_node *v);
int cfg_load_routes(struct cfg_ld *ld, const struct cfg_node *v);
/* After the walk: route names made unique, "upstream:" names resolved to indices. */
int cfg_finish_routes(struct cfg_ld *ld);

#endif /* OG_CONFIG_INT_H */
