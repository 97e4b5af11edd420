// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libyaml events -> a small node tree that keeps every node's line and column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/config_int.h"

#define CFG_MAX_DEPTH 32 /* the schema nests 5 deep; more is a mistake or an attack */

void *cfg_alloc(void **head, size_t n)
{
	struct cfg_blk *b = calloc(1, sizeof(*b) + n);

	if (!b)
		return NULL;
	b->next = *head;
	*head = b;
	return b->data;
}

char *cfg_strndup(void **head, const char *s, size_t n)
{
	char *p = cfg_alloc(head, n + 1);

	if (p && n)
		memcpy(p, s, n);
	return p;
}

void cfg_free_chain(void **head)
{
	struct cfg_blk *b = *head, *next;

	for (; b; b = next) {
		next = b->next;
		free(b);
	}
	*head = NULL;
}

struct yp {
	yaml_parser_t p;
	const char *buf;
	size_t len;
	const char *name;
	void **heap;
	char *err;
	size_t errlen;
};

/* Reader errors (bad UTF-8, control bytes) carry a byte offset, not a mark. */
static void offset_to_mark(const struct yp *y, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < y->len; i++) {
		if (y->buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)y->buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static void syntax_error(struct yp *y)
{
	const yaml_parser_t *p = &y->p;
	int line, col;

	if (p->error == YAML_MEMORY_ERROR) {
		snprintf(y->err, y->errlen, "%s: out of memory", y->name);
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		offset_to_mark(y, p->problem_offset, &line, &col);
		snprintf(y->err, y->errlen, "%s:%d:%d: YAML syntax error: %s", y->name, line, col,
			 p->problem ? p->problem : "unreadable input");
		return;
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (p->context)
		snprintf(y->err, y->errlen, "%s:%d:%d: YAML syntax error: %s (%s at %d:%d)",
			 y->name, line, col, p->problem ? p->problem : "invalid YAML", p->context,
			 (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	else
		snprintf(y->err, y->errlen, "%s:%d:%d: YAML syntax error: %s", y->name, line, col,
			 p->problem ? p->problem : "invalid YAML");
}

static int next_event(struct yp *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->p, ev)) {
		syntax_error(y);
		return -1;
	}
	return 0;
}

static void at_error(struct yp *y, const yaml_mark_t *m, const char *what)
{
	snprintf(y->err, y->errlen, "%s:%d:%d: %s", y->name, (int)m->line + 1, (int)m->column + 1,
		 what);
}

static struct cfg_node *new_node(struct yp *y, enum cfg_ntype t, const yaml_mark_t *m)
{
	struct cfg_node *n = cfg_alloc(y->heap, sizeof(*n));

	if (!n) {
		snprintf(y->err, y->errlen, "%s: out of memory", y->name);
		return NULL;
	}
	n->type = t;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

/* Append <k> to <n>'s children, growing the array by doubling on the heap chain. */
static int push_kid(struct yp *y, struct cfg_node *n, int *cap, int used, struct cfg_node *k)
{
	if (used >= *cap) {
		int ncap = *cap ? *cap * 2 : 8;
		struct cfg_node **kids = cfg_alloc(y->heap, sizeof(*kids) * (size_t)ncap);

		if (!kids) {
			snprintf(y->err, y->errlen, "%s: out of memory", y->name);
			return -1;
		}
		if (used)
			memcpy(kids, n->kids, sizeof(*kids) * (size_t)used);
		n->kids = kids;
		*cap = ncap;
	}
	n->kids[used] = k;
	return 0;
}

static struct cfg_node *build(struct yp *y, yaml_event_t *ev, int depth);

/* Consume children until the matching end event; <ev> is the start event (still owned by caller).
 */
static struct cfg_node *build_collection(struct yp *y, yaml_event_t *ev, int depth)
{
	int is_map = ev->type == YAML_MAPPING_START_EVENT;
	yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	struct cfg_node *n = new_node(y, is_map ? CFG_N_MAP : CFG_N_SEQ, &ev->start_mark);
	int cap = 0, used = 0;

	if (!n)
		return NULL;
	if (depth >= CFG_MAX_DEPTH) {
		at_error(y, &ev->start_mark, "nesting is too deep (at most 32 levels)");
		return NULL;
	}
	for (;;) {
		yaml_event_t kev;
		struct cfg_node *k;

		if (next_event(y, &kev))
			return NULL;
		if (kev.type == end) {
			yaml_event_delete(&kev);
			return n;
		}
		k = build(y, &kev, depth + 1);
		yaml_event_delete(&kev);
		if (!k || push_kid(y, n, &cap, used, k))
			return NULL;
		used++;
		n->n = is_map ? used / 2 : used;
	}
}

/* Explicit tags would change a value's meaning (!!binary) behind the schema's back. */
static const yaml_char_t *event_tag(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.tag;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.tag;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.tag;
	default:
		return NULL;
	}
}

static struct cfg_node *build(struct yp *y, yaml_event_t *ev, int depth)
{
	struct cfg_node *n;

	if (event_tag(ev)) {
		at_error(y, &ev->start_mark,
			 "YAML tags (!!str, !foo) are not supported in the config; remove the tag");
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = new_node(y, CFG_N_SCALAR, &ev->start_mark);
		if (!n)
			return NULL;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->len = ev->data.scalar.length;
		n->s = cfg_strndup(y->heap, (const char *)ev->data.scalar.value, n->len);
		if (!n->s) {
			snprintf(y->err, y->errlen, "%s: out of memory", y->name);
			return NULL;
		}
		return n;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return build_collection(y, ev, depth);
	case YAML_ALIAS_EVENT:
		at_error(
		    y, &ev->start_mark,
		    "YAML aliases (*name) are not supported in the config; write the value out");
		return NULL;
	default:
		at_error(y, &ev->start_mark, "unexpected YAML event");
		return NULL;
	}
}

struct cfg_node *cfg_yaml_parse(const char *buf, size_t len, const char *name, void **heap,
				char *err, size_t errlen)
{
	struct yp y = {
	    .buf = buf, .len = len, .name = name, .heap = heap, .err = err, .errlen = errlen};
	struct cfg_node *root = NULL;
	yaml_event_t ev;
	int state = 0; /* 0: before document, 1: root read, 2: after document end */

	if (!yaml_parser_initialize(&y.p)) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, len);
	for (;;) {
		if (next_event(&y, &ev)) {
			root = NULL;
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			if (!root)
				snprintf(err, errlen, "%s:1:1: the config is empty", name);
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT && state == 2) {
			at_error(&y, &ev.start_mark,
				 "only one YAML document is allowed (remove this \"---\")");
			yaml_event_delete(&ev);
			root = NULL;
			break;
		}
		if (ev.type == YAML_DOCUMENT_END_EVENT)
			state = 2;
		if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_ALIAS_EVENT) {
			root = build(&y, &ev, 0);
			state = 1;
			if (!root) {
				yaml_event_delete(&ev);
				break;
			}
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&y.p);
	if (root && root->type == CFG_N_SCALAR && root->plain &&
	    (!root->len || !strcmp(root->s, "~") || !strcmp(root->s, "null"))) {
		snprintf(err, errlen, "%s:1:1: the config is empty", name);
		return NULL;
	}
	return root;
}
