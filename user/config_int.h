/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internal to the config loader: the YAML node tree with its marks, and the string arena. */
#ifndef OG_CONFIG_INT_H
#define OG_CONFIG_INT_H

#include <stddef.h>

#include "config.h"

enum cfg_ntype { CFG_N_SCALAR, CFG_N_SEQ, CFG_N_MAP };

/*
 * One YAML node. The loader turns libyaml's events into this tree first so the
 * schema walk can look at a whole mapping (duplicates, required keys) and still
 * point at any key or value by its 1-based line and column.
 */
struct cfg_node {
	enum cfg_ntype type;
	int line, col; /* 1-based, where the node starts */
	int plain; /* scalar written without quotes (so `off` differs from "off") */
	char *s; /* scalar text, NUL-terminated (may hold NULs: use len) */
	size_t len;
	int n; /* seq: items; map: pairs */
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

#endif /* OG_CONFIG_INT_H */
